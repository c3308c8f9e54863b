"""Shared fixtures: real EPCIs from the bundled data, the default assumptions."""

import pytest

from model.data.assumptions import assumption_values, load_assumptions
from model.data.bundled import epci_catalog, load_epci

AGGLOPOLYS = "200030385"       # CA de Blois "Agglopolys": 43 communes, 106,574 hab
BEAUCE = "200035764"           # CC de la Beauce Loirétaine: 23 communes, 16,991 hab


@pytest.fixture(scope="session")
def values():
    return assumption_values(load_assumptions())


@pytest.fixture(scope="session")
def agglopolys():
    return load_epci(AGGLOPOLYS)


@pytest.fixture(scope="session")
def beauce():
    return load_epci(BEAUCE)


@pytest.fixture(scope="session")
def largest_epci_siren():
    """The CC or CA with the most communes (158)."""
    cat = epci_catalog()
    small = cat[cat["epci_type"].isin(["CC", "CA"])]
    return small["nb_communes"].idxmax()


@pytest.fixture(scope="session")
def smallest_epci_siren():
    cat = epci_catalog()
    return cat["nb_communes"].idxmin()
