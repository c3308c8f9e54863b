"""Shapley values of a cost game whose coalition cost depends on total driver and size.

The game is ``C(S) = cost_fn(Q_S, |S|)`` with ``Q_S = sum_{i in S} d_i`` and ``C(empty) = 0``;
``phi_i = sum_{S without i} |S|! (n-|S|-1)! / n! (C(S + i) - C(S))``. Three methods, chosen by the
number of communes ``n`` and reported in ``result.attrs["method"]``, each with its error in
``result.attrs["stderr_eur"]`` (a Series, euros), so that a caller can write « valeur de Shapley
estimée à ± X € près »:

``exact`` (``n <= exact_max``, 18 by default). Every coalition, vectorised by size:
    ``phi_i = sum_{S with i} w(|S|-1) C(S) - sum_{S without i} w(|S|) C(S)``, ``w(k) =
    k!(n-k-1)!/n!``; the sums "over S with i" for all ``i`` cost ``2^(n+1)`` additions by halving
    the mask array. 0.2 ms per pool at 12 communes, ~12 ms at 18, ~28 ms at 20 on a 2-core
    machine; memory ``~ 50 x 2^n`` bytes, so ``exact_max`` is capped at 22. ``stderr_eur`` = 0.

``dp`` (``exact_max < n <= dp_max``, 400 by default, when the cost uses ``|S|`` only to tell
the empty coalition from the others, as :meth:`model.costs.PoolParams.cost` does; probed).
    Owen's multilinear extension: ``phi_i = int_0^1 E[C(S_t + i) - C(S_t)] dt`` where ``S_t``
    holds each other commune independently with probability ``t``. The integrand is a
    polynomial of degree ``n - 1`` in ``t``: Gauss-Legendre with ``ceil(n/2)`` nodes is exact;
    from 25 communes ``1.6 sqrt(n) + 4`` nodes are used, which agree with the exact rule to
    2e-7 relative on real EPCIs (the integrand is smooth; tested). At each node the law of the
    others' total is the product of one factor ``(1 - t) + t x^{d_j}`` per commune, computed for
    all communes at once in Fourier space, each commune then removed by one division.

    The grid. The largest communes (at most 3, each at least 10 % of the total driver: the
    ville-centre) stay off the grid, every subset of them enumerated. The others' drivers go on
    a grid of ``h = (their total) / G`` units, ``G = min(4096, max(1024, 16 n))`` points unless
    ``grid`` is given. Drivers that are whole numbers (postes, licences counted one by one) with
    a total of at most ``4 G`` keep ``h = 1``: nothing is rounded. Otherwise each other
    commune's driver ``d = h (a + f)`` becomes ``a h`` with probability ``1 - f`` and ``(a + 1) h``
    with probability ``f`` (its mean is kept); a commune's own driver is never rounded. The
    result is the exact Shapley value of that dithered game. Why this grid: the estimated
    drivers (agents, postes, Go from population ratios marked [non vérifié]) carry far more
    uncertainty than a dither of one step (0.4 poste at Agglopolys, 0.7 at the Pays Basque,
    whose ville-centres stay off the grid). Its error,
    measured against enumeration and a 16k-point grid: median 1e-5 of a commune's value, worst
    7e-4 over a third of the French EPCIs above 18 communes (4 pools each) and 1.2e-4 over 300
    random heterogeneous games; ``stderr_eur`` states ``DP_RELATIVE_ERROR`` (0.2 %) of each value,
    0 on whole drivers with the exact rule (1e-6 of it with the shorter rule).
    Cost ``~ n x nodes x G``: ~5 ms per pool at 43 communes, ~90 ms at 158 (~35 ms per pool
    when the four pools run in a row: drivers estimated from population share the laws, which
    are cached), ~0.4 s and ~70 MB at 400, hence ``dp_max``.

``sampled`` (above ``dp_max``, a size-dependent cost, or negative drivers). Monte Carlo on the
    same quadrature nodes: at each node ``t`` draws of ``S_t`` give a marginal cost for every
    commune at once; the empty coalition (the stand-alone price, the largest and noisiest
    marginal) is summed exactly; each draw at ``t`` is paired with its complement at ``1 - t``
    (antithetic); the known total ``C(N)`` is a control variate that also makes the values sum
    exactly. ``stderr_eur`` is the standard error of each value (``X = 2 x stderr`` for ~95 %;
    measured over 100 seeds on Agglopolys and the Pays Basque: 93 to 98 % of errors within 2
    standard errors). ``samples`` is the budget as before (about ``samples x n`` marginal costs);
    at 2,000 the worst commune is off by 0.2 to 0.4 % (plain permutations: 3 to 7 %).

Every method returns values that sum (up to float rounding) to ``C(N) = cost_fn(sum d, n)``;
the small residual of the grid (part of its error) is spread in proportion to the values.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from itertools import combinations
from math import lgamma

import numpy as np
import pandas as pd
from numpy.polynomial.legendre import leggauss
from scipy import fft

CostFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

METHODS = ("exact", "dp", "sampled")
_CHUNK = 1 << 16  # cost evaluations per call (the temporaries stay in cache)
ENUMERATION_MAX = 22  # 2^22 coalitions: ~200 MB, ~0.8 s; ``exact_max`` is capped there
_MIN_DRAWS = 8  # per pair of nodes, so that each variance has some degrees of freedom
#: Stated error of ``dp`` off an exact integer grid, relative to each value (worst measured: 7e-4).
DP_RELATIVE_ERROR = 2e-3
#: Stated error of ``dp`` on whole drivers with fewer than ``ceil(n/2)`` nodes (measured: 2e-7).
QUADRATURE_RELATIVE_ERROR = 1e-6


def _costs(cost_fn: CostFn, total: np.ndarray, size: np.ndarray) -> np.ndarray:
    out = np.asarray(cost_fn(total.astype(float), size.astype(np.int64)), dtype=float)
    return np.where(size == 0, 0.0, out)


def shapley_values(
    drivers: pd.Series,
    cost_fn: CostFn,
    exact_max: int = 18,
    samples: int = 2000,
    seed: int = 0,
    *,
    dp_max: int = 400,
    grid: int | None = None,
) -> pd.Series:
    """Shapley value of each commune in the game ``C(S) = cost_fn(sum_{i in S} d_i, |S|)``.

    ``exact`` when ``n <= exact_max``, ``dp`` when ``n <= dp_max`` (``grid`` points on the
    others' total driver; default ``min(4096, max(1024, 16 n))``), else ``sampled``
    (``samples`` permutations' worth, drawn with ``seed``); see the module docstring for each
    method and its error. The values sum to ``cost_fn(sum d, n)``. ``attrs``: ``method``,
    ``stderr_eur`` (a Series in euros: 0 for ``exact``; the stated grid error for ``dp``; the
    standard error for ``sampled``) and, for ``dp``, ``grid_step`` (driver units).
    """
    d = drivers.to_numpy(dtype=float)
    n = len(d)
    if not np.isfinite(d).all():
        raise ValueError("shapley_values: drivers must be finite numbers")
    attrs: dict = {}
    relative, err = 0.0, None  # the stated error: relative to the values, or in euros
    if n == 0:
        values, method = np.zeros(0), "exact"
    elif n == 1 or np.all(d == d[0]):  # symmetric game: equal shares
        grand = float(_costs(cost_fn, np.array([d.sum()]), np.array([n]))[0])
        values, method = np.full(n, grand / n), "exact"
    elif n <= min(exact_max, ENUMERATION_MAX):
        values, method = _exact(d, cost_fn), "exact"
    elif n <= dp_max and d.min() >= 0 and _size_blind(cost_fn, d):
        points = grid if grid is not None else min(4096, max(1024, 16 * n))
        values, step, exact_grid = _dp(d, cost_fn, points)
        if not exact_grid:
            relative = DP_RELATIVE_ERROR
        elif len(_nodes(n)[0]) < (n + 1) // 2:
            relative = QUADRATURE_RELATIVE_ERROR
        method, attrs["grid_step"] = "dp", step
    else:
        values, err = _sampled(d, cost_fn, samples, seed)
        method = "sampled"
    if n:
        grand = float(_costs(cost_fn, np.array([d.sum()]), np.array([n]))[0])
        values = _balance(values, grand)
    if err is None:
        err = relative * np.abs(values)
    out = pd.Series(values, index=drivers.index, name="shapley_eur")
    out.attrs = {"method": method,
                 "stderr_eur": pd.Series(err, index=drivers.index, name="stderr_eur"), **attrs}
    return out


def _balance(values: np.ndarray, grand: float) -> np.ndarray:
    """Spread ``grand - sum`` in proportion to ``|values|`` (evenly if they are all 0)."""
    gap = grand - values.sum()
    weight = np.abs(values)
    total = weight.sum()
    if total > 0:
        return values + gap * weight / total
    return values + gap / len(values)


def _size_blind(cost_fn: CostFn, d: np.ndarray) -> bool:
    """Whether ``cost_fn`` uses ``|S|`` only to tell the empty coalition (probed)."""
    n = len(d)
    q = np.array([0.0, d.min(), np.median(d), d.sum() / 2, d.sum()])
    sizes = [1, 2, max(1, n // 2), n]
    ref = _costs(cost_fn, q, np.ones(len(q), dtype=np.int64))
    return all(np.allclose(_costs(cost_fn, q, np.full(len(q), k)), ref, rtol=1e-12, atol=0)
               for k in sizes)


# --- exact: all coalitions ----------------------------------------------------------------------

def _size_weights(n: int) -> np.ndarray:
    """``w(k) = k! (n-k-1)! / n!`` for ``k = 0..n`` (``w(n) = 0``)."""
    w = np.zeros(n + 1)
    for k in range(n):
        w[k] = np.exp(lgamma(k + 1) + lgamma(n - k) - lgamma(n + 1))
    return w


def _exact(d: np.ndarray, cost_fn: CostFn) -> np.ndarray:
    """Shapley values by enumeration; coalition ``S`` is the mask with bit ``j`` for commune j."""
    n = len(d)
    sums, size = np.zeros(1), np.zeros(1, dtype=np.int64)
    for x in d:  # doubling: bit j appended at step j
        sums = np.concatenate((sums, sums + x))
        size = np.concatenate((size, size + 1))
    value = np.empty(1 << n)
    for lo in range(0, 1 << n, _CHUNK):
        value[lo:lo + _CHUNK] = _costs(cost_fn, sums[lo:lo + _CHUNK], size[lo:lo + _CHUNK])
    del sums
    w = _size_weights(n)
    without = w[size] * value  # weight of S as a coalition not containing i
    within = np.zeros(n + 1)
    within[1:] = w[:-1]  # weight of S (of size k) as a coalition containing i: w(k - 1)
    u = (within[size] + w[size]) * value
    base = without.sum()
    out = np.empty(n)
    for j in range(n - 1, -1, -1):  # sum over S containing j, top bit first, halving each time
        half = 1 << j
        out[j] = u[half:].sum()
        u = u[:half] + u[half:]
    return out - base


# --- dp: multilinear extension, sums on a grid ---------------------------------------------------

@lru_cache(maxsize=512)
def _nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1], symmetric about 1/2: exact for degree
    ``n - 1`` (``ceil(n/2)`` nodes) up to 24 communes, ``1.6 sqrt(n) + 4`` nodes above."""
    m = min((n + 1) // 2, int(np.ceil(1.6 * np.sqrt(n))) + 4)
    m += m % 2  # even: no node at t = 1/2, where (1 - t) + t x^a can vanish on the circle
    x, w = leggauss(m)
    t, w = (x + 1) / 2, w / 2
    t.flags.writeable = w.flags.writeable = False  # cached: shared by every caller
    return t, w


def _split(d: np.ndarray, big_share: float, big_max: int) -> tuple[np.ndarray, np.ndarray]:
    """The communes kept off the grid (driver >= ``big_share`` of the total, at most
    ``big_max``, largest first, never splitting equal drivers) and the others, in order."""
    order = np.argsort(-d, kind="stable")
    b = int(min(big_max, np.count_nonzero(d >= big_share * d.sum()), len(d) - 1))
    while b and d[order[b - 1]] == d[order[b]]:  # equal drivers: same side (symmetry)
        b -= 1
    return order[:b], np.sort(order[b:])


def _grid(d: np.ndarray, grid: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Step ``h``, lower grid point ``a`` and upper weight ``f`` of each driver (``d = h(a+f)``)."""
    total = d.sum()
    whole = np.all(d == np.rint(d)) and total <= 4 * grid
    h = 1.0 if whole or not total / grid > 1e-200 else total / grid  # ~0 drivers: all at 0
    x = d / h
    a = np.floor(x)
    f = np.round(x - a, 12)  # 12 digits: the same key for proportional drivers
    up = f >= 1.0
    a[up], f[up] = a[up] + 1, 0.0
    return h, a.astype(np.int64), f


def _dp(d: np.ndarray, cost_fn: CostFn, grid: int, big_share: float = 0.1,
        big_max: int = 3) -> tuple[np.ndarray, float, bool]:
    """Shapley values of the dithered game; also the grid step and whether nothing was rounded.

    The few largest communes (``big``) stay off the grid: every subset ``T`` of them is
    enumerated, so the grid only spans the others' total and its step is that much finer.
    For a commune ``i`` among the others, with ``b`` big communes::

        phi_i = sum_q w_q sum_T t_q^|T| (1 - t_q)^(b - |T|) E_q[C(Q_T + R + d_i) - C(Q_T + R)]

    where ``R`` is the dithered total of the other small communes, each present with
    probability ``t_q``: its law is the product of the factors ``1 + t_q (K_j - 1)``
    (``K_j`` the commune's two-point kernel on the circle) less commune ``i``'s factor.
    """
    n = len(d)
    big, small = _split(d, big_share, big_max)
    b, ds = len(big), d[small]
    h, a, f = _grid(ds, grid)
    law_small, law_big = _laws(a.tobytes(), f.tobytes(), b, n)
    t, w = _nodes(n)
    top = law_small.shape[2] - 1
    q = np.arange(top + 1) * h
    values = np.zeros(n)
    rows = max(1, _CHUNK // (top + 1))
    for r in range(b + 1):
        for subset in combinations(big, r):
            qt = q + d[list(subset)].sum()
            base = _costs(cost_fn, qt, np.ones(top + 1, dtype=np.int64))
            for lo in range(0, len(ds), rows):
                hi = min(len(ds), lo + rows)
                total = (qt[None, :] + ds[lo:hi, None]).ravel()
                gain = _costs(cost_fn, total, np.ones(total.size, dtype=np.int64))
                gain = gain.reshape(hi - lo, -1) - base[None, :]
                values[small[lo:hi]] += np.einsum("ij,ij->i", law_small[r, lo:hi], gain)
            for i in set(big) - set(subset):
                gain = _costs(cost_fn, qt + d[i], np.ones(top + 1, dtype=np.int64)) - base
                values[i] += law_big[r] @ gain
    # S empty: the grid charged C({i}) - c(0); the true marginal is C({i}) - 0.
    c0 = float(_costs(cost_fn, np.zeros(1), np.ones(1, dtype=np.int64))[0])
    values += float(w @ (1 - t) ** (n - 1)) * c0
    exact = h == 1.0 and not f.any()
    return values, h, exact


@lru_cache(maxsize=4)
def _laws(a_key: bytes, f_key: bytes, b: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature-weighted laws of the small communes' dithered total, on grid indices.

    ``law_small[r, i]``: the others' total without commune ``i``, weighted by the chance that
    ``r`` big communes are in; ``law_big[r]``: all small communes, ``r`` of the ``b - 1`` other
    big ones. They depend on the drivers only through ``d / h``: the four pools of an EPCI whose
    drivers are all estimated from population share them (hence the cache).
    """
    a = np.frombuffer(a_key, dtype=np.int64)
    f = np.frombuffer(f_key, dtype=float)
    top = int(a.sum() + np.count_nonzero(f))
    size = fft.next_fast_len(top + 1, real=True)
    half = size // 2 + 1
    table = np.exp(-2j * np.pi * np.arange(size) / size)
    k = np.arange(half)
    kernel = table[np.outer(a, k) % size]  # x^a on the circle
    kernel *= (1 - f)[:, None] + f[:, None] * table[k][None, :]
    kernel -= 1.0  # the factor (1 - t) + t K is 1 + t (K - 1)
    t, w = _nodes(n)
    powers = np.arange(b + 1)[:, None]
    coef_small = w * t**powers * (1 - t) ** (b - powers)  # (b + 1, nodes): P(|T| = r)
    coef_big = w * t ** powers[:-1] * (1 - t) ** (b - 1 - powers[:-1])
    acc_small = np.zeros((b + 1, len(a), half), dtype=complex)  # by |T|, T among big
    acc_big = np.zeros((max(b, 1), half), dtype=complex)  # T among the other big ones
    factor = np.empty_like(kernel)
    with np.errstate(all="ignore"):
        for q, tq in enumerate(t):
            np.multiply(kernel, tq, out=factor)
            factor += 1.0  # |factor| >= |1 - 2t| > 0: nodes avoid t = 1/2
            prod = factor.prod(axis=0)
            prod[np.abs(prod) < 1e-200] = 0.0  # no subnormal arithmetic below (it is slow)
            if b:
                acc_big += coef_big[:, q, None] * prod
            np.divide(prod, factor, out=factor)
            if b:
                acc_small += coef_small[:, q, None, None] * factor
            else:
                factor *= coef_small[0, q]
                acc_small[0] += factor
    law_small = np.ascontiguousarray(fft.irfft(acc_small, n=size, axis=2)[:, :, : top + 1])
    law_big = np.ascontiguousarray(fft.irfft(acc_big, n=size, axis=1)[:, : top + 1])
    law_small.flags.writeable = law_big.flags.writeable = False
    return law_small, law_big


# --- sampled: Monte Carlo on the quadrature nodes --------------------------------------------------

def _sampled(d: np.ndarray, cost_fn: CostFn, samples: int, seed: int) -> tuple[np.ndarray,
                                                                                 np.ndarray]:
    """Monte Carlo on the quadrature nodes: ``phi_i = sum_q w_q E_q[C(S + i) - C(S)]`` with
    ``S`` holding every other commune with probability ``t_q``.

    The empty coalition (the stand-alone price, the largest and noisiest marginal) is summed
    exactly; each draw at ``t_q`` is paired with its complement at ``1 - t_q`` (antithetic; the
    nodes are symmetric); the known total ``C(N)`` is a control variate: each commune's
    estimate moves by ``beta_i`` times the error of the estimated total, ``beta_i =
    Cov(phi_i, total) / Var(total)``, which minimises its variance and, as the ``beta_i`` sum
    to 1, makes the values sum exactly to ``C(N)``. The standard error is that of the adjusted
    estimate.
    """
    n = len(d)
    t, w = _nodes(n)
    pairs = len(t) // 2
    draws = max(_MIN_DRAWS, -(-int(samples) // (2 * pairs)))
    rng = np.random.default_rng(seed)
    alone = _alone(d, cost_fn, t, w)
    mean, var, cov = alone.copy(), np.zeros(n), np.zeros(n)
    total_mean = total_var = 0.0
    rows = max(1, _CHUNK // n)
    for tq, wq in zip(t[:pairs], w[:pairs], strict=True):  # t < 1/2; its twin is 1 - t
        y = np.empty((draws, n))
        for lo in range(0, draws, rows):
            inside = rng.random((min(rows, draws - lo), n)) < tq
            y[lo:lo + len(inside)] = _gains(d, inside, cost_fn) + _gains(d, ~inside, cost_fn)
        total = y.sum(axis=1)
        dev, total_dev = y - y.mean(axis=0), total - total.mean()
        scale = wq**2 / (draws * (draws - 1))
        mean += wq * y.mean(axis=0)
        var += scale * (dev**2).sum(axis=0)
        cov += scale * (total_dev @ dev)
        total_mean += wq * total.mean()
        total_var += scale * (total_dev @ total_dev)
    grand = float(_costs(cost_fn, np.array([d.sum()]), np.array([n]))[0])
    if total_var > 0:
        beta = cov / total_var
        mean -= beta * (total_mean - (grand - alone.sum()))
        var = np.maximum(var - cov**2 / total_var, 0.0)
    return mean, np.sqrt(var)


def _alone(d: np.ndarray, cost_fn: CostFn, t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The part of ``phi`` from the empty coalition: ``C({i})`` times ``int (1-t)^(n-1)``."""
    n = len(d)
    alone = _costs(cost_fn, d, np.ones(n, dtype=np.int64))
    return alone * float(w @ (1 - t) ** (n - 1))


def _gains(d: np.ndarray, inside: np.ndarray, cost_fn: CostFn) -> np.ndarray:
    """``C(S - i + i) - C(S - i)`` for each drawn ``S`` (rows) and each commune ``i``, 0 where
    ``S - i`` is empty (summed exactly by :func:`_alone`)."""
    total = inside @ d
    size = inside.sum(axis=1)
    q = total[:, None] - inside * d[None, :]  # S without i
    k = size[:, None] - inside
    after = _costs(cost_fn, (q + d[None, :]).ravel(), (k + 1).ravel())
    before = _costs(cost_fn, q.ravel(), k.ravel())
    return np.where(k >= 1, (after - before).reshape(q.shape), 0.0)
