"""The allocation LP as numpy/scipy arrays, solved with highspy directly (the fast path).

Same LP as `build.py` (the PuLP source of truth), laid out for speed:

* columns ``x_ip`` (commune-major, index ``i * P + p``) then ``t``; the usage band is the
  column bounds ``[lo k_ip T_p, hi k_ip T_p]`` instead of two singleton rows per variable;
* rows ``0..P-1`` balance (``= T_p``); rows ``P..P+n-1`` the commune total, ranged
  ``[sum_p inc_ip, sum_p SA_ip]`` (incremental below, standalone above); rows ``P+n..P+2n-1``
  burden ``sum_p x_ip - cap_i t <= 0``.

The `Highs` object stays alive across leximin rounds: fixing a commune changes one coefficient
and one row bound, and `run()` restarts from the previous basis.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from model.allocation.inputs import Arrays, lp_name

INF = highspy.kHighsInf


@dataclass
class RoundSolution:
    """One solve: status, t, x (n, P) in M€, burden weights ``cap_i |u_i|`` and named duals."""

    optimal: bool
    t: float
    x: np.ndarray
    burden_weight: np.ndarray
    duals: dict[str, float]


@dataclass(frozen=True)
class Matrix:
    """The LP in HiGHS layout (CSC matrix, bounds), money in millions of euros."""

    a: sp.csc_matrix
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    n: int
    n_pools: int

    @property
    def t_col(self) -> int:
        return self.n * self.n_pools

    def burden_row(self, i: np.ndarray | int) -> np.ndarray | int:
        return self.n_pools + self.n + i


def build_matrix(arr: Arrays) -> Matrix:
    """Build the CSC matrix and bounds of the allocation LP from aligned arrays (vectorised)."""
    n, n_pools = arr.lower.shape
    nx = n * n_pools
    commune_of = np.repeat(np.arange(n), n_pools)
    pool_of = np.tile(np.arange(n_pools), n)
    # Each x column has three nonzeros: balance row, total row, burden row (all coefficient 1).
    rows_x = np.stack([pool_of, n_pools + commune_of, n_pools + n + commune_of], axis=1).ravel()
    rows_t = n_pools + n + np.arange(n)
    indices = np.concatenate([rows_x, rows_t]).astype(np.int32)
    values = np.concatenate([np.ones(3 * nx), -arr.capacity])
    indptr = np.concatenate([np.arange(0, 3 * nx + 1, 3), [3 * nx + n]]).astype(np.int32)
    a = sp.csc_matrix((values, indices, indptr), shape=(n_pools + 2 * n, nx + 1))
    cost = np.zeros(nx + 1)
    cost[nx] = 1.0
    return Matrix(
        a=a,
        cost=cost,
        col_lower=np.concatenate([arr.lower.ravel(), [-INF]]),
        col_upper=np.concatenate([arr.upper.ravel(), [min(arr.burden_cap, INF)]]),
        row_lower=np.concatenate([arr.total, arr.incremental, np.full(n, -INF)]),
        row_upper=np.concatenate([arr.total, arr.standalone, np.zeros(n)]),
        n=n,
        n_pools=n_pools,
    )


_BANNER_SILENCED = False


def _silent_first_highs() -> highspy.Highs:
    """HiGHS prints its banner to the C stdout on the first instance of a process, before any
    option can be set; swallow it so the CLI and notebooks show only our own output."""
    global _BANNER_SILENCED
    if _BANNER_SILENCED:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _BANNER_SILENCED = True
    return h


def new_highs() -> highspy.Highs:
    """A silent, single-threaded HiGHS instance using dual simplex."""
    h = _silent_first_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("solver", "simplex")
    return h


def pass_matrix(h: highspy.Highs, m: Matrix) -> None:
    """Load `m` into `h` (no copy of the model beyond HiGHS's own)."""
    lp = highspy.HighsLp()
    lp.num_col_ = m.a.shape[1]
    lp.num_row_ = m.a.shape[0]
    lp.col_cost_ = m.cost
    lp.col_lower_ = m.col_lower
    lp.col_upper_ = m.col_upper
    lp.row_lower_ = m.row_lower
    lp.row_upper_ = m.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.a.indptr
    lp.a_matrix_.index_ = m.a.indices
    lp.a_matrix_.value_ = m.a.data
    h.passModel(lp)


class HighsBackend:
    """Persistent highspy model; `fix` turns burden rows into constants for the leximin."""

    name = "highs-fast"

    def __init__(self, arr: Arrays):
        self.arr = arr
        self.m = build_matrix(arr)
        self.h = new_highs()
        pass_matrix(self.h, self.m)

    def solve(self) -> RoundSolution:
        h, m = self.h, self.m
        h.run()
        n, n_pools = m.n, m.n_pools
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            # A warm primal re-solve can stall on a degenerate basis: retry from scratch.
            h.setOptionValue("simplex_strategy", 1)
            h.clearSolver()
            h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return RoundSolution(False, np.nan, np.zeros((n, n_pools)), np.zeros(n), {})
        sol = h.getSolution()
        col = np.asarray(sol.col_value)
        row_dual = np.asarray(sol.row_dual)
        weight = np.abs(row_dual[m.burden_row(np.arange(n))]) * self.arr.capacity
        return RoundSolution(
            True, float(col[m.t_col]), col[: m.t_col].reshape(n, n_pools), weight,
            {"_row": row_dual, "_col": np.asarray(sol.col_dual)},
        )

    def fix(self, idx: np.ndarray, level: float) -> None:
        """Fix communes `idx` at burden `level`: ``sum_p x_ip <= level * cap_i``, no t.

        The previous optimum stays feasible, so the re-solve uses primal simplex from it
        (about 5x fewer iterations than dual simplex here).
        """
        self.h.setOptionValue("simplex_strategy", 4)
        rows = np.asarray(self.m.burden_row(idx), dtype=np.int32)
        for r in rows:
            self.h.changeCoeff(int(r), self.m.t_col, 0.0)
        ub = level * self.arr.capacity[idx] * (1 + 1e-12)
        self.h.changeRowsBounds(len(rows), rows, np.full(len(rows), -INF), ub)


def named_duals(arr: Arrays, m: Matrix, sol: RoundSolution) -> dict[str, float]:
    """Duals of the fast path under registry names (``d t / d rhs`` per million euros)."""
    row, col = sol.duals["_row"], sol.duals["_col"]
    n, n_pools = m.n, m.n_pools
    out: dict[str, float] = {}
    pools = arr.pools.tolist()
    totals = sol.x.sum(axis=1)
    for p, pool in enumerate(pools):
        out[lp_name("balance", pool, "")] = float(row[p])
    for i, commune in enumerate(arr.communes.tolist()):
        d = float(row[n_pools + i])
        at_sa = abs(totals[i] - arr.standalone[i]) <= abs(totals[i] - arr.incremental[i])
        out[lp_name("standalone", "", commune)] = d if at_sa else 0.0
        out[lp_name("incremental", "", commune)] = 0.0 if at_sa else d
        out[lp_name("burden", "", commune)] = float(row[n_pools + n + i])
        for p, pool in enumerate(pools):
            j = i * n_pools + p
            d = float(col[j])
            at_lo = abs(sol.x[i, p] - arr.lower[i, p]) <= abs(sol.x[i, p] - arr.upper[i, p])
            out[lp_name("usage_lower", pool, commune)] = d if at_lo else 0.0
            out[lp_name("usage_upper", pool, commune)] = 0.0 if at_lo else d
    return out


def solve_once(arr: Arrays) -> tuple[float, pd.DataFrame]:
    """Single cold min-t solve (no leximin): ``(t*, x in euros)``. The benchmark's floor."""
    m = build_matrix(arr)
    h = new_highs()
    pass_matrix(h, m)
    h.run()
    col = np.asarray(h.getSolution().col_value)
    x = col[: m.t_col].reshape(m.n, m.n_pools) * 1e6
    return float(col[m.t_col]), pd.DataFrame(x, index=arr.communes, columns=arr.pools)
