"""The default split: the voted reference key, corrected as little as possible (DESIGN.md).

Variables ``x_ip >= 0`` (euros paid by commune ``i`` for pool ``p``), reference key amounts
``k_ip`` (the usage key by default) with commune totals ``K_i``. Constraint groups, each built once
here and turned into a HiGHS, PuLP or elastic model by `formulation.py`:

* ``balance``: ``sum_i x_ip = T_p`` (the pool's cost less the EPCI's share);
* ``key_ratio``: ``sum_p x_ip / K_i <= t`` (the objective's rows: ``t = 1 + u``);
* ``standalone``: ``x_ip <= C_p({i})`` and ``incremental``: ``x_ip >= T_p - C_p(N \\ {i})``, the
  singleton and complement rows of the core, always present;
* ``core``: ``sum_{i in S} x_ip <= C_p(S)``, added lazily for the most overcharged group found by
  `games.most_overcharged` (exact enumeration for small EPCIs, proven bound above);
* voted rules, each optional: ``burden_cap`` (``sum_p x_ip <= cap * capacity_i``),
  ``guaranteed_saving`` (``sum_p x_ip <= (1 - s) sum_p C_p({i})``), ``key_departure``
  (``(1 - d) k_ip <= x_ip <= (1 + d) k_ip``), ``usage_band`` (``lo u_ip <= x_ip <= hi u_ip``).

Objective: minimise ``t`` (the largest relative increase over the key), then leximin: fix every
commune whose ratio equals ``t`` in all optima and minimise again for the others. Which communes
are forced is decided by one LP per round (maximise the slack ``z_i <= DELTA`` each free commune
can take below ``t``): a commune that could only go below ``t`` by less than ``DELTA`` of its key
(0.01 %) while others go down too may be fixed at ``t``; that is the method's stated tolerance.
Finally each commune's total is spread over pools as close to its key profile as the rules allow.
When the key already meets every rule and no group is overcharged, the answer is the key (``u = 0``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from model.allocation.explain import eur_fr, pct_fr
from model.allocation.formulation import (
    INF,
    Formulation,
    RowGroup,
    Solution,
    add_rows_highs,
    elastic,
    solve_highs,
    to_highs,
)
from model.allocation.games import CORE_TOL_EUR, PoolGame, most_overcharged, violated_groups
from model.allocation.rounding import label_rank, round_bounded
from model.costs import POOL_LABELS_FR
from model.errors import InputError, ModelError, Problem

#: Slack a free commune may take below t in the classification LP (ratio of its key).
DELTA = 1e-4
#: Rounds of constraint generation per solve before giving up (each adds one row per pool).
MAX_CUT_ROUNDS = 200
#: Ratios closer than this count as equal (reporting and leximin levels).
RATIO_TOL = 1e-7
#: Overcharged groups added per pool and solve (constraint generation).
CUTS_PER_POOL = 10
#: Restarts of the leximin rounds when a late group row contradicts an earlier round's fixing.
MAX_RESTARTS = 10

#: Money in thousands of euros inside this LP: HiGHS's feasibility tolerance (1e-7) is then a
#: tenth of a cent, finer than the core test's cent, and coefficients stay near 1.
SCALE_EUR = 1e3

RULES = ("burden_cap", "guaranteed_saving", "key_departure", "usage_band")
RULE_LABELS_FR = {
    "burden_cap": "plafond de charge",
    "guaranteed_saving": "économie garantie",
    "key_departure": "écart maximal à la clé",
    "usage_band": "bande d'usage",
}
KEY_LABELS_FR = {
    "usage": "la clé d'usage",
    "population": "la clé population",
    "potentiel_financier": "la clé potentiel financier",
    "agents": "la clé agents",
    "workstations": "la clé postes de travail",
    "equal": "la clé à parts égales",
    "weighted": "la clé mixte",
    "grid": "votre grille tarifaire actuelle",
}
CAPACITY_LABELS_FR = {
    "potentiel_financier_eur": "potentiel financier",
    "rrf_eur": "recettes réelles de fonctionnement",
}
EXPLANATION_COLUMNS = [
    "commune", "name", "key_eur", "amount_eur", "change_eur", "change_ratio", "standalone_eur",
    "saving_eur", "saving_ratio", "rule", "reason_fr",
]
DIAGNOSIS_COLUMNS = ["group", "commune", "pool", "slack_eur", "explanation_fr"]


@dataclass(frozen=True)
class VotedRules:
    """The rules a plenary voted; None leaves a rule out."""

    burden_cap: float | None = None  # ratio of capacity (potentiel financier or RRF)
    guaranteed_saving: float | None = None  # ratio of the commune's stand-alone cost
    key_departure: float | None = None  # +/- ratio of the key amount (FPIC derogation: 0.30)
    usage_band: tuple[float, float] | None = None  # multiples of the usage-key amount

    def active(self) -> list[str]:
        return [r for r in RULES if getattr(self, r) is not None]

    def check(self) -> None:
        problems = []
        if self.burden_cap is not None and not (np.isfinite(self.burden_cap) and self.burden_cap > 0):
            problems.append(Problem(f"plafond de charge invalide ({self.burden_cap}) : il faut un "
                                    "ratio > 0", column="burden_cap"))
        if self.guaranteed_saving is not None and not 0 <= self.guaranteed_saving < 1:
            problems.append(Problem(f"économie garantie invalide ({self.guaranteed_saving}) : il "
                                    "faut un ratio entre 0 et 1", column="guaranteed_saving"))
        if self.key_departure is not None and not 0 <= self.key_departure:
            problems.append(Problem(f"écart à la clé invalide ({self.key_departure}) : il faut un "
                                    "ratio ≥ 0", column="key_departure"))
        if self.usage_band is not None and not 0 <= self.usage_band[0] <= self.usage_band[1]:
            problems.append(Problem(f"bande d'usage invalide {self.usage_band} : il faut "
                                    "0 ≤ bas ≤ haut", column="usage_band"))
        if problems:
            raise InputError(problems)


@dataclass(frozen=True)
class VotedInputs:
    """One year's split problem. Money in euros; frames indexed by commune, columns by pool."""

    key: pd.DataFrame  # reference key amounts k_ip; each column sums to to_split
    to_split: pd.Series
    games: dict[str, PoolGame]  # drivers aligned on key.index
    capacity: pd.Series
    usage: pd.DataFrame  # usage-key amounts (for the usage band)
    rules: VotedRules = VotedRules()
    key_name: str = "usage"
    capacity_column: str = "potentiel_financier_eur"
    names: pd.Series | None = None

    @property
    def communes(self) -> pd.Index:
        return self.key.index

    @property
    def pools(self) -> pd.Index:
        return self.to_split.index

    def label(self, commune: str) -> str:
        if self.names is not None and commune in self.names.index:
            return str(self.names[commune])
        return str(commune)


@dataclass
class CoreReport:
    """Whether a split is in the core, pool by pool: the most overcharged group and the bound."""

    in_core: bool | None  # None: no overcharged group found, but not proven (see bound_eur)
    pools: pd.DataFrame  # pool, group, group_names, excess_eur, bound_eur, exact

    def worst(self) -> pd.Series:
        return self.pools.sort_values("excess_eur", ascending=False).iloc[0]

    def to_dict(self) -> dict:
        w = self.worst()
        return {
            "in_core": self.in_core,
            "most_overcharged_group": w["group"] if w["excess_eur"] > CORE_TOL_EUR else None,
            "most_overcharged_pool": w["pool"] if w["excess_eur"] > CORE_TOL_EUR else None,
            "most_overcharged_names": w["group_names"] if w["excess_eur"] > CORE_TOL_EUR else None,
            "overcharge_eur": round(max(float(w["excess_eur"]), 0.0), 2),
            "bound_eur": round(max(float(self.pools["bound_eur"].max()), 0.0), 2),
            "exact": bool(self.pools["exact"].all()),
        }


@dataclass
class VotedResult:
    """The split (cent-rounded, balancing), how far it departs from the key, and why."""

    amounts: pd.DataFrame
    raw: pd.DataFrame
    status: str  # "optimal" or "infeasible"
    increase: float  # u: the largest relative increase over the key
    key_kept: bool
    ratio: pd.Series  # amount / key per commune
    core: CoreReport
    diagnosis: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DIAGNOSIS_COLUMNS))
    conflict: dict | None = None  # the voted parameter named first, with its feasible limit
    rounds: int = 0
    core_rows: int = 0
    solve_seconds: float = 0.0
    #: The explanation is built when first read: a screen needs the year it shows, not seven.
    _explain: Callable[[], pd.DataFrame] | None = field(default=None, repr=False, compare=False)
    _summary: Callable[[pd.DataFrame], str] | str = field(default="", repr=False,
                                                          compare=False)

    @cached_property
    def explanation(self) -> pd.DataFrame:
        """One row per commune: key amount, amount paid, the change and why, its saving."""
        return self._explain()

    @cached_property
    def summary_fr(self) -> str:
        """The split in one French sentence (what a DGS reads aloud)."""
        return self._summary if isinstance(self._summary, str) else self._summary(
            self.explanation)


# --- the formulation -------------------------------------------------------------------------


class Layout:
    """Column positions: x (commune-major, ``i * P + p``), t, z (one per x)."""

    def __init__(self, n: int, n_pools: int):
        self.n, self.P = n, n_pools
        self.nx = n * n_pools
        self.t = self.nx
        self.z0 = self.nx + 1
        self.n_cols = self.z0 + self.nx

    def x(self, i, p):
        return np.asarray(i) * self.P + np.asarray(p)


def _block(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, m: int, n_cols: int):
    return sp.csr_matrix((vals, (rows, cols)), shape=(m, n_cols))


@dataclass
class Arrays:
    """The problem in millions of euros (toolchain.md §2: coefficients near 1)."""

    key: np.ndarray  # (n, P)
    ktot: np.ndarray  # (n,)
    total: np.ndarray  # (P,)
    sa: np.ndarray  # (n, P)
    floor_inc: np.ndarray  # (n, P) T_p - C_p(N \ {i}), may be negative
    capacity: np.ndarray  # (n,)
    usage: np.ndarray  # (n, P)


def to_arrays(inp: VotedInputs) -> Arrays:
    pools = list(inp.pools)
    key = inp.key.reindex(columns=pools).to_numpy(dtype=float) / SCALE_EUR
    total = inp.to_split.to_numpy(dtype=float) / SCALE_EUR
    sa = np.column_stack([inp.games[p].standalone() for p in pools]) / SCALE_EUR
    inc = np.column_stack([inp.to_split[p] - inp.games[p].without_each() for p in pools]) / SCALE_EUR
    return Arrays(key, key.sum(axis=1), total, sa, inc,
                  inp.capacity.reindex(inp.communes).to_numpy(dtype=float) / SCALE_EUR,
                  inp.usage.reindex(columns=pools).to_numpy(dtype=float) / SCALE_EUR)


def check_inputs(inp: VotedInputs) -> None:
    problems = []
    pools = list(inp.pools)
    if list(inp.key.columns) != pools and set(inp.key.columns) != set(pools):
        problems.append(Problem("la clé ne couvre pas les mêmes services que le montant à répartir",
                                column="key"))
    if set(inp.games) != set(pools):
        problems.append(Problem("un service n'a pas de fonction de coût", column="games"))
    key = inp.key.reindex(columns=pools).to_numpy(dtype=float)
    if not np.isfinite(key).all() or (key < -1e-9).any():
        problems.append(Problem("la clé de référence a un montant négatif ou manquant", column="key"))
    elif np.abs(key.sum(axis=0) - inp.to_split.to_numpy(dtype=float)).max() > 0.01:
        problems.append(Problem("la clé de référence ne répartit pas exactement chaque service",
                                column="key"))
    cap = inp.capacity.reindex(inp.communes).to_numpy(dtype=float)
    if inp.rules.burden_cap is not None and not (np.isfinite(cap).all() and (cap > 0).all()):
        problems.append(Problem("la capacité contributive doit être > 0 pour chaque commune",
                                column="capacity"))
    if problems:
        raise InputError(problems)
    inp.rules.check()


def build(inp: VotedInputs, arr: Arrays) -> tuple[Formulation, Layout]:
    """The formulation of the year: columns x, t, z, dev and every constraint group."""
    communes, pools = [str(c) for c in inp.communes], [str(p) for p in inp.pools]
    n, P = len(communes), len(pools)
    lay = Layout(n, P)
    cols = ([f"pay__{p}__{c}" for c in communes for p in pools] + ["t_key_ratio"]
            + [f"below__{p}__{c}" for c in communes for p in pools])
    k = ratio_key(arr)
    col_lower = np.concatenate([np.zeros(lay.nx), [-INF], np.zeros(lay.nx)])
    col_upper = np.concatenate([np.full(lay.nx, INF), [INF], np.zeros(lay.nx)])
    cost = np.zeros(lay.n_cols)
    cost[lay.t] = 1.0
    form = Formulation(cols, col_lower, col_upper, cost)
    ii, pp = np.meshgrid(np.arange(n), np.arange(P), indexing="ij")
    ii, pp = ii.ravel(), pp.ravel()
    xcol = lay.x(ii, pp)
    per_entry = [(pools[p], communes[i]) for i, p in zip(ii, pp, strict=True)]
    per_commune = [("", c) for c in communes]
    eye_x = _block(np.arange(lay.nx), xcol, np.ones(lay.nx), lay.nx, lay.n_cols)
    totals = _block(ii, xcol, np.ones(lay.nx), n, lay.n_cols)

    form.add(RowGroup("balance", _block(pp, xcol, np.ones(lay.nx), P, lay.n_cols),
                      arr.total, arr.total, [(p, "") for p in pools]))
    # x_ip / k_ip + z_ip - t <= 0 for every entry
    e = np.arange(lay.nx)
    m = len(e)
    rows = np.concatenate([np.arange(m)] * 3)
    cols_r = np.concatenate([xcol[e], lay.z0 + e, np.full(m, lay.t)])
    vals = np.concatenate([1.0 / k[e], np.ones(m), -np.ones(m)])
    form.add(RowGroup("key_ratio", _block(rows, cols_r, vals, m, lay.n_cols), np.full(m, -INF),
                      np.zeros(m), [per_entry[j] for j in e]))
    form.add(RowGroup("standalone", eye_x, np.full(lay.nx, -INF), arr.sa.ravel(), per_entry))
    floor = arr.floor_inc.ravel()
    keep = floor > 1e-12
    if keep.any():
        form.add(RowGroup("incremental", eye_x[keep], floor[keep], np.full(keep.sum(), INF),
                          [e for e, k in zip(per_entry, keep, strict=True) if k]))
    r = inp.rules
    if r.burden_cap is not None:
        form.add(RowGroup("burden_cap", totals, np.full(n, -INF), r.burden_cap * arr.capacity,
                          per_commune, relax="upper", rule="burden_cap"))
    if r.guaranteed_saving is not None:
        form.add(RowGroup("guaranteed_saving", totals, np.full(n, -INF),
                          (1 - r.guaranteed_saving) * arr.sa.sum(axis=1), per_commune,
                          relax="upper", rule="guaranteed_saving"))
    if r.key_departure is not None:
        k = arr.key.ravel()
        form.add(RowGroup("key_departure", eye_x, (1 - r.key_departure) * k,
                          (1 + r.key_departure) * k, per_entry, relax="both", rule="key_departure"))
    if r.usage_band is not None:
        u = arr.usage.ravel()
        form.add(RowGroup("usage_band", eye_x, r.usage_band[0] * u, r.usage_band[1] * u,
                          per_entry, relax="both", rule="usage_band"))
    return form, lay


def ratio_key(arr: Arrays) -> np.ndarray:
    """The key entries the ratio rows divide by: a zero key entry (the key bills nothing, e.g. a
    commune outside a grid's first band) counts as a hundredth of its service's smallest positive
    entry, so the leximin gives it as little as the core allows (usually nothing; its incremental
    cost when the key itself is outside the core)."""
    k = arr.key.copy()
    for p in range(k.shape[1]):
        col = k[:, p]
        positive = col[col > 0]
        floor = positive.min() * 1e-2 if len(positive) else 1e-9
        k[:, p] = np.where(col > 0, col, floor)
    return k.ravel()


def core_row(inp: VotedInputs, lay: Layout, p: int, members: np.ndarray) -> RowGroup:
    """``sum_{i in S} x_ip <= C_p(S)`` for one group (label: the group's codes joined by +)."""
    pool = str(inp.pools[p])
    a = _block(np.zeros(len(members), dtype=int), lay.x(members, p), np.ones(len(members)), 1,
               lay.n_cols)
    cost = inp.games[pool].cost(members) / SCALE_EUR
    who = "+".join(str(inp.communes[i]) for i in members)
    return RowGroup("core", a, [-INF], [cost], [(pool, who)])


# --- solving ---------------------------------------------------------------------------------


class Solver:
    """A live HiGHS model with lazily generated core rows."""

    def __init__(self, inp: VotedInputs, form: Formulation, lay: Layout):
        self.inp, self.form, self.lay = inp, form, lay
        self.h = to_highs(form)
        self.core_groups: list[RowGroup] = []
        self.seen: set[tuple[int, tuple]] = set()
        self.core = True
        self.row_of_group = {}
        for g, off in zip(form.groups, form.offsets(), strict=True):
            self.row_of_group.setdefault(g.group, off)

    def x(self, sol: Solution) -> np.ndarray:
        return sol.x[: self.lay.nx].reshape(self.lay.n, self.lay.P)

    def solve(self, separate: bool = True) -> Solution:
        """Solve, add every overcharged group found, repeat until none is."""
        for _ in range(MAX_CUT_ROUNDS):
            sol = solve_highs(self.h)
            if not sol.optimal or not separate or not self.core:
                return sol
            x = self.x(sol)
            added = 0
            for p, pool in enumerate(self.inp.pools):
                for members in violated_groups(self.inp.games[str(pool)], x[:, p] * SCALE_EUR,
                                               limit=CUTS_PER_POOL):
                    mark = (p, tuple(int(m) for m in members))
                    if mark in self.seen:
                        continue
                    self.seen.add(mark)
                    row = core_row(self.inp, self.lay, p, members)
                    add_rows_highs(self.h, row)
                    self.core_groups.append(row)
                    added += 1
            if not added:
                return sol
        raise ModelError("La recherche des groupes surtaxés n'a pas convergé "
                         f"({MAX_CUT_ROUNDS} tours).")

    def set_cost(self, cost: np.ndarray) -> None:
        idx = np.arange(self.lay.n_cols, dtype=np.int32)
        self.h.changeColsCost(len(idx), idx, np.asarray(cost, dtype=float))

    def set_col_bounds(self, cols: np.ndarray, lo: np.ndarray, up: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        self.h.changeColsBounds(len(cols), cols, np.asarray(lo, float), np.asarray(up, float))


def leximin(solver: Solver, arr: Arrays) -> tuple[np.ndarray, int] | None:
    """Leximin over the entries' ratios ``x_ip / k_ip``: minimise the largest, fix every entry
    that sits at it in all optima, repeat. Returns the final x (n, P) and the number of rounds;
    None when the rules cannot all hold (round 1 infeasible)."""
    lay, h = solver.lay, solver.h
    k = ratio_key(arr)
    entries = np.arange(len(k))  # row r of key_ratio <-> entry r
    free = np.ones(len(entries), dtype=bool)
    ratio_row0 = solver.row_of_group["key_ratio"]
    cost_t = np.zeros(lay.n_cols)
    cost_t[lay.t] = 1.0
    cost_z = np.zeros(lay.n_cols)
    cost_z[lay.z0 + entries] = -1.0
    rounds = restarts = 0
    sol = None
    while free.any():
        rounds += 1
        solver.set_cost(cost_t)
        sol = solver.solve()
        if not sol.optimal:
            if rounds == 1:
                return None
            # A group found only now (large EPCIs: heuristic search) conflicts with an earlier
            # round's fixing: start the rounds again, keeping every group row found so far.
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise ModelError(f"Le raffinement leximin a échoué au tour {rounds}.")
            fixed_rows = (ratio_row0 + np.flatnonzero(~free)).astype(np.int32)
            for r in fixed_rows:
                h.changeCoeff(int(r), lay.t, -1.0)
            h.changeRowsBounds(len(fixed_rows), fixed_rows, np.full(len(fixed_rows), -INF),
                               np.zeros(len(fixed_rows)))
            free[:] = True
            rounds = 0
            continue
        t_k = float(sol.x[lay.t])
        eps = RATIO_TOL * max(1.0, abs(t_k))
        # which free entries can go below t_k at all? (max sum of z_ip <= DELTA)
        solver.set_col_bounds([lay.t], [-INF], [t_k + eps])
        z_cols = lay.z0 + entries[free]
        solver.set_col_bounds(z_cols, np.zeros(len(z_cols)), np.full(len(z_cols), DELTA))
        solver.set_cost(cost_z)
        probe = solver.solve(separate=False)  # a relaxation: an entry forced here is forced
        solver.set_col_bounds(z_cols, np.zeros(len(z_cols)), np.zeros(len(z_cols)))
        solver.set_col_bounds([lay.t], [-INF], [INF])
        if probe.optimal:
            forced = free & (probe.x[lay.z0 + entries] < DELTA * 1e-3)
            sol = probe
        else:
            forced = np.zeros(len(entries), dtype=bool)
        if not forced.any():  # numerical safety: fix the entries at t_k in the round's optimum
            forced = free & (sol.x[entries] / k[entries] >= t_k - eps)
        if not forced.any():
            raise ModelError(f"Raffinement leximin bloqué au tour {rounds}.")
        free &= ~forced
        rows = (ratio_row0 + np.flatnonzero(forced)).astype(np.int32)
        for r in rows:
            h.changeCoeff(int(r), lay.t, 0.0)
        h.changeRowsBounds(len(rows), rows, np.full(len(rows), -INF),
                           np.full(len(rows), t_k + eps))
    if sol is None:  # nothing has a key: nothing to pay
        return np.zeros((lay.n, lay.P)), 0
    return solver.x(sol), rounds


# --- the core report -------------------------------------------------------------------------


def core_report(inp: VotedInputs, amounts: pd.DataFrame) -> CoreReport:
    """Is `amounts` (commune x pool euros) in the core, pool by pool?"""
    rows = []
    codes = inp.communes.astype(str).to_numpy()
    labels = (codes if inp.names is None else
              inp.names.astype(str).reindex(codes).fillna(pd.Series(codes, index=codes)).to_numpy())
    for pool in inp.pools:
        x = amounts[pool].reindex(inp.communes).to_numpy(dtype=float)
        sep = most_overcharged(inp.games[str(pool)], x)
        rows.append({
            "pool": str(pool), "group": "+".join(codes[sep.members]),
            "group_names": " + ".join(labels[sep.members]),
            "excess_eur": float(sep.excess_eur), "bound_eur": float(sep.bound_eur),
            "exact": bool(sep.exact)})
    df = pd.DataFrame(rows)
    # amounts are rounded to the cent: a group may exceed its cost by a cent per member
    allowance = CORE_TOL_EUR * np.maximum(df["group"].str.count(r"\+") + 1, 1)
    if (df["excess_eur"] > allowance).any():
        in_core = False
    elif (df["bound_eur"] <= np.maximum(allowance, CORE_TOL_EUR)).all():
        in_core = True
    else:
        in_core = None
    return CoreReport(in_core, df)


# --- the method ------------------------------------------------------------------------------


def allocate_voted(inp: VotedInputs, core: bool = True) -> VotedResult:
    """Split each pool by the reference key, corrected only where a voted rule or the core demands.

    Returns an optimal result (the key itself when it meets every rule), or an infeasible one
    whose `conflict` names the voted parameter that cannot hold with its feasible limit, and whose
    amounts are the elastic point (balanced, flagged ``infeasible``). ``core=False`` keeps only
    the stand-alone and incremental rows (no group rows): for benchmarks and comparisons.
    """
    start = time.perf_counter()
    check_inputs(inp)
    arr = to_arrays(inp)
    key = inp.key.reindex(columns=list(inp.pools)).astype(float)
    key_rounded = _round(inp, arr, key.to_numpy() / SCALE_EUR)
    if _meets_rules(inp, arr, key.to_numpy() / SCALE_EUR):
        report = core_report(inp, key_rounded)
        if report.in_core is not False:
            ratio = pd.Series(np.ones(len(inp.communes)), index=inp.communes)
            return _result(inp, arr, key_rounded, key, "optimal", ratio, report, rounds=0,
                           core_rows=0, start=start, kept=True)
    form, lay = build(inp, arr)
    solver = Solver(inp, form, lay)
    solver.core = core
    lex = leximin(solver, arr)
    if lex is None:
        return _infeasible(inp, arr, form, lay, start)
    x, rounds = lex
    raw = pd.DataFrame(x * SCALE_EUR, index=inp.communes, columns=inp.pools)
    amounts = _round(inp, arr, x, solver)
    report = core_report(inp, amounts)
    ratio = commune_ratio(inp, arr, x)
    return _result(inp, arr, amounts, raw, "optimal", ratio, report, rounds=rounds,
                   core_rows=len(solver.core_groups), start=start, kept=False, solver=solver)


def _meets_rules(inp: VotedInputs, arr: Arrays, x: np.ndarray) -> bool:
    tol = CORE_TOL_EUR / SCALE_EUR
    tot = x.sum(axis=1)
    r = inp.rules
    ok = (x <= arr.sa + tol).all() and (x >= arr.floor_inc - tol).all()
    if r.burden_cap is not None:
        ok &= (tot <= r.burden_cap * arr.capacity + tol).all()
    if r.guaranteed_saving is not None:
        ok &= (tot <= (1 - r.guaranteed_saving) * arr.sa.sum(axis=1) + tol).all()
    if r.usage_band is not None:
        ok &= ((x >= r.usage_band[0] * arr.usage - tol) & (x <= r.usage_band[1] * arr.usage + tol)).all()
    return bool(ok)


def tight_groups(inp: VotedInputs, x: np.ndarray, solver: Solver | None,
                 tol: float) -> list[tuple[int, list[int]]]:
    """The generated group rows that bind at ``x`` (k€): ``(pool position, member positions)``."""
    if solver is None:
        return []
    pos = {str(c): i for i, c in enumerate(inp.communes)}
    pidx = {str(p): k for k, p in enumerate(inp.pools)}
    out = []
    for g in solver.core_groups:
        pool, who = g.labels[0]
        members = [pos[c] for c in who.split("+")]
        if x[members, pidx[pool]].sum() >= g.upper[0] - tol:
            out.append((pidx[pool], members))
    return out


def commune_ratio(inp: VotedInputs, arr: Arrays, x: np.ndarray) -> pd.Series:
    """What each commune pays over its key amount, all services together (0 without a key)."""
    has = arr.ktot > 0
    return pd.Series(np.where(has, x.sum(axis=1) / np.where(has, arr.ktot, 1.0), 0.0),
                     index=inp.communes)


def _round(inp: VotedInputs, arr: Arrays, x: np.ndarray, solver: Solver | None = None) -> pd.DataFrame:
    """Cent rounding that balances every pool and stays within every bound it can: an amount is
    rounded up only if that breaks no per-entry ceiling, no commune-level rule and no core row
    that is tight; rounded down only if that breaks no floor."""
    tol = 0.5 * CORE_TOL_EUR / SCALE_EUR
    upper = arr.sa.copy()
    lower = np.maximum(arr.floor_inc, 0.0)
    r = inp.rules
    if r.key_departure is not None:
        upper = np.minimum(upper, (1 + r.key_departure) * arr.key)
        lower = np.maximum(lower, (1 - r.key_departure) * arr.key)
    if r.usage_band is not None:
        upper = np.minimum(upper, r.usage_band[1] * arr.usage)
        lower = np.maximum(lower, r.usage_band[0] * arr.usage)
    tot = x.sum(axis=1)
    tight = np.zeros(x.shape, dtype=bool)
    if r.burden_cap is not None:
        tight |= (tot >= r.burden_cap * arr.capacity - tol)[:, None]
    if r.guaranteed_saving is not None:
        tight |= (tot >= (1 - r.guaranteed_saving) * arr.sa.sum(axis=1) - tol)[:, None]
    for p, members in tight_groups(inp, x, solver, tol):
        tight[members, p] = True
    upper = np.where(tight, np.minimum(upper, x), upper)
    out = round_bounded(x * SCALE_EUR, inp.to_split.to_numpy(dtype=float),
                        lower * SCALE_EUR, upper * SCALE_EUR, label_rank(inp.communes))
    return pd.DataFrame(out, index=inp.communes.copy(), columns=inp.pools.copy())


# --- explanations ----------------------------------------------------------------------------


def _result(inp, arr, amounts, raw, status, ratio, report, rounds, core_rows, start, kept,
            solver=None) -> VotedResult:
    x = np.asarray(pd.DataFrame(raw).reindex(columns=list(inp.pools)), dtype=float) / SCALE_EUR
    has = arr.key > 0
    u = float((x[has] / arr.key[has]).max() - 1.0) if has.any() else 0.0
    u = 0.0 if kept or abs(u) < RATIO_TOL else u
    return VotedResult(
        amounts=amounts, raw=pd.DataFrame(raw, index=inp.communes, columns=inp.pools),
        status=status, increase=u, key_kept=kept, ratio=ratio.rename("key_ratio"),
        core=report, _explain=lambda: explain(inp, arr, amounts, raw, ratio, solver),
        _summary=lambda expl: summary_fr(inp, expl, u, kept, report), rounds=rounds, core_rows=core_rows, solve_seconds=time.perf_counter() - start)


def explain(inp: VotedInputs, arr: Arrays, amounts: pd.DataFrame, raw, ratio: pd.Series,
            solver: Solver | None) -> pd.DataFrame:
    """One row per commune: key amount, amount paid, the change and why, its saving."""
    x = np.asarray(pd.DataFrame(raw).reindex(columns=list(inp.pools)), dtype=float) / SCALE_EUR
    tol = 0.5 * CORE_TOL_EUR / SCALE_EUR
    tot = x.sum(axis=1)
    r = inp.rules
    pools = [str(p) for p in inp.pools]
    t_max = float(ratio.max()) if len(ratio) else 1.0
    in_group: dict[int, list[str]] = {}
    for p, members in tight_groups(inp, x, solver, tol):
        names = " + ".join(inp.label(inp.communes[m]) for m in members)
        for m in members:
            in_group.setdefault(m, []).append(
                f"groupe {names} : plafonné à ce qu'il paierait seul "
                f"({POOL_LABELS_FR.get(pools[p], pools[p])})")
    cap_label = CAPACITY_LABELS_FR.get(inp.capacity_column, "capacité")
    rows = []
    paid = amounts.reindex(columns=pools).sum(axis=1)
    keyed = inp.key.reindex(columns=pools).sum(axis=1)
    alone = pd.Series(arr.sa.sum(axis=1) * SCALE_EUR, index=inp.communes)
    for i, c in enumerate(inp.communes):
        reasons, rule = [], ""
        rho = float(ratio.iloc[i])
        if r.burden_cap is not None and tot[i] >= r.burden_cap * arr.capacity[i] - tol:
            reasons.append(f"plafonnée à {pct_fr(r.burden_cap)} de son {cap_label}")
            rule = "burden_cap"
        if r.guaranteed_saving is not None and tot[i] >= (1 - r.guaranteed_saving) * arr.sa[i].sum() - tol:
            reasons.append(f"économie garantie de {pct_fr(r.guaranteed_saving)} sur son coût isolé")
            rule = rule or "guaranteed_saving"
        if r.key_departure is not None and abs(rho - 1) > RATIO_TOL:
            at = [pools[p] for p in range(len(pools)) if arr.key[i, p] > 0 and abs(
                abs(x[i, p] / arr.key[i, p] - 1) - r.key_departure) < 1e-6]
            if at:
                reasons.append(f"écart à la clé limité à ±{pct_fr(r.key_departure)} ("
                               + ", ".join(POOL_LABELS_FR.get(p, p) for p in at) + ")")
                rule = rule or "key_departure"
        sa_at = [pools[p] for p in range(len(pools)) if x[i, p] >= arr.sa[i, p] - tol and abs(rho - 1) > RATIO_TOL]
        if sa_at:
            reasons.append("plafonnée à son coût isolé ("
                           + ", ".join(POOL_LABELS_FR.get(p, p) for p in sa_at) + ")")
            rule = rule or "standalone"
        inc_at = [pools[p] for p in range(len(pools))
                  if arr.floor_inc[i, p] > 1e-12 and x[i, p] <= arr.floor_inc[i, p] + tol]
        if inc_at and abs(rho - 1) > RATIO_TOL:
            reasons.append("paie au moins le coût qu'elle ajoute ("
                           + ", ".join(POOL_LABELS_FR.get(p, p) for p in inc_at) + ")")
            rule = rule or "incremental"
        if i in in_group:
            reasons.extend(in_group[i])
            rule = rule or "core"
        if not reasons:
            if abs(rho - 1) <= 1e-6:
                reasons.append("clé appliquée telle quelle")
                rule = "key"
            elif rho > 1 and abs(rho - t_max) <= 1e-6:
                reasons.append(f"part relevée de {_signed_pct(rho - 1)} pour financer les plafonds")
                rule = "key_ratio"
            else:
                reasons.append(f"part ajustée de {_signed_pct(rho - 1)} (ajustements répartis "
                               "au plus égal)")
                rule = "key_ratio"
        k, a, s = float(keyed.iloc[i]), float(paid.iloc[i]), float(alone.iloc[i])
        rows.append({
            "commune": c, "name": inp.label(c), "key_eur": round(k, 2), "amount_eur": round(a, 2),
            "change_eur": round(a - k, 2), "change_ratio": (a - k) / k if k > 0 else 0.0,
            "standalone_eur": round(s, 2), "saving_eur": round(s - a, 2),
            "saving_ratio": (s - a) / s if s > 0 else 0.0, "rule": rule,
            "reason_fr": "; ".join(reasons)})
    return pd.DataFrame(rows, columns=EXPLANATION_COLUMNS)


def _signed_pct(r: float) -> str:
    return ("+" if r >= 0 else "−") + pct_fr(abs(r))


def summary_fr(inp: VotedInputs, expl: pd.DataFrame, u: float, kept: bool,
               report: CoreReport) -> str:
    """The sentence a DGS reads aloud."""
    key = KEY_LABELS_FR.get(inp.key_name, f"la clé « {inp.key_name} »")
    if kept:
        core = ("aucun groupe de communes ne paierait moins seul" if report.in_core
                else "aucun groupe surtaxé n'a été trouvé")
        return (f"{key[0].upper()}{key[1:]} respecte toutes les règles votées et {core} : la "
                "répartition est la clé elle-même.")
    capped = expl[expl["change_eur"] < -0.005]
    raised = expl[expl["change_eur"] > 0.005]
    why = capped["rule"].value_counts()
    parts = []
    labels = {"burden_cap": "plafonnée(s) par le plafond de charge",
              "guaranteed_saving": "protégée(s) par l'économie garantie",
              "key_departure": "bornée(s) par l'écart maximal à la clé",
              "standalone": "plafonnée(s) à leur coût isolé",
              "core": "plafonnée(s) à ce que leur groupe paierait seul",
              "usage_band": "bornée(s) par la bande d'usage"}
    for rule, count in why.items():
        parts.append(f"{count} commune{'s' if count > 1 else ''} {labels.get(rule, 'ajustée(s)')}")
    moved = float(-capped["change_eur"].sum())
    text = f"{key[0].upper()}{key[1:]}"
    if parts:
        text += ", sauf " + ", ".join(parts)
    if len(raised):
        text += (f" ; les {eur_fr(moved)} correspondants sont répartis entre les {len(raised)} "
                 f"autres, chacune au plus {_signed_pct(u)}")
    return text + "."


# --- when the rules cannot all hold ----------------------------------------------------------


def _infeasible(inp: VotedInputs, arr: Arrays, form: Formulation, lay: Layout,
                start: float) -> VotedResult:
    conflict = rule_limits(inp, arr)
    diag, x = elastic_diagnosis(inp, arr, form, lay)
    raw = pd.DataFrame(x * SCALE_EUR, index=inp.communes, columns=inp.pools)
    amounts = pd.DataFrame(
        round_bounded(x * SCALE_EUR, inp.to_split.to_numpy(dtype=float), np.zeros_like(x),
                      np.full_like(x, np.inf), label_rank(inp.communes)),
        index=inp.communes.copy(), columns=inp.pools.copy())
    ratio = commune_ratio(inp, arr, x)
    report = core_report(inp, amounts)
    first = conflict[0] if conflict else None
    text = first["message_fr"] if first else "Les règles votées ne peuvent pas toutes être tenues."
    return VotedResult(
        amounts=amounts, raw=raw, status="infeasible",
        increase=float(ratio.max() - 1.0), key_kept=False, ratio=ratio.rename("key_ratio"),
        _explain=lambda: explain(inp, arr, amounts, raw, ratio, None), _summary=text,
        core=report, diagnosis=diag,
        conflict={"rules": conflict}, rounds=0, core_rows=0,
        solve_seconds=time.perf_counter() - start)


def _feasible_limit(inp: VotedInputs, arr: Arrays, rule: str) -> float | None:
    """The best value of `rule` that the other rules allow (None: infeasible even without it)."""
    rules = inp.rules
    others = VotedInputs(**{**inp.__dict__, "rules": VotedRules(**{
        **rules.__dict__, rule: None})})
    form, lay = build(others, arr)
    n, P = lay.n, lay.P
    # one extra column: the parameter; its group replaces the rule's group
    from model.allocation.formulation import widen
    form = widen(form, 1)
    form.columns.append(f"param__{rule}")
    j = lay.n_cols
    form.col_lower = np.append(form.col_lower, 0.0)
    form.col_upper = np.append(form.col_upper, INF)
    form.cost = np.zeros(lay.n_cols + 1)
    ii = np.repeat(np.arange(n), P)
    xcol = np.arange(lay.nx)
    totals = _block(ii, xcol, np.ones(lay.nx), n, lay.n_cols + 1).tolil()
    labels = [("", str(c)) for c in inp.communes]
    if rule == "burden_cap":
        totals[:, j] = -arr.capacity[:, None]
        form.add(RowGroup(rule, totals.tocsr(), np.full(n, -INF), np.zeros(n), labels))
        form.cost[j] = 1.0
    elif rule == "guaranteed_saving":
        sa = arr.sa.sum(axis=1)
        totals[:, j] = sa[:, None]
        form.add(RowGroup(rule, totals.tocsr(), np.full(n, -INF), sa, labels))
        form.cost[j] = -1.0
        form.col_upper[j] = 1.0
    else:
        ref = arr.key.ravel() if rule == "key_departure" else arr.usage.ravel()
        eye = _block(xcol, xcol, np.ones(lay.nx), lay.nx, lay.n_cols + 1).tolil()
        eye[:, j] = -ref[:, None]
        labels = [("", "")] * lay.nx
        if rule == "key_departure":
            hi_ref, lo_ref = ref, ref
        else:
            lo_ref, hi_ref = rules.usage_band[0] * ref, rules.usage_band[1] * ref
        form.add(RowGroup(rule + "_hi", eye.tocsr(), np.full(lay.nx, -INF), hi_ref, labels))
        eye2 = _block(xcol, xcol, np.ones(lay.nx), lay.nx, lay.n_cols + 1).tolil()
        eye2[:, j] = ref[:, None]
        form.add(RowGroup(rule + "_lo", eye2.tocsr(), lo_ref, np.full(lay.nx, INF), labels))
        form.cost[j] = 1.0
    wide = Layout(n, P)
    wide.n_cols = lay.n_cols + 1
    solver = Solver(others, form, wide)
    sol = solver.solve()
    if not sol.optimal:
        return None
    return float(sol.x[j])


def rule_limits(inp: VotedInputs, arr: Arrays) -> list[dict]:
    """For each voted rule that cannot hold with the others: its value and the best feasible one."""
    out = []
    fmt = {"burden_cap": lambda v: pct_fr(v), "guaranteed_saving": lambda v: pct_fr(v),
           "key_departure": lambda v: "±" + pct_fr(v), "usage_band": lambda v: f"±{pct_fr(v)} "
           "de l'usage en plus"}
    for rule in inp.rules.active():
        limit = _feasible_limit(inp, arr, rule)
        if limit is None:
            continue
        value = getattr(inp.rules, rule)
        label = RULE_LABELS_FR[rule]
        if rule == "burden_cap":
            msg = (f"Le {label} de {fmt[rule](value)} ne peut pas être tenu : la plus petite "
                   f"valeur réalisable est {pct_fr(limit * (1 + 1e-6) + 5e-7)}.")
        elif rule == "guaranteed_saving":
            msg = (f"L'{label} de {fmt[rule](value)} ne peut pas être tenue : la plus grande "
                   f"valeur réalisable est {pct_fr(max(limit - 5e-7, 0.0))}.")
        elif rule == "key_departure":
            msg = (f"L'{label} de ±{pct_fr(value)} ne peut pas être tenu : la plus petite valeur "
                   f"réalisable est ±{pct_fr(limit + 5e-7)}.")
        else:
            msg = (f"La {label} {value} ne peut pas être tenue : il faudrait l'élargir de "
                   f"{pct_fr(limit + 5e-7)} de l'usage de chaque côté.")
        out.append({"rule": rule, "value": value if rule != "usage_band" else list(value),
                    "limit": limit, "message_fr": msg})
    return out


def elastic_diagnosis(inp: VotedInputs, arr: Arrays, form: Formulation,
                      lay: Layout) -> tuple[pd.DataFrame, np.ndarray]:
    """Penalised slack on the voted groups only: which communes, which rule, how many euros."""
    el, slacks = elastic(form)
    el.col_upper[lay.z0: lay.z0 + lay.n] = 0.0
    wide = Layout(lay.n, lay.P)
    wide.n_cols = el.n_cols
    solver = Solver(inp, el, wide)
    sol = solver.solve()
    if not sol.optimal:
        raise ModelError("Le diagnostic d'infaisabilité (problème élastique) n'a pas abouti.")
    rows = []
    pools_fr = POOL_LABELS_FR
    for k, (gi, r, side) in enumerate(slacks):
        value = float(sol.x[form.n_cols + k]) * SCALE_EUR
        if value <= CORE_TOL_EUR:
            continue
        g = el.groups[gi]
        pool, who = g.labels[r]
        where = f" pour « {pools_fr.get(pool, pool)} »" if pool else ""
        verb = "dépasse" if side > 0 else "reste sous"
        rows.append({"group": g.group, "commune": who, "pool": pool, "slack_eur": value,
                     "explanation_fr": f"{inp.label(who)} {verb} le {RULE_LABELS_FR[g.rule]}{where} "
                                       f"de {eur_fr(value)}."})
    diag = pd.DataFrame(rows, columns=DIAGNOSIS_COLUMNS).sort_values(
        "slack_eur", ascending=False, kind="stable").reset_index(drop=True)
    return diag, sol.x[: lay.nx].reshape(lay.n, lay.P)
