"""One formulation, several backends: constraint groups produce their coefficients and labels once.

A `Formulation` is columns (names, bounds, costs) and named `RowGroup`s (a sparse block of rows,
their ranged bounds ``lower <= A x <= upper`` and one label per row). The same object is turned
into a highspy model (`to_highs`), a PuLP problem (`to_pulp`, names ``{group}__{pool}__{who}``) and
an elastic model (`elastic`: penalised slack on the groups allowed to give way), as linopy's
``to_highspy`` does. Duals and slacks come back per group and label (`row_values`), whichever
backend solved it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
import pulp
import scipy.sparse as sp

from model.allocation.fast import new_highs

INF = highspy.kHighsInf
SEP = "__"


@dataclass
class RowGroup:
    """A named block of rows ``lower <= a @ columns <= upper``.

    ``labels`` holds ``(pool, who)`` per row (``who`` a commune code, a group ``41018+41269`` or
    ``""``); ``relax`` says which side the elastic model may relax (``"upper"``, ``"lower"``,
    ``"both"`` or ``""`` for a group that must hold); ``rule`` names the voted parameter the group
    implements (``burden_cap``...), None for structural groups.
    """

    group: str
    a: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    labels: list[tuple[str, str]]
    relax: str = ""
    rule: str | None = None

    def __post_init__(self):
        self.a = sp.csr_matrix(self.a)
        self.lower = np.asarray(self.lower, dtype=float)
        self.upper = np.asarray(self.upper, dtype=float)
        m = self.a.shape[0]
        if not (len(self.lower) == len(self.upper) == len(self.labels) == m):
            raise ValueError(f"groupe {self.group} : tailles incohérentes")

    @property
    def size(self) -> int:
        return self.a.shape[0]

    def names(self) -> list[str]:
        return [f"{self.group}{SEP}{pool}{SEP}{who}" for pool, who in self.labels]


@dataclass
class Formulation:
    """Columns and constraint groups of one LP (minimisation)."""

    columns: list[str]
    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray
    groups: list[RowGroup] = field(default_factory=list)

    @property
    def n_cols(self) -> int:
        return len(self.columns)

    def add(self, group: RowGroup) -> None:
        if group.a.shape[1] != self.n_cols:
            raise ValueError(f"groupe {group.group} : {group.a.shape[1]} colonnes pour {self.n_cols}")
        self.groups.append(group)

    def group(self, name: str) -> list[RowGroup]:
        return [g for g in self.groups if g.group == name]

    def offsets(self) -> list[int]:
        """First row of each group in the stacked matrix."""
        return list(np.cumsum([0] + [g.size for g in self.groups])[:-1])

    def stacked(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        if not self.groups:
            return sp.csr_matrix((0, self.n_cols)), np.zeros(0), np.zeros(0)
        a = sp.vstack([g.a for g in self.groups], format="csr")
        lo = np.concatenate([g.lower for g in self.groups])
        up = np.concatenate([g.upper for g in self.groups])
        return a, lo, up


def to_highs(form: Formulation, h: highspy.Highs | None = None) -> highspy.Highs:
    """Load the formulation into a (new, silent) HiGHS model."""
    h = h or new_highs()
    a, lo, up = form.stacked()
    csc = a.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = form.n_cols, a.shape[0]
    lp.col_cost_ = np.asarray(form.cost, dtype=float)
    lp.col_lower_ = np.where(np.isfinite(form.col_lower), form.col_lower, -INF)
    lp.col_upper_ = np.where(np.isfinite(form.col_upper), form.col_upper, INF)
    lp.row_lower_ = np.where(np.isfinite(lo), lo, -INF)
    lp.row_upper_ = np.where(np.isfinite(up), up, INF)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    h.passModel(lp)
    return h


def add_rows_highs(h: highspy.Highs, group: RowGroup) -> None:
    """Append a group's rows to a live HiGHS model (constraint generation)."""
    a = group.a.tocsr()
    h.addRows(group.size, np.where(np.isfinite(group.lower), group.lower, -INF),
              np.where(np.isfinite(group.upper), group.upper, INF), a.nnz,
              a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data.astype(float))


@dataclass
class Solution:
    """Column values, row activities and duals of one solve (None when not optimal)."""

    status: str
    x: np.ndarray | None
    activity: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    objective: float = np.nan

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


def solve_highs(h: highspy.Highs) -> Solution:
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        h.clearSolver()  # a warm start can stall on a degenerate basis: retry from scratch
        h.run()
        status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return Solution("infeasible", None)
    if status != highspy.HighsModelStatus.kOptimal:
        return Solution(h.modelStatusToString(status), None)
    sol = h.getSolution()
    return Solution("optimal", np.asarray(sol.col_value), np.asarray(sol.row_value),
                    np.asarray(sol.row_dual), float(h.getInfo().objective_function_value))


def to_pulp(form: Formulation, name: str = "allocation") -> tuple[pulp.LpProblem, list]:
    """The same LP as a PuLP problem with one named constraint per row (for CBC or reading)."""
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    cols = [prob.add_variable(c, lowBound=None if not np.isfinite(lo) else float(lo),
                              upBound=None if not np.isfinite(up) else float(up))
            for c, lo, up in zip(form.columns, form.col_lower, form.col_upper, strict=True)]
    prob.setObjective(pulp.LpAffineExpression(
        [(cols[j], float(c)) for j, c in enumerate(form.cost) if c != 0]))
    rows = []
    for g in form.groups:
        a = g.a.tocsr()
        for r, name_r in enumerate(g.names()):
            lo_, up_ = a.indptr[r], a.indptr[r + 1]
            expr = pulp.LpAffineExpression(
                [(cols[j], float(v)) for j, v in zip(a.indices[lo_:up_], a.data[lo_:up_], strict=True)])
            lo, up = g.lower[r], g.upper[r]
            if np.isfinite(lo) and np.isfinite(up) and lo == up:
                cons = [(expr == float(lo), name_r)]
            else:
                cons = []
                if np.isfinite(lo):
                    cons.append((expr >= float(lo), name_r + ("_lo" if np.isfinite(up) else "")))
                if np.isfinite(up):
                    cons.append((expr <= float(up), name_r + ("_up" if np.isfinite(lo) else "")))
            for c, nm in cons:
                prob += c, nm
                rows.append((g.group, r, nm))
    return prob, rows


def solve_pulp(form: Formulation, solver: pulp.LpSolver) -> Solution:
    """Solve through PuLP; duals are summed back per row (a ranged row may be two constraints)."""
    prob, rows = to_pulp(form)
    prob.solve(solver)
    status = pulp.LpStatus[prob.status]
    if status != "Optimal":
        return Solution("infeasible" if status == "Infeasible" else status.lower(), None)
    x = np.array([v.value() or 0.0 for v in prob.variables()])
    order = {v.name: k for k, v in enumerate(prob.variables())}
    x = np.array([x[order[c]] if c in order else 0.0 for c in form.columns])
    offsets = dict(zip([id(g) for g in form.groups], form.offsets(), strict=True))
    by_group = {g.group: g for g in form.groups}
    n_rows = sum(g.size for g in form.groups)
    dual = np.zeros(n_rows)
    constraints = {c.name: c for c in prob.constraints()}
    for group, r, nm in rows:
        dual[offsets[id(by_group[group])] + r] += float(constraints[nm].pi or 0.0)
    a, _, _ = form.stacked()
    return Solution("optimal", x, a @ x, dual, float(pulp.value(prob.objective) or 0.0))


def elastic(form: Formulation, weights: dict[str, float] | None = None) -> tuple[Formulation, list]:
    """The elastic variant: one nonnegative slack per relaxable row side, the slack's sum (times
    the group's weight) as the only objective. Returns the new formulation and, per slack column,
    ``(group index, row, side)`` with side +1 (the row's upper bound raised) or -1 (lower lowered).
    """
    weights = weights or {}
    blocks, slack_of, names = [], [], []
    for gi, g in enumerate(form.groups):
        sides = {"upper": [1], "lower": [-1], "both": [1, -1]}.get(g.relax, [])
        for side in sides:
            rows = np.flatnonzero(np.isfinite(g.upper if side > 0 else g.lower))
            for r in rows:
                slack_of.append((gi, int(r), side, weights.get(g.group, 1.0)))
                pool, who = g.labels[r]
                names.append(f"slack_{g.group}_{'up' if side > 0 else 'lo'}{SEP}{pool}{SEP}{who}")
        blocks.append(g)
    k = len(slack_of)
    out = Formulation(
        columns=form.columns + names,
        col_lower=np.concatenate([form.col_lower, np.zeros(k)]),
        col_upper=np.concatenate([form.col_upper, np.full(k, np.inf)]),
        cost=np.concatenate([np.zeros(form.n_cols), [w for *_, w in slack_of]]),
    )
    for gi, g in enumerate(form.groups):
        extra = sp.lil_matrix((g.size, k))
        for j, (gj, r, side, _) in enumerate(slack_of):
            if gj == gi:
                extra[r, j] = -side  # upper side: a x - s <= up ; lower side: a x + s >= lo
        out.add(RowGroup(g.group, sp.hstack([g.a, extra.tocsr()], format="csr"), g.lower,
                         g.upper, g.labels, g.relax, g.rule))
    return out, [(gi, r, side) for gi, r, side, _ in slack_of]


def widen(form: Formulation, n_extra: int) -> Formulation:
    """The same formulation with `n_extra` zero columns appended to every group (new variables)."""
    return Formulation(
        columns=list(form.columns), col_lower=form.col_lower.copy(),
        col_upper=form.col_upper.copy(), cost=form.cost.copy(),
        groups=[RowGroup(g.group, sp.hstack([g.a, sp.csr_matrix((g.size, n_extra))], format="csr"),
                         g.lower, g.upper, g.labels, g.relax, g.rule) for g in form.groups])
