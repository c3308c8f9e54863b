"""Leximin refinement of the min-t LP, and the unique split of each commune's total by pool.

Round k minimises t over the communes not yet fixed. A burden row with a nonzero dual is tight
in every optimum of that round (complementary slackness), so its commune is fixed at level t_k
(``sum_p x_ip <= t_k cap_i``) and the next round minimises t for the others. With t free, the
duals of the free burden rows satisfy ``sum_i cap_i |u_i| = 1``, so every round fixes at least
one commune and the loop ends after at most n rounds. The commune totals it returns are the
unique leximin (egalitarian) totals.

The totals do not pin down how each commune's total divides between pools, so `breakdown`
picks, among all feasible splits with those totals, the one closest to the commune's usage
profile (a strictly convex QP, hence unique and independent of the solver path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import highspy
import numpy as np

from model.allocation.fast import INF, RoundSolution, new_highs
from model.allocation.inputs import Arrays
from model.errors import ModelError

#: A burden row is binding when ``cap_i |u_i|`` (the rows' weights sum to 1) exceeds this.
DUAL_TOL = 1e-7


class Backend(Protocol):
    name: str

    def solve(self) -> RoundSolution: ...

    def fix(self, idx: np.ndarray, level: float) -> None: ...


@dataclass
class LeximinOutcome:
    """First-round solution, final solution, and the level and round at which each commune fixed."""

    first: RoundSolution
    final: RoundSolution
    level: np.ndarray
    round_fixed: np.ndarray
    rounds: int


def run_leximin(backend: Backend, n: int, leximin: bool = True) -> LeximinOutcome:
    """Min t, then (if `leximin`) fix binding communes and re-minimise until all are fixed."""
    sol = backend.solve()
    first = sol
    level = np.full(n, np.nan)
    round_fixed = np.zeros(n, dtype=int)
    if not sol.optimal:
        return LeximinOutcome(first, sol, level, round_fixed, 1)
    free = np.ones(n, dtype=bool)
    rounds = 1
    while True:
        pick = free & (sol.burden_weight > DUAL_TOL)
        if not pick.any():
            raise ModelError(
                f"Raffinement leximin bloqué au tour {rounds} : aucune charge liante "
                "(problème numérique du solveur)."
            )
        level[pick] = sol.t
        round_fixed[pick] = rounds
        free &= ~pick
        if not leximin or not free.any():
            break
        backend.fix(np.flatnonzero(pick), sol.t)
        sol = backend.solve()
        rounds += 1
        if not sol.optimal:
            raise ModelError(f"Le solveur {backend.name} a échoué au tour {rounds} du leximin.")
    return LeximinOutcome(first, sol, level, round_fixed, rounds)


def breakdown(arr: Arrays, totals: np.ndarray) -> np.ndarray:
    """Split each commune's fixed total across pools: the unique feasible split nearest its usage.

    Minimise ``sum_ip (x_ip - g_ip)^2 / g_ip`` with ``g_ip = s_i u_ip / sum_q u_iq`` (the
    commune's total spread like its usage-key amounts ``u_ip = k_ip T_p``), subject to
    ``sum_p x_ip = s_i``, ``sum_i x_ip = T_p`` and the usage band. Money in millions of euros.
    """
    n, n_pools = arr.usage.shape
    usage_tot = arr.usage.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(usage_tot > 0, totals[:, None] * arr.usage / usage_tot, totals[:, None] / n_pools)
    g = g.ravel()
    free = arr.upper.ravel() > arr.lower.ravel()
    scale = np.where(free, np.maximum(g, 1e-9), 1.0)
    nx = n * n_pools
    h = new_highs()
    h.setOptionValue("solver", "choose")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = nx, n_pools + n
    lp.col_cost_ = -2.0 * g / scale
    lp.col_lower_ = arr.lower.ravel()
    lp.col_upper_ = arr.upper.ravel()
    lp.row_lower_ = np.concatenate([arr.total, totals])
    lp.row_upper_ = np.concatenate([arr.total, totals])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * nx + 1, 2, dtype=np.int32)
    lp.a_matrix_.index_ = np.stack(
        [np.tile(np.arange(n_pools), n), n_pools + np.repeat(np.arange(n), n_pools)], axis=1
    ).ravel().astype(np.int32)
    lp.a_matrix_.value_ = np.ones(2 * nx)
    model = highspy.HighsModel()
    model.lp_ = lp
    model.hessian_.dim_ = nx
    model.hessian_.format_ = highspy.HessianFormat.kTriangular
    model.hessian_.start_ = np.arange(nx + 1, dtype=np.int32)
    model.hessian_.index_ = np.arange(nx, dtype=np.int32)
    model.hessian_.value_ = 2.0 / scale
    h.passModel(model)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise ModelError("La répartition par pool des totaux leximin a échoué (QP HiGHS).")
    x = np.asarray(h.getSolution().col_value).reshape(n, n_pools)
    return np.clip(x, arr.lower, arr.upper)


__all__ = ["INF", "LeximinOutcome", "breakdown", "run_leximin"]
