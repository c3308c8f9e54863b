"""Classic allocation keys."""

from __future__ import annotations

import pandas as pd
import pytest

from model.errors import InputError
from model.keys import KEYS, equal_key, population_key, weighted_key

POOLS = ["dsi", "dpo", "archivage", "licences"]


@pytest.fixture
def table(beauce):
    pop = pd.Series([1000.0, 3000.0, 6000.0], index=pd.Index(["45001", "45002", "45003"], name="commune"))
    return pd.DataFrame({"population": pop, "potentiel_financier_eur": pop * 800,
                         "agents": [2.0, 5.0, 13.0], "workstations": [3.0, 6.0, 11.0]})


@pytest.mark.parametrize("name", list(KEYS))
def test_every_key_sums_to_one_per_pool(table, name):
    shares = KEYS[name](table, POOLS)
    assert list(shares.columns) == POOLS
    assert shares.index.equals(table.index)
    assert shares.sum().to_numpy() == pytest.approx(1.0)
    assert (shares >= 0).all().all()


def test_population_and_equal(table):
    assert population_key(table, ["dsi"])["dsi"].tolist() == pytest.approx([0.1, 0.3, 0.6])
    assert equal_key(table, ["dsi"])["dsi"].tolist() == pytest.approx([1 / 3] * 3)


def test_weighted_key_mixes_fixed_and_usage(table):
    shares = weighted_key(table, ["dsi", "dpo"], fixed_part=0.3, fixed_key="equal",
                          usage_key={"dsi": "workstations", "dpo": "agents"})
    assert shares.loc["45003", "dsi"] == pytest.approx(0.3 / 3 + 0.7 * 11 / 20)
    assert shares.loc["45003", "dpo"] == pytest.approx(0.3 / 3 + 0.7 * 13 / 20)


def test_bad_key_inputs(table):
    with pytest.raises(InputError):
        weighted_key(table, POOLS, fixed_part=1.5, fixed_key="equal", usage_key="workstations")
    with pytest.raises(InputError):
        weighted_key(table, POOLS, fixed_part=0.3, fixed_key="nope", usage_key="workstations")
    with pytest.raises(InputError):
        KEYS["agents"](table.drop(columns="agents"), POOLS)
