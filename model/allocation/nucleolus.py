"""The least core and the nucleolus of one pool's cost game: sequential LPs with row generation.

The game of a pool (`games.PoolGame`) charges a group ``S`` its own cost ``C(S)`` (0 for the empty
group); the grand coalition shares ``T``, the pool's cost less what the EPCI pays itself
(``T <= C(N)``). The *satisfaction* of a proper nonempty group is ``C(S) - x(S)``, what it saves
by staying; its *excess* is ``x(S) - C(S)``. The split is in the core when no excess is positive.

* **Least core**: ``max eps`` s.t. ``x(N) = T`` and ``x(S) + eps <= C(S)`` for every proper
  nonempty ``S``. ``eps* >= 0`` exactly when the core is not empty.
* **Nucleolus** (of this definition: no sign bound on ``x``, the singletons are among the groups,
  i.e. the prenucleolus; it is the nucleolus whenever the core is not empty, and then lies in the
  core): the split that maximises the smallest satisfaction, then the next smallest, and so on.
  Computed as a sequence of LPs (Maschler, Peleg & Shapley 1979) avoiding the mistakes listed by
  Guajardo & Jörnsten (2015, EJOR 241(3) 931-935):

  - after LP ``k`` (value ``eps_k``), only the groups tight in **every** optimum are fixed at
    ``x(S) = C(S) - eps_k``: those whose row has a nonzero dual in the optimal dual solution
    (complementary slackness), never merely the groups tight in the primal solution found. Fixing
    a nonempty subset of the always-tight groups is enough: the next LP then returns the same
    level and names further groups;
  - a group whose indicator lies in the span of ``N`` and the fixed groups has a constant
    satisfaction from then on; its row leaves the ``eps`` family (kept, it would pin ``eps`` to an
    earlier level);
  - the sequence stops when the fixed groups span ``n`` dimensions (rank test): ``x`` is unique.
    Every LP adds at least one dimension, so there are at most ``n - 1`` LPs.

Rows are generated lazily: each LP starts from the rows of the previous one (warm start of the same
HiGHS model) and asks for groups off the span whose row is violated by more than a tenth of a cent:

* ``n <= EXACT_MAX``: every group is enumerated (``2^n`` costs computed once);
* above: a cheap search first (fractional-knapsack prefixes, singletons, complements, single
  commune moves), then, when it finds nothing, an exact branch and bound (`_BranchAndBound`:
  fractional-knapsack bound, critical-commune branching, best bound first) within a node budget.
  When every branch and bound of the sequence completes, the result is exact as for small EPCIs.

The work of one call is bounded (branch-and-bound nodes, HiGHS runs; `BNB_NODES`, `MAX_SOLVES`).
When a budget cuts a separation short the result says so (``exact=False`` and `note`) and states
its proven bounds: the least-core value lies in ``[epsilon_lower_eur, epsilon_star_eur]`` (the LP on
fewer rows is a relaxation), and no group pays more than its own cost by more than
``max_excess_bound_eur`` at the split returned (the split is certified in the core when that bound is
at most a cent). Measured (`bench/bench_nucleolus.py`): every pool of EPCIs up to 43 communes is
exact in well under a second; above about 50 communes, pools whose sequence has dozens of LPs, or a
share paid by the EPCI itself (``T < C(N)``), can exhaust the budget (1 to 3 s per pool).

Money is in thousands of euros inside the LPs (HiGHS' feasibility tolerance 1e-7 is then a tenth of
a cent); results are in euros.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import highspy
import numpy as np

from model.allocation.fast import new_highs
from model.allocation.games import (
    EXACT_MAX,
    PoolGame,
    _min_price_knee,
    _order,
    search_nodes,
    subset_sums,
)

INF = highspy.kHighsInf
KEUR = 1000.0
#: A row is violated when ``x(S) + eps`` exceeds ``C(S)`` by more than this (k€: a tenth of a cent).
SEP_TOL = 1e-6
#: A row dual above this (the duals of the eps rows sum to 1) marks a group tight in every optimum.
DUAL_TOL = 1e-9
#: A group adds a dimension when its indicator is this far from the span (Euclidean norm).
RANK_TOL = 1e-7
#: Two random directions orthogonal to the span: a group is in the span when both miss it.
SPAN_TOL = 1e-9
#: Violated rows added per round (cheap search and enumeration; branch and bound).
ROWS_PER_ROUND = 60
BNB_ROWS = 20
#: Work budget of one call (n > exact_max): branch-and-bound nodes in all (about 15 µs each at
#: n = 158), nodes of one search, and HiGHS runs. A search that stops without finding a row ends
#: the searches of its LP.
BNB_NODES = 100_000
BNB_SEARCH_NODES = 20_000
MAX_SOLVES = 300
#: Slack eps rows leave the LP once it holds more than max(PURGE_MIN_ROWS, PURGE_FACTOR * n) rows.
PURGE_MIN_ROWS = 200
PURGE_FACTOR = 3
PURGE_SLACK = 1e-5
#: Starting groups of the local search (large EPCIs) and its moves per start.
SEARCH_STARTS = 4
SEARCH_STEPS = 60
#: Groups whose indicators are added to the span by one matrix product (`_extend_many`).
EXTEND_BLOCK = 64
#: Euros: a group is overcharged above this (as `games.CORE_TOL_EUR`).
CORE_TOL_EUR = 0.01


@dataclass(frozen=True)
class LeastCoreResult:
    """``max eps``: the least-core value (euros) and one split attaining it.

    Unpacks as ``epsilon_star_eur, x_eur = least_core(game, total)``.
    """

    epsilon_star_eur: float  # the LP value: eps* itself when exact, an upper bound otherwise
    x_eur: np.ndarray
    exact: bool  # every separation exact (enumeration or a completed branch and bound)
    epsilon_lower_eur: float  # proven: eps* >= this (== epsilon_star_eur when exact)
    max_excess_bound_eur: float  # proven: at x_eur, no group's x(S) - C(S) exceeds this
    solves: int  # HiGHS runs (rounds of row generation)

    def __iter__(self):
        return iter((self.epsilon_star_eur, self.x_eur))


@dataclass(frozen=True)
class NucleolusResult:
    """The nucleolus of one pool (euros per commune) and how it was obtained."""

    x_eur: np.ndarray
    epsilon_star_eur: float  # the least-core value (first LP)
    exact: bool  # every separation exact and x unique
    lps: int  # LPs of the sequence (each solved by one or more rounds of row generation)
    epsilon_lower_eur: float = np.nan  # proven lower bound on eps* (== epsilon_star_eur if exact)
    max_excess_bound_eur: float = np.nan  # proven bound on max_S x(S) - C(S) at x_eur
    levels_eur: tuple[float, ...] = ()  # eps_k of each LP
    rank: int = 0  # dimensions spanned by N and the fixed groups (n: x unique)
    solves: int = 0  # HiGHS runs
    rows: int = 0  # groups generated
    note: str = field(default="", compare=False)

    @property
    def in_core(self) -> bool:
        """Certified in the core: no group pays more than its own cost by more than a cent."""
        return self.max_excess_bound_eur <= CORE_TOL_EUR


def least_core(game, total: float, exact_max: int = EXACT_MAX, bnb_nodes: int = BNB_NODES,
               max_solves: int = MAX_SOLVES) -> LeastCoreResult:
    """The least-core value ``eps*`` (euros) of the pool's game with ``x(N) = total``, and a split.

    `game` is a `games.PoolGame`, or any object with ``n`` and ``cost(members)`` when
    ``n <= exact_max``.
    """
    if game.n <= 1:
        return LeastCoreResult(np.inf, np.full(game.n, float(total)), True, np.inf, -np.inf, 0)
    seq = _Sequence(game, total, exact_max, bnb_nodes, max_solves)
    x, eps = seq.solve_level()
    bound = seq.max_excess(x)
    return LeastCoreResult(eps * KEUR, x * KEUR, seq.certified, seq.lower_bound(eps, bound), bound,
                           seq.solves)


def nucleolus(game, total: float, exact_max: int = EXACT_MAX, max_lps: int | None = None,
              bnb_nodes: int = BNB_NODES, max_solves: int = MAX_SOLVES) -> NucleolusResult:
    """The nucleolus of the pool's game with ``x(N) = total`` (see the module docstring).

    `max_lps` caps the LPs of the sequence (None: up to ``n - 1``, always enough); a capped run
    returns an optimum of the last LP, marked ``exact=False``. `bnb_nodes` (branch-and-bound nodes,
    ``n > exact_max``) and `max_solves` (HiGHS runs) bound the work of the call; a level whose
    separation they cut short is not certified (``exact=False``, bounds stated).
    """
    n = game.n
    if n <= 1:
        return NucleolusResult(np.full(n, float(total)), np.inf, True, 0, np.inf, -np.inf, (), n, 0, 0,
                               "a single payer pays the whole amount")
    seq = _Sequence(game, total, exact_max, bnb_nodes, max_solves)
    levels: list[float] = []
    uncertified: list[int] = []
    budgets: set[str] = set()
    lower = np.nan
    while True:
        x, eps = seq.solve_level()
        levels.append(eps)
        if not seq.certified:
            uncertified.append(len(levels))
            budgets.add(seq.stopped_by)
        if len(levels) == 1:
            lower = seq.lower_bound(eps, np.inf if seq.certified else seq.max_excess(x))
        seq.fix_tight(eps)
        if seq.rank >= n or (max_lps is not None and len(levels) >= max_lps):
            break
    unique = seq.rank >= n
    exact = unique and not uncertified
    eps_eur = levels[0] * KEUR
    bound = seq.max_excess(x)
    note = _note(seq, exact, unique, len(levels), uncertified, sorted(budgets), eps_eur, lower, bound)
    return NucleolusResult(x * KEUR, eps_eur, exact, len(levels), lower, bound,
                           tuple(v * KEUR for v in levels), seq.rank, seq.solves, len(seq.masks), note)


def _note(seq: _Sequence, exact: bool, unique: bool, lps: int, uncertified: list[int],
          budgets: list[str], eps: float, lower: float, bound: float) -> str:
    how = "every group enumerated" if seq.enumerated else "branch and bound completed"
    if exact:
        return f"exact ({how}; {lps} LPs)"
    parts = []
    if not unique:
        parts.append(f"LP cap reached after {lps} LPs: x is one optimum of the last LP, not unique")
    if uncertified:
        which = ", ".join(str(k) for k in uncertified)
        parts.append(f"the search for violated groups was cut short by the budget of "
                     f"{' and '.join(budgets)} in LP {which}: x comes from the {len(seq.masks)} "
                     f"groups generated; the least-core value lies in [{lower:.2f}, {eps:.2f}] "
                     f"euros")
    parts.append(f"at x no group pays more than its own cost by more than {bound:.2f} euros")
    return "; ".join(parts)


class _Sequence:
    """One HiGHS model (columns ``x_0..x_{n-1}, eps``; minimise ``-eps``) and its generated groups.

    Row 0 is the balance ``x(N) = T``. Every generated group stays in a pool, in one of three
    states: in the eps family (``x(S) + eps <= C(S)``), fixed (``x(S) = C(S) - eps_k``) or in the
    span (dropped: its satisfaction is constant). Rows of the eps family that are slack with a zero
    dual leave the LP when it grows (`purge`); the pool is searched first at every round.
    """

    def __init__(self, game, total: float, exact_max: int, bnb_nodes: int = BNB_NODES,
                 max_solves: int = MAX_SOLVES):
        self.game, self.n, self.exact_max = game, game.n, exact_max
        # the node budgets shrink as the communes grow (a node costs time in proportion to n)
        self.search_nodes = search_nodes(game.n, BNB_SEARCH_NODES)
        self.nodes_left = bnb_nodes * self.search_nodes // BNB_SEARCH_NODES
        self.max_solves = max_solves
        self.bnb_stuck = False
        self.stopped_by = ""  # the budget that left the last level uncertified
        self.certified = True  # the last separation proved that no row off the span is violated
        self.level_bound_eur = -np.inf  # proven bound on the excess off the span at the last x
        self.enumerated = self.n <= exact_max
        self.total = float(total) / KEUR
        self.solves = 0
        self.masks: list[np.ndarray] = []  # bool indicator of each generated group
        self.costs: list[float] = []  # C(S) in k€
        self.offset: list[float] = []  # T for a group written through its complement, else 0
        self.state: list[str] = []  # "eps", "fixed" or "span"
        self.keys: set[bytes] = set()
        self.lp_rows: list[int] = []  # group of each LP row after the balance row
        self.in_lp: list[bool] = []
        self._buf = np.zeros((4 * self.n, self.n))  # the pooled indicators, rows 0..len(masks)-1
        # orthonormal columns spanning N and the fixed groups: the first `rank` of `_basis`
        self._basis = np.zeros((self.n, max(self.n, 1)), order="F")
        self._basis[:, 0] = 1.0 / np.sqrt(max(self.n, 1))
        self._rank = 1
        # while only singletons and complements are fixed, the span is N and the unit vectors of
        # the communes `covered`: column 0 is then the indicator of the others, normalised
        self._covered: np.ndarray | None = np.zeros(self.n, dtype=bool)
        self.rng = np.random.default_rng(0)
        if self.n <= 1:
            return
        if self.enumerated:
            self.all_costs = _mask_costs(game) / KEUR
            self.valid = np.ones(1 << self.n, dtype=bool)
            self.valid[0] = self.valid[-1] = False
        else:
            if not isinstance(game, PoolGame):
                raise TypeError(f"{self.n} joueurs : énumération impossible hors PoolGame")
            self.drivers = np.asarray(game.drivers, dtype=float)
        self._new_directions()
        h = self.h = new_highs()
        n = self.n
        h.addCols(n + 1, np.r_[np.zeros(n), -1.0], np.full(n + 1, -INF), np.full(n + 1, INF),
                  0, np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([]))
        h.addRow(self.total, self.total, n, np.arange(n, dtype=np.int32), np.ones(n))
        start = np.eye(n, dtype=bool)
        if n > 2:
            start = np.vstack([start, ~start])
        self._add(list(start))

    # -- rows ------------------------------------------------------------------------------------
    def _cost(self, member: np.ndarray) -> float:
        if self.enumerated:
            return float(self.all_costs[int(np.dot(member, 1 << np.arange(self.n)))])
        return float(self.game.cost(member)) / KEUR

    def _add(self, groups: list[np.ndarray]) -> int:
        """Put new groups in the pool and their rows in the LP; returns the number added."""
        fresh = []
        for m in groups:
            key = np.packbits(m).tobytes()
            if key in self.keys:
                continue
            self.keys.add(key)
            self.masks.append(m)
            self.costs.append(self._cost(m))
            # a group of more than half the payers is written through its complement:
            # x(S) = T - x(N \ S) by the balance row, so the row stays sparse
            self.offset.append(self.total if 2 * int(m.sum()) > self.n else 0.0)
            self.state.append("eps")
            self.in_lp.append(False)
            fresh.append(len(self.masks) - 1)
        if fresh:
            used = len(self.masks) - len(fresh)
            if len(self.masks) > self._buf.shape[0]:
                grown = np.zeros((2 * len(self.masks), self.n))
                grown[:used] = self._buf[:used]
                self._buf = grown
            self._buf[used:len(self.masks)] = np.array([self.masks[g] for g in fresh], dtype=float)
        self._load(fresh)
        return len(fresh)

    def _load(self, groups: list[int]) -> None:
        """Add the eps rows of pooled groups to the LP."""
        if not groups:
            return
        starts, idx, val, nnz = [], [], [], 0
        for g in groups:
            flip = self.offset[g] != 0.0
            cols = np.flatnonzero(~self.masks[g] if flip else self.masks[g])
            starts.append(nnz)
            idx.append(np.r_[cols, self.n])
            val.append(np.r_[np.full(len(cols), -1.0 if flip else 1.0), 1.0])
            nnz += len(cols) + 1
            self.in_lp[g] = True
            self.lp_rows.append(g)
        up = np.array([self.costs[g] - self.offset[g] for g in groups])
        self.h.addRows(len(groups), np.full(len(groups), -INF), up, nnz,
                       np.array(starts, dtype=np.int32), np.concatenate(idx).astype(np.int32),
                       np.concatenate(val))

    def _drop(self, positions: list[int]) -> None:
        """Delete LP rows (positions in `lp_rows`)."""
        if not positions:
            return
        self.h.deleteRows(len(positions), np.array(positions, dtype=np.int32) + 1)
        gone = set(positions)
        for p in positions:
            self.in_lp[self.lp_rows[p]] = False
        self.lp_rows = [g for p, g in enumerate(self.lp_rows) if p not in gone]

    def purge(self) -> None:
        """Drop slack eps rows with a zero dual when the LP holds many (their slack is basic).

        The singletons (the first `n` groups) stay: their rows alone keep the LP bounded.
        """
        if len(self.lp_rows) <= max(PURGE_MIN_ROWS, PURGE_FACTOR * self.n):
            return
        sol = self.h.getSolution()
        value, dual = np.asarray(sol.row_value)[1:], np.abs(np.asarray(sol.row_dual)[1:])
        self._drop([p for p, g in enumerate(self.lp_rows) if g >= self.n and self.state[g] == "eps"
                    and self.costs[g] - self.offset[g] - value[p] > PURGE_SLACK
                    and dual[p] <= DUAL_TOL])

    # -- one LP of the sequence ----------------------------------------------------------------
    def solve_level(self) -> tuple[np.ndarray, float]:
        """Solve the current LP, adding violated rows until none is left (or the budget of HiGHS
        runs is spent: the level is then not certified); ``(x, eps)`` in k€."""
        self.bnb_stuck = False
        while True:
            self._run()
            sol = self.h.getSolution()
            v = np.asarray(sol.col_value)
            x, eps = v[: self.n], float(v[self.n])
            if self.solves >= self.max_solves:  # out of budget: say what is proven, stop here
                self.certified, self.stopped_by = False, "HiGHS runs"
                self.level_bound_eur = self._bnb_bound(x, eps, 0)
                break
            back = self._from_pool(x, eps)
            if back:
                self.purge()
                self._load(back)
                continue
            new = self._separate(x, eps)
            fresh = [m for m in new if np.packbits(m).tobytes() not in self.keys]
            if fresh:
                self.purge()  # before adding: the solution describes the current rows
                self._add(fresh)
                continue
            if new:  # violated groups that are already known: nothing proven
                self.certified = False
            break
        self.row_dual = np.asarray(sol.row_dual)[1:]
        self.row_value = np.asarray(sol.row_value)[1:]
        return x, eps

    def _from_pool(self, x: np.ndarray, eps: float) -> list[int]:
        """Pooled eps groups out of the LP whose row is violated (the worst first)."""
        if not self.masks:
            return []
        excess = self._pool @ x - np.array(self.costs) + eps
        out = np.flatnonzero((excess > SEP_TOL) & ~np.array(self.in_lp)
                             & (np.array(self.state) == "eps"))
        return list(out[np.argsort(-excess[out], kind="stable")][:ROWS_PER_ROUND])

    def _run(self) -> None:
        h = self.h
        self.solves += 1
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()  # a warm start can stall on a degenerate basis: retry from scratch
            h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"nucléole : LP non optimal ({h.modelStatusToString(status)})")

    def fix_tight(self, eps: float) -> None:
        """Fix the groups with a nonzero dual (tight in every optimum); drop those in the span."""
        pos = np.array([p for p, g in enumerate(self.lp_rows) if self.state[g] == "eps"], dtype=int)
        if not len(pos):
            return
        groups = np.array(self.lp_rows)[pos]
        dual = np.abs(self.row_dual[pos])
        slack = (np.array(self.costs)[groups] - np.array(self.offset)[groups]
                 - self.row_value[pos])  # C(S) - x(S) - eps
        tight = (dual > DUAL_TOL) & (slack <= 10 * SEP_TOL)
        added = 0
        ordered = np.flatnonzero(tight)[np.argsort(-dual[tight], kind="stable")]
        grew = self._extend_many([self.masks[int(groups[k])] for k in ordered])
        for k, ok in zip(ordered, grew, strict=True):
            p, g = int(pos[k]), int(groups[k])
            if ok:
                self.state[g] = "fixed"
                level = self.costs[g] - eps - self.offset[g]
                self.h.changeCoeff(p + 1, self.n, 0.0)
                self.h.changeRowBounds(p + 1, level, level)
                added += 1
        if not added:
            raise RuntimeError("nucléole : aucune coalition toujours saturée (dual dégénéré)")
        self._new_directions()
        spanned = np.all(np.abs(self._pool @ self.z) < SPAN_TOL, axis=1)
        for g in np.flatnonzero(spanned):
            if self.state[g] == "eps":
                self.state[g] = "span"
        self._drop([p for p, g in enumerate(self.lp_rows) if self.state[g] == "span"])

    @property
    def _pool(self) -> np.ndarray:
        return self._buf[: len(self.masks)]

    @property
    def rank(self) -> int:
        return self._rank

    @property
    def basis(self) -> np.ndarray:
        return self._basis[:, : self._rank]

    def _extend_many(self, masks: list[np.ndarray]) -> list[bool]:
        """Add each group's indicator to the span in turn, when it adds a dimension; whether each
        did. Gram-Schmidt twice for stability, by blocks: the projection on the basis already
        known is one matrix product per block, then the block's own vectors one by one (the same
        result as one vector at a time, in the same order)."""
        out: list[bool] = []
        while self._covered is not None and len(out) < len(masks):
            m = masks[len(out)]
            size = int(m.sum())
            if size not in (1, self.n - 1):
                self._covered = None  # a general group: Gram-Schmidt from here on
                break
            i = int(np.flatnonzero(m if size == 1 else ~m)[0])  # N \ {i} is N - e_i in the span
            if self._covered[i] or self._rank >= self.n:
                out.append(False)
                continue
            self._covered[i] = True
            rest = ~self._covered
            self._basis[:, 0] = rest / np.sqrt(max(int(rest.sum()), 1))
            self._basis[:, self._rank] = 0.0
            self._basis[i, self._rank] = 1.0
            self._rank += 1  # with n - 1 communes covered, column 0 is the last unit vector
            out.append(True)
        masks = masks[len(out):]
        for start in range(0, len(masks), EXTEND_BLOCK):
            block = np.array(masks[start:start + EXTEND_BLOCK], dtype=float).T  # (n, b)
            r0 = self._rank
            for _ in range(2):
                known = self._basis[:, :r0]
                block -= known @ (known.T @ block)
            for j in range(block.shape[1]):
                v = block[:, j]
                new = self._basis[:, r0:self._rank]
                for _ in range(2):
                    v = v - new @ (new.T @ v)
                norm = float(np.linalg.norm(v))
                if norm <= RANK_TOL or self._rank >= self.n:
                    out.append(False)
                    continue
                self._basis[:, self._rank] = v / norm
                self._rank += 1
                out.append(True)
        return out

    def _new_directions(self) -> None:
        """Two random unit vectors orthogonal to the span (zero when the span is everything)."""
        g = self.rng.standard_normal((self.n, 2))
        for _ in range(2):
            g = g - self.basis @ (self.basis.T @ g)
        norms = np.linalg.norm(g, axis=0)
        self.z = g / np.where(norms > 1e-12, norms, 1.0)
        if self.enumerated and self.n > 1:
            spanned = np.ones(1 << self.n, dtype=bool)
            for k in range(self.z.shape[1]):
                spanned &= np.abs(subset_sums(self.z[:, k])) < SPAN_TOL
            self.valid &= ~spanned

    # -- separation ------------------------------------------------------------------------------
    def _separate(self, x: np.ndarray, eps: float) -> list[np.ndarray]:
        """Violated groups off the span (the worst first); when there is none, record whether
        that is proven (`certified`) and the bound on the excess off the span (euros)."""
        if self.enumerated:
            excess = subset_sums(x) - self.all_costs + eps
            excess[~self.valid] = -np.inf
            hits = np.flatnonzero(excess > SEP_TOL)
            if len(hits) > ROWS_PER_ROUND:
                hits = hits[np.argpartition(-excess[hits], ROWS_PER_ROUND)[:ROWS_PER_ROUND]]
            hits = hits[np.argsort(-excess[hits], kind="stable")]
            self.certified, self.level_bound_eur = True, float(excess.max() - eps) * KEUR
            return [((int(h) >> np.arange(self.n)) & 1).astype(bool) for h in hits]
        found = self._search(x, eps)
        if found:
            return found
        if self.bnb_stuck or self.nodes_left <= 0:  # the search gave up on this level already
            self.certified, self.level_bound_eur = False, self._bnb_bound(x, eps, 0)
            self.stopped_by = "branch-and-bound nodes"
            return []
        bnb = _BranchAndBound(self.game, x * KEUR, self.z)
        groups, complete, bound = bnb.search((SEP_TOL - eps) * KEUR, BNB_ROWS,
                                             min(self.search_nodes, self.nodes_left))
        self.nodes_left -= bnb.nodes
        self.certified, self.level_bound_eur = complete and not groups, bound
        self.bnb_stuck = not complete and not groups
        self.stopped_by = "branch-and-bound nodes"
        return [m for _, m in groups if np.packbits(m).tobytes() not in self.keys]

    def _bnb_bound(self, x: np.ndarray, eps: float, nodes: int) -> float:
        """Euros: a proven bound on the excess off the span at `x` (the root relaxation when
        `nodes` is 0)."""
        if self.enumerated:
            excess = subset_sums(x) - self.all_costs
            excess[~self.valid] = -np.inf
            return float(excess.max()) * KEUR
        bnb = _BranchAndBound(self.game, x * KEUR, self.z)
        return bnb.search((SEP_TOL - eps) * KEUR, 1, nodes)[2]

    def lower_bound(self, eps: float, max_excess_eur: float) -> float:
        """Euros: proven ``eps* >=`` this after the first LP. Any split's smallest satisfaction is a
        lower bound: minus the largest excess at the LP's split, bounded by the last separation
        (`level_bound_eur`) or by a separate search (`max_excess_eur`), whichever is tighter."""
        if self.certified:
            return eps * KEUR
        return min(-min(self.level_bound_eur, max_excess_eur), eps * KEUR)

    def max_excess(self, x: np.ndarray) -> float:
        """Euros: the largest ``x(S) - C(S)`` over proper nonempty groups (exact when enumerated
        or when the branch and bound completes, else a proven upper bound)."""
        if self.enumerated:
            excess = subset_sums(x) - self.all_costs
            excess[0] = excess[-1] = -np.inf
            return float(excess.max()) * KEUR
        bnb = _BranchAndBound(self.game, x * KEUR, None)
        _, _, bound = bnb.search(-np.inf, 1, self.search_nodes, maximise=True,
                                 gap=CORE_TOL_EUR / 10)  # to a tenth of a cent
        return bound

    def _volume_cost(self, vol: np.ndarray) -> np.ndarray:
        return np.asarray(self.game.cost_of_volume(vol), dtype=float) / KEUR

    def _search(self, x: np.ndarray, eps: float) -> list[np.ndarray]:
        """Heuristic: knapsack prefixes, singletons, complements, then local moves off the span."""
        n, d = self.n, self.drivers
        order = _order(self.game, x)
        prefix = np.zeros((n - 1, n), dtype=bool)
        prefix[:, order] = np.tril(np.ones((n - 1, n), dtype=bool))
        eye = np.eye(n, dtype=bool)
        cand = np.vstack([prefix, eye, ~eye])
        cand = cand[cand.any(axis=1) & ~cand.all(axis=1)]
        excess = cand @ x - self._volume_cost(cand @ d) + eps
        proj = cand.astype(float) @ self.z
        off = ~np.all(np.abs(proj) < SPAN_TOL, axis=1)
        found = [(float(e), m) for e, m, o in zip(excess, cand, off, strict=True) if o and e > SEP_TOL]
        starts = np.flatnonzero(off)
        starts = starts[np.argsort(-excess[starts], kind="stable")][:SEARCH_STARTS]
        for s in starts:
            found += self._local(cand[s].copy(), x, eps)
        found.sort(key=lambda t: -t[0])
        out, seen = [], set()
        for _, m in found:
            key = np.packbits(m).tobytes()
            if key not in seen and key not in self.keys:
                seen.add(key)
                out.append(m)
            if len(out) >= ROWS_PER_ROUND:
                break
        return out

    def _local(self, member: np.ndarray, x: np.ndarray, eps: float) -> list[tuple[float, np.ndarray]]:
        """Best single addition or removal while it raises the excess and leaves the span."""
        d, z = self.drivers, self.z
        out = []
        q, paid = float(d[member].sum()), float(x[member].sum())
        proj = member.astype(float) @ z
        for _ in range(SEARCH_STEPS):
            size = int(member.sum())
            c_now = float(self._volume_cost(q))
            sign = np.where(member, -1.0, 1.0)
            new_q = np.maximum(q + sign * d, 0.0)
            gain = sign * x - (self._volume_cost(new_q) - c_now)
            new_proj = proj[None, :] + sign[:, None] * z
            gain[np.all(np.abs(new_proj) < SPAN_TOL, axis=1)] = -np.inf
            if size == 1:
                gain[member] = -np.inf
            if size == self.n - 1:
                gain[~member] = -np.inf
            j = int(np.argmax(gain))
            if not gain[j] > 1e-12:
                break
            member[j] = not member[j]
            q, paid, proj = float(new_q[j]), paid + sign[j] * x[j], new_proj[j]
            e = paid - float(self._volume_cost(q)) + eps
            if e > SEP_TOL:
                out.append((e, member.copy()))
        return out


def _mask_costs(game) -> np.ndarray:
    """``C(S)`` in euros for every mask (``C(empty) = 0``)."""
    n = game.n
    if isinstance(game, PoolGame):
        vol = subset_sums(np.asarray(game.drivers, dtype=float))
        out = np.asarray(game.cost_of_volume(vol), dtype=float).copy()
    else:
        out = np.array([game.cost(np.flatnonzero((m >> np.arange(n)) & 1)) for m in range(1 << n)],
                       dtype=float)
    out[0] = 0.0
    return out


class _BranchAndBound:
    """Exact search over the groups of a `PoolGame` for a given split ``x`` (euros).

    A node fixes some communes in (payment ``X``, volume ``Q``) and some out; the others are free.
    Its bound is ``max_t X + F(t) - C(Q + t)``, where ``F`` (the most the free communes can pay
    for a volume ``t`` when they may be taken fractionally) is the concave interpolation of the
    prefix sums of the free paying communes in the fractional-knapsack order (payment per unit of
    driver, decreasing); ``C`` is nondecreasing, and concave or linear between its kinks
    (reference volume, floor knee, minimum-price knee), so the maximum is at a knot of ``F`` or at
    a kink. Nodes are taken best bound first, a batch at a time (numpy over the batch). The
    branching commune is the critical one: the commune taken fractionally at the maximum, or, when
    the maximum is a real group that cannot be reported (empty, ``N``, in the span of the fixed
    groups, or already reported), the next free paying commune of the order (for a group in the
    span, the next commune off the span: only those lead out of it). Groups in the span are
    recognised by two random directions `z` orthogonal to it.
    """

    BATCH = 32

    def __init__(self, game: PoolGame, x: np.ndarray, z: np.ndarray | None):
        self.game = game
        self.order = _order(game, x)
        d = np.asarray(game.drivers, dtype=float)
        self.dz, self.xz = d[self.order], np.asarray(x, dtype=float)[self.order]
        self.k = len(self.order)
        self.paying = self.xz > 0  # the paying communes come first in this order
        self.rate = np.where(self.dz > 0, self.xz / np.where(self.dz > 0, self.dz, 1.0), 0.0)
        self.zz = None if z is None else z[self.order]
        self.off_span = (np.ones(self.k, dtype=bool) if z is None
                         else np.any(np.abs(self.zz) >= SPAN_TOL, axis=1))
        p = game.params
        special = [p.ref_volume]
        if p.scale_elasticity != 1.0 and 0 < p.floor_share < 1:
            special.append(p.ref_volume * p.floor_share ** (1.0 / (p.scale_elasticity - 1.0)))
        special += list(_min_price_knee(p, float(self.dz.sum())))
        self.special = np.array(special, dtype=float)
        self.f_special = self._cost(self.special)
        self.nodes = 0

    def _cost(self, q: np.ndarray) -> np.ndarray:
        """``C`` of nonempty groups of volume `q`: `PoolParams.cost` times the price index, inlined
        (the same arithmetic without the checks: this is the inner loop)."""
        p = self.game.params
        ratio = np.maximum(q / p.ref_volume, 1.0)
        factor = np.minimum(np.maximum(ratio ** (p.scale_elasticity - 1.0), p.floor_share), 1.0)
        return np.maximum(p.min_price, p.fixed + p.unit * q * factor) * self.game.factor

    def _relax(self, xs: np.ndarray, qs: np.ndarray, free: np.ndarray):
        """Bounds of nodes (rows): ``(best, cut, knot, frac)``. At a knot the maximum is the real
        group of the members and the free paying communes before position ``cut``; otherwise
        commune ``frac`` is taken in part."""
        rows = np.arange(len(xs))
        take = free & self.paying
        dv = np.zeros((len(xs), self.k + 1))
        dpay = np.zeros_like(dv)
        np.cumsum(self.dz * take, axis=1, out=dv[:, 1:])
        np.cumsum(self.xz * take, axis=1, out=dpay[:, 1:])
        val = xs[:, None] + dpay - self._cost(qs[:, None] + dv)
        cut = np.argmax(val, axis=1)
        best = val[rows, cut]
        knot = np.ones(len(xs), dtype=bool)
        frac = np.full(len(xs), -1)
        for s, f_s in zip(self.special, self.f_special, strict=True):
            t = s - qs  # volume still to take to reach the kink
            ok = (t > 0) & (t < dv[:, -1])
            if not ok.any():
                continue
            c = np.minimum((dv[:, 1:] <= t[:, None]).sum(axis=1), self.k - 1)  # crossing commune
            pay = dpay[rows, c] + (t - dv[rows, c]) * self.rate[c]
            better = ok & (xs + pay - f_s > best)
            best = np.where(better, xs + pay - f_s, best)
            knot &= ~better
            frac = np.where(better, c, frac)
        return best, cut, knot, frac

    def search(self, floor: float, limit: int, budget: int, maximise: bool = False,
               gap: float = 0.0) -> tuple[list[tuple[float, np.ndarray]], bool, float]:
        """Groups (excess, mask) with excess above `floor`, off the span, the best first.

        ``maximise``: only the best group (the floor rises with it); ``gap`` (euros, maximise only):
        nodes that cannot beat the best group by more than this are dropped, so a complete search
        finds the largest excess to within ``gap``. Returns the groups, whether the search was
        complete (every node whose bound exceeds the floor, plus ``gap``, explored; False when
        stopped by `limit` or `budget`) and a proven bound on the excess of every proper nonempty
        group off the span (euros).
        """
        k, zz = self.k, self.zz
        ar = np.arange(k)
        found: dict[bytes, tuple[float, np.ndarray]] = {}
        level = floor
        gap = gap if maximise else 0.0
        open_bound = -np.inf
        heap: list = []
        count = 0

        def push(xs, qs, members, free) -> None:
            nonlocal count
            best, cut, knot, frac = self._relax(xs, qs, free)
            for r in np.flatnonzero(best > level + gap):
                heapq.heappush(heap, (-float(best[r]), count, float(xs[r]), float(qs[r]), members[r],
                                      free[r], int(cut[r]), bool(knot[r]), int(frac[r])))
                count += 1

        push(np.zeros(1), np.zeros(1), np.zeros((1, k), dtype=bool), np.ones((1, k), dtype=bool))
        while heap:
            if -heap[0][0] <= level + gap:
                break  # every node left is bounded by the level (within the gap)
            if self.nodes >= budget or (not maximise and len(found) >= limit):
                open_bound = -heap[0][0]
                break
            batch = []
            while heap and len(batch) < self.BATCH and -heap[0][0] > level + gap:
                batch.append(heapq.heappop(heap))
            self.nodes += len(batch)
            bound = np.array([b[0] for b in batch]) * -1.0
            xs = np.array([b[2] for b in batch])
            qs = np.array([b[3] for b in batch])
            members = np.array([b[4] for b in batch])
            free = np.array([b[5] for b in batch])
            cut = np.array([b[6] for b in batch])
            knot = np.array([b[7] for b in batch])
            branch = np.array([b[8] for b in batch])
            # at a knot: the real group, reported when it may be; else the next commune to decide
            take = free & self.paying
            group = members | (take & (ar[None, :] < cut[:, None]))
            proper = group.any(axis=1) & ~group.all(axis=1)
            spanned = (np.zeros(len(batch), dtype=bool) if zz is None
                       else np.all(np.abs(group.astype(float) @ zz) < SPAN_TOL, axis=1))
            after = take & (ar[None, :] >= cut[:, None])
            before = take & (ar[None, :] < cut[:, None])
            nxt = np.where(after.any(axis=1), np.argmax(after, axis=1),
                           np.where(before.any(axis=1), k - 1 - np.argmax(before[:, ::-1], axis=1),
                                    np.where(free.any(axis=1), np.argmax(free, axis=1), -1)))
            movers = free & self.off_span
            ref = np.where(after.any(axis=1), np.argmax(after, axis=1), k)
            later = movers & (ar[None, :] >= ref[:, None])
            mover = np.where(later.any(axis=1), np.argmax(later, axis=1),
                             np.where(movers.any(axis=1), k - 1 - np.argmax(movers[:, ::-1], axis=1), -1))
            keys = np.packbits(group, axis=1)
            for r in np.flatnonzero(knot):
                if proper[r] and not spanned[r]:
                    key = keys[r].tobytes()
                    if key not in found:
                        found[key] = (float(bound[r]), group[r])
                        if maximise:
                            level = max(level, float(bound[r]))
                            branch[r] = -1
                            continue
                branch[r] = mover[r] if spanned[r] else nxt[r]
            go = np.flatnonzero(branch >= 0)
            if not len(go):
                continue
            b = branch[go]
            child_free = free[go].copy()
            child_free[np.arange(len(go)), b] = False
            child_in = members[go].copy()
            child_in[np.arange(len(go)), b] = True
            push(np.concatenate([xs[go] + self.xz[b], xs[go]]),
                 np.concatenate([qs[go] + self.dz[b], qs[go]]),
                 np.concatenate([child_in, members[go]]),
                 np.concatenate([child_free, child_free]))
        complete = open_bound == -np.inf
        groups = sorted(found.values(), key=lambda t: -t[0])
        if maximise:
            groups = groups[:1]
        out = []
        for exc, member in groups:
            mask = np.zeros(k, dtype=bool)
            mask[self.order[member]] = True
            out.append((exc, mask))
        best = out[0][0] if out else -np.inf
        return out, complete, max(floor, best, open_bound) + (gap if complete else 0.0)
