"""The allocation LP in PuLP: the readable source of truth (one function per constraint group).

Money is in millions of euros (``SCALE_EUR``). Names follow ``{group}__{pool}__{commune}``;
commune-level groups have an empty pool (``standalone____41018``). Variables are
``pay__{pool}__{commune}`` and ``t_max_burden``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pulp

from model.allocation.fast import RoundSolution
from model.allocation.inputs import AllocationInputs, Arrays, lp_name, to_arrays
from model.errors import ModelError

#: name -> (group, pool, commune)
Registry = dict[str, tuple[str, str, str]]


@dataclass
class AllocationLP:
    """A PuLP problem with its variables and constraint registry."""

    problem: pulp.LpProblem
    x: dict[tuple[int, int], pulp.LpVariable]
    t: pulp.LpVariable
    registry: Registry = field(default_factory=dict)
    constraints: dict[str, pulp.LpConstraint] = field(default_factory=dict)

    def add(self, constraint: pulp.LpConstraint, group: str, pool: str, commune: str) -> None:
        name = lp_name(group, pool, commune)
        self.problem += constraint, name
        self.registry[name] = (group, pool, commune)
        self.constraints[name] = constraint


def _total(lp: AllocationLP, i: int, n_pools: int) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression([(lp.x[i, p], 1.0) for p in range(n_pools)])


def add_balance(lp: AllocationLP, arr: Arrays) -> None:
    """Balance: the communes pay exactly what is to split in each pool.

    .. math:: \\sum_i x_{ip} = T_p \\quad \\forall p
    """
    n = len(arr.communes)
    for p, pool in enumerate(arr.pools):
        expr = pulp.LpAffineExpression([(lp.x[i, p], 1.0) for i in range(n)])
        lp.add(expr == float(arr.total[p]), "balance", pool, "")


def add_usage_lower(lp: AllocationLP, arr: Arrays) -> None:
    """Usage band floor: no commune pays less than ``lo`` times its usage-key amount.

    .. math:: x_{ip} \\ge lo \\, k_{ip} T_p \\quad \\forall i, p
    """
    for i, commune in enumerate(arr.communes):
        for p, pool in enumerate(arr.pools):
            lp.add(lp.x[i, p] >= float(arr.lower[i, p]), "usage_lower", pool, commune)


def add_usage_upper(lp: AllocationLP, arr: Arrays) -> None:
    """Usage band ceiling: no commune pays more than ``hi`` times its usage-key amount.

    .. math:: x_{ip} \\le hi \\, k_{ip} T_p \\quad \\forall i, p
    """
    for i, commune in enumerate(arr.communes):
        for p, pool in enumerate(arr.pools):
            lp.add(lp.x[i, p] <= float(arr.upper[i, p]), "usage_upper", pool, commune)


def add_standalone(lp: AllocationLP, arr: Arrays) -> None:
    """Stand-alone test (individual rationality): pooling costs nobody more than going alone.

    .. math:: \\sum_p x_{ip} \\le \\sum_p SA_{ip} \\quad \\forall i
    """
    n_pools = len(arr.pools)
    for i, commune in enumerate(arr.communes):
        lp.add(_total(lp, i, n_pools) <= float(arr.standalone[i]), "standalone", "", commune)


def add_incremental(lp: AllocationLP, arr: Arrays) -> None:
    """Incremental-cost test: each commune pays at least the cost it adds to the pool.

    .. math:: \\sum_p x_{ip} \\ge \\sum_p \\left(C_p(N) - C_p(N \\setminus \\{i\\})\\right) \\quad \\forall i
    """
    n_pools = len(arr.pools)
    for i, commune in enumerate(arr.communes):
        lp.add(_total(lp, i, n_pools) >= float(arr.incremental[i]), "incremental", "", commune)


def add_burden(
    lp: AllocationLP, arr: Arrays, fixed: dict[int, float] | None = None, margin: float = 1e-12
) -> None:
    """Burden: each commune's total is at most ``t`` times its capacity.

    .. math:: \\sum_p x_{ip} \\le t \\, cap_i \\quad \\forall i

    A commune fixed by the leximin at level ``t_k`` gets ``sum_p x_ip <= t_k cap_i`` instead
    (times ``1 + margin``: CBC reports values to 8 significant digits only).
    """
    fixed = fixed or {}
    n_pools = len(arr.pools)
    for i, commune in enumerate(arr.communes):
        total = _total(lp, i, n_pools)
        if i in fixed:
            bound = fixed[i] * float(arr.capacity[i]) * (1 + margin)
            lp.add(total <= bound, "burden", "", commune)
        else:
            lp.add(total - float(arr.capacity[i]) * lp.t <= 0, "burden", "", commune)


def build_allocation_lp(
    arr: Arrays, fixed: dict[int, float] | None = None, margin: float = 1e-12
) -> AllocationLP:
    """The whole min-t LP (``fixed``: commune position -> burden level from earlier rounds)."""
    prob = pulp.LpProblem("allocation", pulp.LpMinimize)
    x = {
        (i, p): prob.add_variable(f"pay__{pool}__{commune}", lowBound=0)
        for i, commune in enumerate(arr.communes)
        for p, pool in enumerate(arr.pools)
    }
    cap = float(arr.burden_cap) if np.isfinite(arr.burden_cap) else None
    t = prob.add_variable("t_max_burden", upBound=cap)
    prob.setObjective(pulp.LpAffineExpression([(t, 1.0)]))
    lp = AllocationLP(prob, x, t)
    add_balance(lp, arr)
    add_usage_lower(lp, arr)
    add_usage_upper(lp, arr)
    add_standalone(lp, arr)
    add_incremental(lp, arr)
    add_burden(lp, arr, fixed, margin)
    return lp


def write_lp(inputs: AllocationInputs, path: str | Path) -> AllocationLP:
    """Write the min-t LP of `inputs` to an ``.lp`` file for inspection; returns the model."""
    lp = build_allocation_lp(to_arrays(inputs))
    lp.problem.writeLP(str(path))
    return lp


def cbc_path() -> str:
    """The CBC binary: ``cbc`` on PATH (PuLP 4 with ``pulp[cbc]``), else PuLP 3's bundled one."""
    found = shutil.which("cbc")
    if found:
        return found
    from pulp.apis import coin_api  # PuLP 3.x ships CBC inside the package

    path = os.path.abspath(coin_api.pulp_cbc_path)
    if not os.access(path, os.X_OK):
        raise ModelError("Solveur CBC introuvable : installez `pulp[cbc]` ou choisissez HiGHS.")
    return path


def pulp_solver(name: str) -> pulp.LpSolver:
    """The PuLP solver for a path name (``pulp-cbc`` or ``pulp-highs``), silent."""
    if name == "pulp-cbc":
        return pulp.COIN_CMD(path=cbc_path(), msg=False)
    if name == "pulp-highs":
        return pulp.HiGHS(msg=False)
    raise ValueError(f"Solveur PuLP inconnu : {name}")


class PulpBackend:
    """Leximin backend on PuLP: rebuilds the problem each round with the fixed levels."""

    def __init__(self, arr: Arrays, solver: str):
        self.arr = arr
        self.name = solver
        self.fixed: dict[int, float] = {}
        self.lp: AllocationLP | None = None

    def solve(self) -> RoundSolution:
        arr = self.arr
        n, n_pools = len(arr.communes), len(arr.pools)
        margin = 1e-8 if self.name == "pulp-cbc" else 1e-12
        lp = self.lp = build_allocation_lp(arr, self.fixed, margin)
        lp.problem.solve(pulp_solver(self.name))
        if pulp.LpStatus[lp.problem.status] != "Optimal":
            return RoundSolution(False, np.nan, np.zeros((n, n_pools)), np.zeros(n), {})
        x = np.array([[lp.x[i, p].value() or 0.0 for p in range(n_pools)] for i in range(n)])
        duals = {name: float(c.pi or 0.0) for name, c in lp.constraints.items()}
        weight = np.array([
            0.0 if i in self.fixed
            else abs(duals[lp_name("burden", "", c)]) * arr.capacity[i]
            for i, c in enumerate(arr.communes)
        ])
        return RoundSolution(True, float(lp.t.value()), x, weight, duals)

    def fix(self, idx: np.ndarray, level: float) -> None:
        for i in idx:
            self.fixed[int(i)] = level
