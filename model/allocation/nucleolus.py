"""The least core and the nucleolus of one pool's cost game: sequential LPs with row generation.

The game of a pool (`games.PoolGame`) charges a group ``S`` its own cost ``C(S)`` (0 for the empty
group); the grand coalition shares ``T``, the pool's cost less what the EPCI pays itself
(``T <= C(N)``). The *satisfaction* of a proper nonempty group is ``C(S) - x(S)``, what it saves
by staying; the split is in the core when every satisfaction is ``>= 0``.

* **Least core**: ``max eps`` s.t. ``x(N) = T`` and ``x(S) + eps <= C(S)`` for every proper
  nonempty ``S``. ``eps* >= 0`` exactly when the core is not empty.
* **Nucleolus** (the prenucleolus of this definition: no sign bound on ``x``, the singletons are
  among the groups; it is the nucleolus whenever the core is not empty, and then in the core):
  the split that maximises the smallest satisfaction, then the next smallest, and so on. Computed
  as a sequence of LPs (Maschler, Peleg & Shapley 1979), avoiding the mistakes listed by Guajardo &
  Jörnsten (2015, EJOR 241(3) 931-935):

  - after LP ``k`` (value ``eps_k``), only the groups tight in **every** optimum are fixed at
    ``x(S) = C(S) - eps_k``: those whose row has a nonzero dual in the optimal dual solution
    (complementary slackness; a group merely tight in the primal solution found is not fixed).
    Fixing a nonempty subset of the always-tight groups is enough: the next LP then returns the
    same level and names further groups;
  - a group whose indicator lies in the span of ``N`` and the fixed groups has a constant
    satisfaction from then on; its row leaves the ``eps`` family (kept, it would pin ``eps`` to an
    earlier level);
  - the sequence stops when the fixed groups span ``n`` dimensions (rank test): ``x`` is unique.
    Every LP adds at least one dimension, so there are at most ``n - 1`` LPs.

Rows are generated lazily. Each LP starts from the rows of the previous one (warm start of the same
HiGHS model) and asks a separation oracle for groups outside the span whose row is violated:

* ``n <= EXACT_MAX``: every group is enumerated (``2^n`` costs computed once); exact.
* above: the fractional-knapsack prefixes, singletons and complements, then single-commune
  moves from the best of them (moves into the span are skipped). The first LP (the least core)
  is then checked against the oracle's proven bound (`games.relaxation_bound`): no group's excess
  ``x(S) - C(S)`` at the LP's ``x`` exceeds ``B``, so ``-B <= eps* <= eps_LP`` (the LP on fewer
  rows is a relaxation). It is exact when the two meet within a cent. Later LPs have no such
  certificate: the result is then the nucleolus of the game restricted to the groups generated,
  marked ``exact=False``, with the bound on the least core and the largest possible excess at the
  returned split (``max_excess_bound_eur``: the split is in the core when it is <= 0.01 euro).

Money is in thousands of euros inside the LPs (HiGHS' feasibility tolerance 1e-7 is then a tenth of
a cent); results are in euros.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from model.allocation.fast import new_highs
from model.allocation.games import EXACT_MAX, PoolGame, _order, relaxation_bound

INF = highspy.kHighsInf
KEUR = 1000.0
#: A generated row is violated when ``x(S) + eps`` exceeds ``C(S)`` by more than this (k€).
SEP_TOL = 1e-6
#: A row dual above this (the duals of the eps rows sum to 1) marks a group tight in every optimum.
DUAL_TOL = 1e-9
#: A group adds a dimension when its indicator is this far from the span (Euclidean norm).
RANK_TOL = 1e-7
#: Two random directions orthogonal to the span: a group is in the span when both miss it.
SPAN_TOL = 1e-9
#: Violated rows added per separation round.
ROWS_PER_ROUND = 60
#: Slack eps rows leave the LP once it holds more than max(PURGE_MIN_ROWS, PURGE_FACTOR * n) rows.
PURGE_MIN_ROWS = 200
PURGE_FACTOR = 3
PURGE_SLACK = 1e-5
#: Starting groups of the local search (large EPCIs) and its moves per start.
SEARCH_STARTS = 4
SEARCH_STEPS = 60
#: A least-core result is exact when the proven lower bound is within a cent of the LP value.
EXACT_TOL_EUR = 0.01


@dataclass(frozen=True)
class LeastCoreResult:
    """``max eps``: the least-core value (euros) and one split attaining it.

    Unpacks as ``epsilon_star_eur, x_eur = least_core(game, total)``.
    """

    epsilon_star_eur: float  # the LP value: an upper bound on eps*, equal to it when exact
    x_eur: np.ndarray
    exact: bool
    epsilon_lower_eur: float  # proven: eps* >= this (== epsilon_star_eur when exact)
    max_excess_bound_eur: float  # proven: no group pays more than its cost by more, at x_eur
    solves: int  # HiGHS runs (rounds of row generation)

    def __iter__(self):
        return iter((self.epsilon_star_eur, self.x_eur))


@dataclass(frozen=True)
class NucleolusResult:
    """The nucleolus of one pool (euros per commune) and how it was obtained."""

    x_eur: np.ndarray
    epsilon_star_eur: float  # the least-core value (first LP)
    exact: bool  # every separation exact (or certified) and x unique
    lps: int  # LPs of the sequence (each solved by several rounds of row generation)
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
        return self.max_excess_bound_eur <= EXACT_TOL_EUR


def least_core(game, total: float, exact_max: int = EXACT_MAX) -> LeastCoreResult:
    """The least-core value ``eps*`` (euros) of the pool's game with ``x(N) = total``, and a split.

    `game` is a `games.PoolGame`, or any object with ``n`` and ``cost(members)`` when
    ``n <= exact_max``.
    """
    seq = _Sequence(game, total, exact_max)
    if game.n <= 1:
        return LeastCoreResult(np.inf, np.full(game.n, float(total)), True, np.inf, -np.inf, 0)
    x, eps = seq.solve_level()
    lower, bound = seq.certify(x, eps)
    return LeastCoreResult(eps * KEUR, x * KEUR, seq.enumerated or lower >= eps * KEUR - EXACT_TOL_EUR,
                           lower, bound, seq.solves)


def nucleolus(game, total: float, exact_max: int = EXACT_MAX, max_lps: int | None = None
              ) -> NucleolusResult:
    """The nucleolus of the pool's game with ``x(N) = total`` (see the module docstring).

    `max_lps` caps the LPs of the sequence (None: up to ``n - 1``, always enough); a capped run
    returns an optimum of the last LP, marked ``exact=False``.
    """
    n = game.n
    if n <= 1:
        return NucleolusResult(np.full(n, float(total)), np.inf, True, 0, np.inf, -np.inf, (), n, 0, 0,
                               "a single payer pays the whole amount")
    seq = _Sequence(game, total, exact_max)
    levels: list[float] = []
    lower = bound = np.nan
    first_exact = True
    while True:
        x, eps = seq.solve_level()
        levels.append(eps)
        if len(levels) == 1:
            lower, bound = seq.certify(x, eps)
            first_exact = seq.enumerated or lower >= eps * KEUR - EXACT_TOL_EUR
        seq.fix_tight(eps)
        if seq.rank >= n or (max_lps is not None and len(levels) >= max_lps):
            break
    unique = seq.rank >= n
    if len(levels) > 1:
        bound = seq.excess_bound(x)
    exact = unique and first_exact and (seq.enumerated or len(levels) == 1)
    eps_eur = levels[0] * KEUR
    note = _note(seq, exact, unique, len(levels), eps_eur, lower, bound)
    return NucleolusResult(x * KEUR, eps_eur, exact, len(levels), lower, bound,
                           tuple(v * KEUR for v in levels), seq.rank, seq.solves, len(seq.masks), note)


def _note(seq: _Sequence, exact: bool, unique: bool, lps: int, eps: float, lower: float,
          bound: float) -> str:
    if exact:
        how = "every group enumerated" if seq.enumerated else "least core certified by the bound"
        return f"exact ({how}; {lps} LPs)"
    parts = []
    if not unique:
        parts.append(f"LP cap reached after {lps} LPs: x is one optimum of the last LP, not unique")
    if not seq.enumerated:
        parts.append(f"{seq.n} communes > {seq.exact_max}: groups searched heuristically; "
                     f"the least-core value lies in [{lower:.2f}, {eps:.2f}] euros; x is the "
                     f"nucleolus of the game restricted to the {len(seq.masks)} groups generated; "
                     f"at x no group pays more than its own cost by more than {bound:.2f} euros")
    return "; ".join(parts)


class _Sequence:
    """One HiGHS model (columns ``x_0..x_{n-1}, eps``; minimise ``-eps``) and its generated groups.

    Row 0 is the balance ``x(N) = T``. Every generated group stays in a pool, in one of three
    states: in the eps family (``x(S) + eps <= C(S)``), fixed (``x(S) = C(S) - eps_k``) or in the
    span (dropped: its satisfaction is constant). Rows of the eps family that are slack with a zero
    dual leave the LP when it grows (`purge`); the pool is searched first at every round.
    """

    def __init__(self, game, total: float, exact_max: int):
        self.game, self.n, self.exact_max = game, game.n, exact_max
        self.enumerated = self.n <= exact_max
        self.total = float(total) / KEUR
        self.solves = 0
        self.masks: list[np.ndarray] = []  # bool indicator of each generated group
        self.costs: list[float] = []  # C(S) in k€
        self.state: list[str] = []  # "eps", "fixed" or "span"
        self.keys: set[bytes] = set()
        self.lp_rows: list[int] = []  # group of each LP row after the balance row
        self.in_lp: list[bool] = []
        self._buf = np.zeros((4 * self.n, self.n))  # the pooled indicators, rows 0..len(masks)-1
        self.basis = np.full((self.n, 1), 1.0 / np.sqrt(max(self.n, 1)))  # orthonormal, spans N
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
        starts, idx, nnz = [], [], 0
        for g in groups:
            cols = np.flatnonzero(self.masks[g])
            starts.append(nnz)
            idx.append(np.r_[cols, self.n])
            nnz += len(cols) + 1
            self.in_lp[g] = True
            self.lp_rows.append(g)
        up = np.array([self.costs[g] for g in groups])
        self.h.addRows(len(groups), np.full(len(groups), -INF), up, nnz,
                       np.array(starts, dtype=np.int32), np.concatenate(idx).astype(np.int32),
                       np.ones(nnz))

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
                    and self.costs[g] - value[p] > PURGE_SLACK and dual[p] <= DUAL_TOL])

    # -- one LP of the sequence ----------------------------------------------------------------
    def solve_level(self) -> tuple[np.ndarray, float]:
        """Solve the current LP, adding violated rows until none is left; ``(x, eps)`` in k€."""
        while True:
            self._run()
            sol = self.h.getSolution()
            v = np.asarray(sol.col_value)
            x, eps = v[: self.n], float(v[self.n])
            back = self._from_pool(x, eps)
            if back:
                self.purge()
                self._load(back)
                continue
            new = self._separate(x, eps)
            if new and self._add(new):
                self.purge()
                continue
            self.x, self.eps = x, eps
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
        slack = np.array(self.costs)[groups] - self.row_value[pos]  # C(S) - x(S) - eps
        tight = (dual > DUAL_TOL) & (slack <= 10 * SEP_TOL)
        added = 0
        for k in np.flatnonzero(tight)[np.argsort(-dual[tight], kind="stable")]:
            p, g = int(pos[k]), int(groups[k])
            if self._extend(self.masks[g]):
                self.state[g] = "fixed"
                level = self.costs[g] - eps
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
        return self.basis.shape[1]

    def _extend(self, m: np.ndarray) -> bool:
        v = m.astype(float)
        for _ in range(2):  # Gram-Schmidt, twice for stability
            v = v - self.basis @ (self.basis.T @ v)
        norm = float(np.linalg.norm(v))
        if norm <= RANK_TOL:
            return False
        self.basis = np.column_stack([self.basis, v / norm])
        return True

    def _in_span(self, m: np.ndarray) -> bool:
        return bool(np.all(np.abs(m.astype(float) @ self.z) < SPAN_TOL))

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
                spanned &= np.abs(_subset_sums(self.z[:, k])) < SPAN_TOL
            self.valid &= ~spanned

    # -- separation ------------------------------------------------------------------------------
    def _separate(self, x: np.ndarray, eps: float) -> list[np.ndarray]:
        if self.enumerated:
            excess = _subset_sums(x) - self.all_costs + eps
            excess[~self.valid] = -np.inf
            hits = np.flatnonzero(excess > SEP_TOL)
            if len(hits) > ROWS_PER_ROUND:
                hits = hits[np.argpartition(-excess[hits], ROWS_PER_ROUND)[:ROWS_PER_ROUND]]
            hits = hits[np.argsort(-excess[hits], kind="stable")]
            return [((int(h) >> np.arange(self.n)) & 1).astype(bool) for h in hits]
        return self._search(x, eps)

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

    # -- certificates (heuristic separation) ---------------------------------------------------
    def excess_bound(self, x: np.ndarray) -> float:
        """Euros: no proper group's ``x(S) - C(S)`` exceeds it (exact when enumerated)."""
        if self.enumerated:
            excess = _subset_sums(x) - self.all_costs
            excess[0] = excess[-1] = -np.inf
            return float(excess.max()) * KEUR
        return float(relaxation_bound(self.game, x * KEUR, proper=True))

    def certify(self, x: np.ndarray, eps: float) -> tuple[float, float]:
        """``(lower bound on eps*, bound on the largest excess at x)``, in euros."""
        bound = self.excess_bound(x)
        if self.enumerated:
            return eps * KEUR, bound
        return min(-bound, eps * KEUR), bound


def _subset_sums(v: np.ndarray) -> np.ndarray:
    """``sum_{i in S} v_i`` for every mask ``S`` (bit ``i`` <-> player ``i``)."""
    out = np.zeros(1)
    for vi in v:
        out = np.concatenate([out, out + vi])
    return out


def _mask_costs(game) -> np.ndarray:
    """``C(S)`` in euros for every mask (``C(empty) = 0``)."""
    n = game.n
    if isinstance(game, PoolGame):
        vol = _subset_sums(np.asarray(game.drivers, dtype=float))
        out = np.asarray(game.cost_of_volume(vol), dtype=float).copy()
    else:
        out = np.array([game.cost(np.flatnonzero((m >> np.arange(n)) & 1)) for m in range(1 << n)],
                       dtype=float)
    out[0] = 0.0
    return out
