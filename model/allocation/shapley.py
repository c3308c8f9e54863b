"""Shapley values of a cost game whose coalition cost depends on total driver and size."""

from __future__ import annotations

from collections.abc import Callable
from math import factorial

import numpy as np
import pandas as pd

CostFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _costs(cost_fn: CostFn, total: np.ndarray, size: np.ndarray) -> np.ndarray:
    out = np.asarray(cost_fn(total.astype(float), size.astype(np.int64)), dtype=float)
    return np.where(size == 0, 0.0, out)


def shapley_values(
    drivers: pd.Series,
    cost_fn: CostFn,
    exact_max: int = 12,
    samples: int = 2000,
    seed: int = 0,
) -> pd.Series:
    """Shapley value of each commune in the game ``C(S) = cost_fn(sum_{i in S} d_i, |S|)``.

    Exact (all ``2^n`` coalitions) when ``n <= exact_max``; otherwise the mean marginal cost
    over ``samples`` random permutations drawn with ``seed``. Either way the values sum exactly
    (up to float rounding) to ``cost_fn(sum d, n)``: in the sampled case the float residual of
    the mean is spread evenly.
    """
    d = drivers.to_numpy(dtype=float)
    n = len(d)
    if n == 0:
        return drivers.astype(float)
    if n <= exact_max:
        values = _exact(d, cost_fn)
    else:
        values = _sampled(d, cost_fn, samples, seed)
    grand = float(_costs(cost_fn, np.array([d.sum()]), np.array([n]))[0])
    values += (grand - values.sum()) / n
    return pd.Series(values, index=drivers.index, name="shapley_eur")


def _exact(d: np.ndarray, cost_fn: CostFn) -> np.ndarray:
    n = len(d)
    masks = np.arange(1 << n, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
    size = bits.sum(axis=1)
    value = _costs(cost_fn, bits @ d, size)
    fact = np.array([factorial(k) for k in range(n + 1)], dtype=float)
    weight = fact[size] * fact[n - size - 1].clip(min=0) / fact[n]  # used for S without i
    out = np.empty(n)
    for i in range(n):
        without = ~bits[:, i]
        s = masks[without]
        out[i] = np.sum(weight[without] * (value[s | (1 << i)] - value[s]))
    return out


def _sampled(d: np.ndarray, cost_fn: CostFn, samples: int, seed: int) -> np.ndarray:
    n = len(d)
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.tile(np.arange(n), (samples, 1)), axis=1)
    totals = np.cumsum(d[perms], axis=1)
    sizes = np.broadcast_to(np.arange(1, n + 1), perms.shape)
    cost = _costs(cost_fn, totals.ravel(), sizes.ravel()).reshape(perms.shape)
    marginal = np.diff(cost, axis=1, prepend=0.0)
    out = np.zeros(n)
    np.add.at(out, perms.ravel(), marginal.ravel())
    return out / samples
