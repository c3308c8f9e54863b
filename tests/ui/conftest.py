"""Fixtures of the presentation layer: one cached simulation of a small real EPCI per session."""

from pathlib import Path

import pytest

from model.scenario import Scenario
from model.ui.views import Simulation

ROOT = Path(__file__).resolve().parents[2]
BEAUCE_YAML = ROOT / "data" / "scenarios" / "beauce_loiretaine.yaml"


@pytest.fixture(scope="session")
def sim():
    """Shared across the UI tests so that each LP-relevant scenario is solved once."""
    return Simulation(max_cached=8)


@pytest.fixture(scope="session")
def beauce_scenario():
    return Scenario.from_yaml(BEAUCE_YAML)


@pytest.fixture(scope="session")
def beauce_view(sim, beauce_scenario):
    return sim.view(beauce_scenario)
