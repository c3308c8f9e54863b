"""Cost pools: subadditivity, monotonicity, growth, overrides, on real EPCIs."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.costs import POOLS, PoolParams, pool_costs, pool_params
from model.data.assumptions import apply_overrides, assumption_values, load_assumptions
from model.data.estimate import complete_communes


@pytest.fixture(scope="module")
def agglo_table(agglopolys, values):
    given_ = agglopolys.communes[["name", "population"]].astype({"population": float})
    return complete_communes(given_, values).values


@pytest.fixture(scope="module")
def params(values):
    return pool_params(values)


def test_pooling_saves_on_every_pool(agglo_table, params):
    costs = pool_costs(agglo_table, params)
    assert (costs.pooled < costs.standalone.sum()).all()
    assert (costs.savings > 0).all()
    # economies of scale are real but bounded: the floor price limits the saving
    for pool, pp in params.items():
        floor = pp.floor_share * pp.unit * agglo_table[pp.driver].sum()
        assert costs.pooled[pool] >= floor


def test_incremental_never_exceeds_standalone(agglo_table, params):
    costs = pool_costs(agglo_table, params)
    assert (costs.incremental <= costs.standalone + 1e-9).all().all()
    assert (costs.incremental >= 0).all().all()
    assert (costs.incremental.sum() <= costs.pooled + 1e-6).all()


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_subadditive_on_random_partitions(data, agglo_table, params):
    """C(S u T) <= C(S) + C(T) for random disjoint groups of Agglopolys communes."""
    n = len(agglo_table)
    labels = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    labels = np.array(labels)
    for pp in params.values():
        q = agglo_table[pp.driver].to_numpy()
        s, t = labels == 0, labels == 1
        union = s | t
        c_union = pp.cost(q[union].sum(), union.sum())
        assert c_union <= pp.cost(q[s].sum(), s.sum()) + pp.cost(q[t].sum(), t.sum()) + 1e-9


@settings(max_examples=100, deadline=None)
@given(pool=st.sampled_from(POOLS), a=st.floats(0, 1e5), b=st.floats(0, 1e5))
def test_cost_is_monotone_in_volume(values, pool, a, b):
    pp = PoolParams.from_values(pool, values)
    lo, hi = sorted((a, b))
    assert pp.cost(lo) <= pp.cost(hi) + 1e-9


def test_unit_price_falls_with_volume_down_to_floor(params):
    pp = params["dsi"]
    q = np.array([1.0, pp.ref_volume, 10 * pp.ref_volume, 1e6])
    unit_price = pp.cost(q) / q
    assert np.all(np.diff(unit_price[1:]) <= 1e-9)
    assert unit_price[-1] == pytest.approx(pp.floor_share * pp.unit)


def test_empty_group_costs_nothing(params):
    assert params["dpo"].cost(0.0, 0) == 0.0
    assert params["dpo"].cost(0.0, 1) == params["dpo"].min_price


def test_growth_compounds_and_saas_jump_applies_once(params):
    assert params["licences"].saas_jump_year is None  # a variant, not the central path
    pp = replace(params["licences"], saas_jump_year=2028)
    idx = pp.growth_index(range(2026, 2033), 2026)
    jump = 1 + pp.saas_share * pp.saas_jump
    assert idx[2026] == 1.0
    assert idx[2027] == pytest.approx(1 + pp.growth)
    assert idx[2028] == pytest.approx((1 + pp.growth) ** 2 * jump)
    assert idx[2032] == pytest.approx((1 + pp.growth) ** 6 * jump)
    dsi = params["dsi"].growth_index(range(2026, 2033), 2026)
    assert dsi[2032] == pytest.approx((1 + params["dsi"].growth) ** 6)


def test_scaled_costs_follow_the_index(agglo_table, params):
    costs = pool_costs(agglo_table, params)
    factor = pd.Series({"dsi": 1.1, "dpo": 1.0, "archivage": 2.0, "licences": 1.5})
    scaled = costs.scaled(factor)
    assert scaled.pooled["archivage"] == pytest.approx(2 * costs.pooled["archivage"])
    assert (scaled.usage_share == costs.usage_share).all().all()


def test_overrides_take_effect(agglo_table):
    tree = apply_overrides(load_assumptions(), {"dsi": {"unit": 5040}})
    doubled = pool_params(assumption_values(tree))["dsi"]
    base = pool_params(assumption_values(load_assumptions()))["dsi"]
    q = agglo_table["workstations"]
    assert doubled.cost(q.sum(), len(q)) == pytest.approx(2 * base.cost(q.sum(), len(q)))


def test_usage_share_sums_to_one(agglo_table, params):
    costs = pool_costs(agglo_table, params)
    assert np.allclose(costs.usage_share.sum(), 1.0)


def test_cost_per_inhabitant_is_plausible(agglo_table, params, agglopolys):
    """Stand-alone digital cost lands near the national IT share (1.9 % of ~1,265 €/hab)."""
    costs = pool_costs(agglo_table, params)
    per_hab = costs.standalone.sum().sum() / agglopolys.population
    assert 10 < per_hab < 60
