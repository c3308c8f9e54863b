"""Shapley values: exact vs sampled, efficiency, symmetry, the additive case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.allocation import shapley_values
from model.allocation.examples import pool_cost


def concave(total, size):
    return np.where(size > 0, 5_000.0 + 40.0 * total**0.8, 0.0)


def drivers(n, seed=1):
    rng = np.random.default_rng(seed)
    return pd.Series(rng.uniform(100, 20_000, n), index=[f"{i:05d}" for i in range(n)])


def test_exact_and_sampled_agree_n8():
    d = drivers(8)
    exact = shapley_values(d, concave, exact_max=12)
    sampled = shapley_values(d, concave, exact_max=0, samples=4000, seed=3)
    assert np.abs(sampled - exact).max() <= 0.02 * exact.max()


def test_efficiency_exact_and_sampled():
    for d, kw in [(drivers(10), {}), (drivers(40), {"samples": 300})]:
        phi = shapley_values(d, concave, **kw)
        grand = concave(np.array([d.sum()]), np.array([len(d)]))[0]
        assert phi.sum() == pytest.approx(grand, rel=1e-12)


def test_symmetry():
    d = pd.Series([300.0, 300.0, 300.0, 5000.0, 12.0], index=list("abcde"))
    phi = shapley_values(d, concave)
    assert phi["a"] == pytest.approx(phi["b"], rel=1e-12)
    assert phi["b"] == pytest.approx(phi["c"], rel=1e-12)
    assert phi["e"] < phi["a"] < phi["d"]


def fixed_plus_sum(f, a):
    return lambda t, s: np.where(s > 0, f + a * t, 0.0)


def test_fixed_plus_additive_exact():
    """C(S) = F + a * sum_S q: Shapley = F/n + a q_i."""
    f, a, n = 9_000.0, 3.5, 7
    d = drivers(n, seed=5)
    phi = shapley_values(d, fixed_plus_sum(f, a))
    assert phi.to_numpy() == pytest.approx(f / n + a * d.to_numpy(), rel=1e-12)


def test_fixed_plus_additive_sampled():
    """Sampled: the additive part is exact, F goes to the first arrival (F/n on average)."""
    f, a, n = 9_000.0, 3.5, 30
    d = drivers(n, seed=5)
    phi = shapley_values(d, fixed_plus_sum(f, a), exact_max=12, samples=2000)
    fixed_part = phi.to_numpy() - a * d.to_numpy()
    assert fixed_part.sum() == pytest.approx(f, rel=1e-9)
    assert fixed_part.min() >= -1e-6
    assert np.abs(fixed_part - f / n).max() <= 0.5 * f / n


def test_sampled_is_reproducible():
    d = drivers(20)
    fn = lambda t, s: pool_cost("dsi", np.where(s > 0, t, 0.0))  # noqa: E731
    one = shapley_values(d, fn, samples=200, seed=4)
    two = shapley_values(d, fn, samples=200, seed=4)
    pd.testing.assert_series_equal(one, two)
