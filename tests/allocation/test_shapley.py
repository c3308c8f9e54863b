"""Shapley values: each method against brute force, the grid's stated error, the sampler's
standard error, and the invariants (efficiency, symmetry, relabelling), on the real pool costs."""

from __future__ import annotations

from functools import cache
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import model.allocation.shapley as shapley_module
from model.allocation import shapley_values
from model.allocation.examples import pool_cost
from model.allocation.shapley import DP_RELATIVE_ERROR
from model.costs import POOLS, pool_params
from model.data.assumptions import assumption_values, load_assumptions
from model.scenario import Scenario

BLOIS = "200030385"  # CA de Blois « Agglopolys », 43 communes


@cache
def params():
    return pool_params(assumption_values(load_assumptions()))


@cache
def real_drivers(siren: str) -> pd.DataFrame:
    """Drivers of every pool as the projection estimates them (commune x driver column)."""
    return Scenario(epci=siren).resolve().communes.values


def heterogeneous(n: int, seed: int) -> pd.Series:
    """Non-integer drivers from a fraction of a poste to a ville-centre's hundreds."""
    rng = np.random.default_rng(seed)
    d = rng.lognormal(1.0, 1.3, n)
    d[0] *= 20  # one large commune, as in most EPCIs
    return pd.Series(d, index=[f"{41000 + i:05d}" for i in range(n)])


def brute_force(d: pd.Series, cost) -> np.ndarray:
    """The textbook definition: weighted marginal cost over every coalition without i."""
    x = d.to_numpy(dtype=float)
    n = len(x)

    def c(members):
        if not members:
            return 0.0
        return float(cost(np.array([x[list(members)].sum()]), np.array([len(members)]))[0])

    out = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for k in range(n):
            w = factorial(k) * factorial(n - k - 1) / factorial(n)
            for s in combinations(others, k):
                out[i] += w * (c((*s, i)) - c(s))
    return out


def grand(d: pd.Series, cost) -> float:
    return float(cost(np.array([d.sum()]), np.array([len(d)]))[0])


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("seed", [1, 2])
def test_every_method_against_brute_force(pool, seed):
    d = heterogeneous(8, seed)
    cost = params()[pool].cost
    truth = brute_force(d, cost)
    exact = shapley_values(d, cost)
    assert exact.attrs["method"] == "exact"
    assert exact.to_numpy() == pytest.approx(truth, rel=1e-10)
    assert (exact.attrs["stderr_eur"] == 0).all()
    dp = shapley_values(d, cost, exact_max=0)
    assert dp.attrs["method"] == "dp"
    assert (np.abs(dp.to_numpy() - truth) <= dp.attrs["stderr_eur"].to_numpy()).all()
    sampled = shapley_values(d, cost, exact_max=0, dp_max=0, samples=4000)
    assert sampled.attrs["method"] == "sampled"
    assert (np.abs(sampled.to_numpy() - truth) <= 4 * sampled.attrs["stderr_eur"] + 1e-6).all()


def test_dp_agrees_with_enumeration_n18_real_drivers():
    """The first 18 communes of Agglopolys (Blois and 17 villages), every pool."""
    communes = real_drivers(BLOIS).iloc[:18]
    for pool, pp in params().items():
        d = communes[pp.driver]
        exact = shapley_values(d, pp.cost, exact_max=18)
        dp = shapley_values(d, pp.cost, exact_max=17)
        assert (exact.attrs["method"], dp.attrs["method"]) == ("exact", "dp")
        err = np.abs(dp - exact)
        assert (err <= dp.attrs["stderr_eur"]).all(), pool
        assert (err / exact).max() < DP_RELATIVE_ERROR
        assert dp.attrs["grid_step"] > 0


def test_dp_agrees_with_enumeration_n18_random():
    for seed, pool in enumerate(POOLS):
        d = heterogeneous(18, seed)
        cost = params()[pool].cost
        exact = shapley_values(d, cost)
        dp = shapley_values(d, cost, exact_max=0)
        assert (np.abs(dp - exact) <= dp.attrs["stderr_eur"]).all(), pool


def test_dp_is_exact_on_whole_drivers():
    """Postes counted one by one: the grid is the integers and nothing is rounded."""
    rng = np.random.default_rng(5)
    d = pd.Series(rng.integers(0, 60, 16).astype(float))
    d.iloc[0] = 400.0
    for pp in params().values():
        exact = shapley_values(d, pp.cost)
        dp = shapley_values(d, pp.cost, exact_max=0)
        assert dp.attrs["grid_step"] == 1.0
        assert (dp.attrs["stderr_eur"] == 0).all()
        assert dp.to_numpy() == pytest.approx(exact.to_numpy(), rel=1e-9, abs=1e-6)


def test_quadrature_with_fewer_nodes_matches_the_exact_rule(monkeypatch):
    """From 25 communes the dp uses ~1.6 sqrt(n) Gauss nodes, not the exact ceil(n/2)."""
    d = real_drivers(BLOIS)["workstations"].to_numpy()
    cost = params()["dsi"].cost
    shapley_module._laws.cache_clear()
    fast = shapley_module._dp(d, cost, 512)[0]

    def exact_nodes(n):
        m = (n + 1) // 2 + (n + 1) // 2 % 2
        x, w = np.polynomial.legendre.leggauss(m)
        return (x + 1) / 2, w / 2

    assert len(exact_nodes(len(d))[0]) > len(shapley_module._nodes(len(d))[0])
    monkeypatch.setattr(shapley_module, "_nodes", exact_nodes)
    shapley_module._laws.cache_clear()  # the laws are cached by drivers, not by nodes
    try:
        slow = shapley_module._dp(d, cost, 512)[0]
    finally:
        shapley_module._laws.cache_clear()
    assert np.abs(fast - slow).max() > 0  # not the cached laws
    assert fast == pytest.approx(slow, rel=1e-6)


def test_sampler_stderr_covers_the_truth_n25():
    """Whole drivers: the dp is exact at n = 25 and gives the truth the sampler is judged by."""
    rng = np.random.default_rng(11)
    d = pd.Series(np.round(rng.lognormal(1.5, 1.0, 25)))
    z = []
    for pp in params().values():
        truth = shapley_values(d, pp.cost)
        assert truth.attrs["method"] == "dp" and (truth.attrs["stderr_eur"] <= 1e-6 * truth).all()
        for seed in range(3):
            est = shapley_values(d, pp.cost, dp_max=0, samples=2000, seed=seed)
            se = est.attrs["stderr_eur"]
            assert est.attrs["method"] == "sampled"
            assert (se > 0).all() and (se < 0.02 * truth).all()
            z.append(((est - truth) / se).to_numpy())
    z = np.concatenate(z)  # 300 standardised errors
    assert np.mean(np.abs(z) < 2) > 0.88  # ~95 % if the stated error is right
    assert 0.5 < np.mean(z**2) < 1.6
    assert np.abs(z).max() < 5


@pytest.mark.parametrize("kw", [{}, {"exact_max": 0}, {"exact_max": 0, "dp_max": 0}])
def test_efficiency(kw):
    for n, seed in [(9, 0), (30, 1)]:
        d = heterogeneous(n, seed)
        for pp in params().values():
            phi = shapley_values(d, pp.cost, **kw)
            assert phi.sum() == pytest.approx(grand(d, pp.cost), rel=1e-12)


@pytest.mark.parametrize("kw", [{}, {"exact_max": 0}])
def test_symmetry(kw):
    d = pd.Series([3.0, 3.0, 3.0, 250.0, 0.4, 17.5, 17.5], index=list("abcdefg"))
    for pp in params().values():
        phi = shapley_values(d, pp.cost, **kw)
        assert phi["a"] == pytest.approx(phi["b"], rel=1e-9)
        assert phi["b"] == pytest.approx(phi["c"], rel=1e-9)
        assert phi["f"] == pytest.approx(phi["g"], rel=1e-9)
        assert phi["e"] < phi["a"] < phi["f"] < phi["d"]


def test_all_equal_drivers_split_evenly():
    d = pd.Series(np.full(50, 4.2))
    phi = shapley_values(d, params()["dpo"].cost)
    assert phi.attrs["method"] == "exact"
    assert phi.to_numpy() == pytest.approx(np.full(50, grand(d, params()["dpo"].cost) / 50))


@st.composite
def games(draw):
    n = draw(st.integers(2, 9))
    drivers = draw(st.lists(st.floats(0.0, 500.0, allow_nan=False), min_size=n, max_size=n))
    pool = draw(st.sampled_from(POOLS))
    order = draw(st.permutations(range(n)))
    return pd.Series(drivers, index=[f"c{i}" for i in range(n)]), pool, list(order)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(games(), st.sampled_from([{}, {"exact_max": 0}]))
def test_invariants(game, kw):
    """Efficiency, relabelling (values follow their commune) and the desirability order (a
    larger driver never pays less, the cost being non-decreasing) for exact and dp."""
    d, pool, order = game
    cost = params()[pool].cost
    phi = shapley_values(d, cost, **kw)
    assert phi.sum() == pytest.approx(grand(d, cost), rel=1e-9)
    moved = shapley_values(d.iloc[order], cost, **kw)
    pd.testing.assert_series_equal(moved.reindex(d.index), phi, rtol=1e-7, atol=1e-6)
    tol = phi.attrs["stderr_eur"].to_numpy() + 1e-6
    x, v = d.to_numpy(), phi.to_numpy()
    lower = x[:, None] < x[None, :]
    assert (v[:, None] <= v[None, :] + tol[:, None] + tol[None, :])[lower].all()


def fixed_plus_sum(f, a):
    return lambda t, s: np.where(s > 0, f + a * t, 0.0)


@pytest.mark.parametrize("kw", [{}, {"exact_max": 0}])
def test_fixed_plus_additive_exact(kw):
    """C(S) = F + a sum_S q: Shapley = F/n + a q_i, exactly (the dp: whatever the grid)."""
    f, a, n = 9_000.0, 3.5, 30
    d = heterogeneous(n, 5)
    phi = shapley_values(d, fixed_plus_sum(f, a), **kw)
    assert phi.to_numpy() == pytest.approx(f / n + a * d.to_numpy(), rel=1e-9)


def test_fixed_plus_additive_sampled():
    """Sampled: the stand-alone coalitions are summed exactly; the rest within its error."""
    f, a, n = 9_000.0, 3.5, 30
    d = heterogeneous(n, 5)
    phi = shapley_values(d, fixed_plus_sum(f, a), exact_max=0, dp_max=0)
    err = np.abs(phi.to_numpy() - (f / n + a * d.to_numpy()))
    assert (err <= 4 * phi.attrs["stderr_eur"].to_numpy() + 1e-9).all()
    assert err.max() < 0.05 * f / n


def test_size_dependent_cost_is_sampled():
    """A cost that uses |S| beyond emptiness leaves the dp for the sampler, still within its
    stated error of the enumeration."""

    def per_member(t, s):
        return np.where(s > 0, 1_000.0 * np.sqrt(s) + t, 0.0)

    assert shapley_values(heterogeneous(25, 3), per_member).attrs["method"] == "sampled"
    d = heterogeneous(12, 3)
    truth = shapley_values(d, per_member)
    est = shapley_values(d, per_member, exact_max=0)
    assert (truth.attrs["method"], est.attrs["method"]) == ("exact", "sampled")
    assert (np.abs(est - truth) <= 4 * est.attrs["stderr_eur"] + 1e-9).all()


def test_sampled_is_reproducible_and_positional_call_still_works():
    d = heterogeneous(20, 4)
    fn = lambda t, s: pool_cost("dsi", np.where(s > 0, t, 0.0))  # noqa: E731
    one = shapley_values(d, fn, 12, 200, 4, dp_max=0)
    two = shapley_values(d, fn, 12, 200, 4, dp_max=0)
    pd.testing.assert_series_equal(one, two)
    pd.testing.assert_series_equal(one.attrs["stderr_eur"], two.attrs["stderr_eur"])
    assert one.name == "shapley_eur" and one.index.equals(d.index)


def test_empty_and_single():
    empty = shapley_values(pd.Series([], dtype=float), params()["dsi"].cost)
    assert empty.empty and empty.attrs["method"] == "exact"
    one = shapley_values(pd.Series([7.0], index=["x"]), params()["dsi"].cost)
    assert one["x"] == pytest.approx(grand(pd.Series([7.0]), params()["dsi"].cost))
