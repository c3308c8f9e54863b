"""Property tests: random valid (feasible by construction) inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import assert_feasible, linprog_t
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.allocation import AllocationInputs, allocate_lp, largest_remainder, split_by_key

POOLS = ["dsi", "dpo", "archivage", "licences"]


@st.composite
def feasible_inputs(draw) -> AllocationInputs:
    """Inputs for which the usage-key split x0 = k T satisfies every constraint."""
    n = draw(st.integers(2, 9))
    m = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    communes = pd.Index([f"{41000 + i:05d}" for i in range(n)], name="commune")
    pools = pd.Index(POOLS[:m], name="pool")
    to_split = pd.Series(rng.uniform(1e3, 5e6, m), index=pools)
    k = rng.uniform(0.01, 1.0, (n, m))
    k /= k.sum(axis=0)
    x0 = k * to_split.to_numpy()
    sa = x0 * (1 + rng.uniform(0, 2, (n, 1)))  # per commune, above the usage split
    inc = x0 * rng.uniform(0, 1, (n, 1))
    lo = draw(st.floats(0.0, 1.0))
    hi = draw(st.floats(1.0, 3.0))
    cap = x0.sum(axis=1) * rng.uniform(5, 500, n)
    frame = lambda a: pd.DataFrame(a, index=communes, columns=pools)  # noqa: E731
    return AllocationInputs(to_split, frame(sa), frame(inc), frame(k), pd.Series(cap, communes),
                            band=(lo, hi))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feasible_inputs())
def test_random_feasible_inputs(inputs):
    result = allocate_lp(inputs)
    assert result.status == "optimal"
    assert_feasible(inputs, result.amounts)
    assert result.max_burden == pytest.approx(linprog_t(inputs), rel=1e-6, abs=1e-12)
    x0 = inputs.usage_share.mul(inputs.to_split, axis=1).sum(axis=1)
    assert result.max_burden <= (x0 / inputs.capacity).max() * (1 + 1e-9)


@settings(max_examples=15, deadline=None)
@given(feasible_inputs())
def test_random_inputs_paths_agree(inputs):
    fast = allocate_lp(inputs)
    other = allocate_lp(inputs, solver="pulp-highs")
    assert other.max_burden == pytest.approx(fast.max_burden, rel=1e-6)
    assert (np.abs(other.raw - fast.raw) <= 1e-6 * inputs.to_split).all().all()


@given(
    st.lists(st.floats(0, 1e7, allow_nan=False), min_size=1, max_size=60),
    st.integers(-500, 500),
)
def test_largest_remainder_sums_exactly(values, shift):
    amounts = pd.Series(values, index=[f"c{i}" for i in range(len(values))])
    total = int(round(sum(values) * 100)) + shift
    total = max(total, 0)
    out = largest_remainder(amounts, total)
    got = np.round(out.to_numpy() * 100).astype(np.int64)
    assert got.sum() == total
    assert np.abs(got - amounts.to_numpy() * 100).max() <= 1 + abs(shift) / len(values) + 1e-6
    if shift == 0:
        assert (np.abs(out - amounts) < 0.01 + 1e-9).all()


@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=30), st.floats(0, 1e8))
def test_split_by_key_balances(weights, amount):
    w = np.asarray(weights) + 1e-3
    shares = pd.DataFrame({"dsi": w / w.sum(), "dpo": w[::-1] / w.sum()},
                          index=[f"{i:05d}" for i in range(len(w))])
    to_split = pd.Series({"dsi": amount, "dpo": amount / 3})
    out = split_by_key(to_split, shares)
    for pool in to_split.index:
        assert np.round(out[pool] * 100).astype(np.int64).sum() == round(to_split[pool] * 100)
