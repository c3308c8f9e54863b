"""Leximin refinement of the min-t LP, and the unique split of each commune's total by pool.

Round k minimises t over the communes not yet fixed. A burden row with a nonzero dual is tight
in every optimum of that round (complementary slackness), so its commune is fixed at level t_k
(``sum_p x_ip <= t_k cap_i``) and the next round minimises t for the others. With t free, the
duals of the free burden rows satisfy ``sum_i cap_i |u_i| = 1``, so every round fixes at least
one commune and the loop ends after at most n rounds. The commune totals it returns are the
unique leximin (egalitarian) totals.

The totals do not pin down how each commune's total divides between pools, so `breakdown`
picks, among all feasible splits with those totals, the one closest to the commune's usage
profile (a strictly convex separable QP, hence unique and independent of the solver path),
solved in closed form up to P-1 pool multipliers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from model.allocation.fast import RoundSolution
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


def _consistent(arr: Arrays, totals: np.ndarray) -> np.ndarray:
    """Totals within each commune's band range and summing exactly to the pools' total.

    Solver output is only accurate to its tolerance (CBC prints 8 significant digits); the
    small mismatch goes to the communes in proportion to their room in the usage band.
    """
    lo, hi = arr.lower.sum(axis=1), arr.upper.sum(axis=1)
    s = np.clip(totals, lo, hi)
    gap = float(arr.total.sum() - s.sum())
    room = (hi - s) if gap > 0 else (s - lo)
    if gap != 0 and room.sum() > 0:
        s = s + gap * room / room.sum()
    return s


def breakdown(arr: Arrays, totals: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray:
    """Split each commune's fixed total across pools: the unique feasible split nearest its usage.

    Minimise ``sum_ip (x_ip - g_ip)^2 / g_ip`` with ``g_ip = s_i u_ip / sum_q u_iq`` (the
    commune's total spread like its usage-key amounts ``u_ip = k_ip T_p``), subject to
    ``sum_p x_ip = s_i``, ``sum_i x_ip = T_p`` and the usage band. Money in millions of euros.

    The KKT conditions give ``x_ip = clip(g_ip (1 + a_i + b_p), lo_ip, hi_ip)``. For given pool
    multipliers ``b`` each ``a_i`` solves a monotone piecewise-linear equation exactly
    (vectorised over communes); ``b`` (P-1 unknowns, ``b_0 = 0``) comes from a damped
    semismooth Newton method on the pool balances. Returns `fallback` if it does not converge.
    """
    n, n_pools = arr.usage.shape
    totals = _consistent(arr, totals)
    usage_tot = arr.usage.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(usage_tot > 0, arr.usage / usage_tot, 1.0 / n_pools)
    g = totals[:, None] * share
    lo, hi = arr.lower, arr.upper
    tol = 1e-11 * max(1.0, float(arr.total.sum()))

    def inner(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            k_lo = np.where(g > 0, lo / g - 1 - b, 0.0)
            k_hi = np.where(g > 0, hi / g - 1 - b, 0.0)
        knots = np.sort(np.concatenate([k_lo, k_hi], axis=1), axis=1)  # (n, 2P)
        vals = np.clip(g[:, None, :] * (1 + knots[:, :, None] + b), lo[:, None, :],
                       hi[:, None, :]).sum(axis=2)  # phi_i at each knot, nondecreasing
        k = np.clip((vals <= totals[:, None]).sum(axis=1) - 1, 0, 2 * n_pools - 2)
        rows = np.arange(n)
        v0, v1 = vals[rows, k], vals[rows, k + 1]
        a0, a1 = knots[rows, k], knots[rows, k + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(v1 > v0, (totals - v0) / (v1 - v0), 0.0)
        a = a0 + np.clip(frac, 0.0, 1.0) * (a1 - a0)
        x = np.clip(g * (1 + a[:, None] + b), lo, hi)
        return a, x

    b = np.zeros(n_pools)
    _, x = inner(b)
    resid = x.sum(axis=0) - arr.total
    for _ in range(100):
        norm = np.abs(resid).max()
        if norm <= tol:
            return x
        a, _ = inner(b)
        z = g * (1 + a[:, None] + b)
        free = ((z > lo) & (z < hi)).astype(float) * g
        big = free.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(big > 0, 1.0 / big, 0.0)
        jac = np.diag(free.sum(axis=0)) - (free * w[:, None]).T @ free
        sub = jac[1:, 1:] + 1e-14 * np.eye(n_pools - 1)
        try:
            step = np.concatenate([[0.0], np.linalg.solve(sub, -resid[1:])])
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-10:
            _, x_new = inner(b + t * step)
            r_new = x_new.sum(axis=0) - arr.total
            if np.abs(r_new).max() < (1 - 1e-4 * t) * norm:
                b, x, resid = b + t * step, x_new, r_new
                break
            t /= 2
        else:
            break
    return fallback if fallback is not None else x


__all__ = ["LeximinOutcome", "breakdown", "run_leximin"]
