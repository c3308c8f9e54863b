"""Solver-free leximin: water-filling of the commune totals, then the pool breakdown.

Relax the pool balances to their sum: each commune's total is then only bounded by
``A_i = max(incremental_i, sum_p lo_ip)`` and ``B_i = min(standalone_i, sum_p hi_ip)``, and the
leximin split of that relaxation is the water level ``clip(lam * cap_i, A_i, B_i)``. The
relaxation's feasible totals contain those of the real LP, so when the water-level totals can be
split across pools inside the usage band (``breakdown``), they are the real LP's leximin
optimum too; otherwise the caller falls back to the LP rounds.
"""

from __future__ import annotations

import numpy as np

from model.allocation.inputs import Arrays
from model.allocation.leximin import breakdown

CHECK_TOL = 1e-9


def water_level_totals(arr: Arrays) -> np.ndarray | None:
    """Leximin commune totals (M€) of the LP with the pool balances relaxed to their sum.

    ``A_i = max(incremental_i, sum_p lo_ip)``, ``B_i = min(standalone_i, sum_p hi_ip)``; the
    result is ``clip(lam * cap_i, A_i, B_i)`` with ``lam`` such that the totals sum to the pools'
    total. None when even the relaxation is infeasible.
    """
    a = np.maximum(arr.incremental, arr.lower.sum(axis=1))
    b = np.minimum(arr.standalone, arr.upper.sum(axis=1))
    cap = arr.capacity
    total = float(arr.total.sum())
    scale = max(1.0, total)
    if (a > b + 1e-12 * scale).any() or a.sum() > total * (1 + 1e-12) or b.sum() < total * (
            1 - 1e-12):
        return None
    b = np.maximum(a, b)
    knots = np.unique(np.concatenate([a / cap, b / cap]))
    f = np.clip(knots[:, None] * cap, a, b).sum(axis=1)  # nondecreasing in lam
    k = int(np.clip(np.searchsorted(f, total), 1, len(knots) - 1)) if len(knots) > 1 else 0
    if len(knots) == 1 or f[k] <= f[k - 1]:
        lam = knots[k]
    else:
        lam = knots[k - 1] + (total - f[k - 1]) / (f[k] - f[k - 1]) * (knots[k] - knots[k - 1])
    return np.clip(lam * cap, a, b)


def fast_leximin(arr: Arrays) -> tuple[np.ndarray, float] | None:
    """``(x (n, P) in M€, t*)`` of the leximin split, or None when it must go to the LP."""
    s = water_level_totals(arr)
    if s is None:
        return None
    x = breakdown(arr, s, fallback=None)
    tol = CHECK_TOL * max(1.0, float(arr.total.sum()))
    if (np.abs(x.sum(axis=0) - arr.total).max() > tol
            or np.abs(x.sum(axis=1) - s).max() > tol
            or (x < arr.lower - tol).any() or (x > arr.upper + tol).any()):
        return None
    totals = x.sum(axis=1)
    t = float(np.max(totals / arr.capacity))
    if t > getattr(arr, "burden_cap", np.inf):
        return None
    return x, t
