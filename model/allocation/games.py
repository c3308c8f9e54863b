"""The cost game of one pool and one year, and the search for the most overcharged group.

A group ``S`` of communes that ran a service on its own would pay ``C_p(S) = f_p(Q(S))``, the
pool's cost function (`model.costs.PoolParams.cost`) of the group's driver volume ``Q(S)``, times
the year's price index. A split ``x`` is in the **core** when no group pays more than that:
``x(S) <= C_p(S)`` for every ``S``. There are ``2^n`` groups, so the LPs add these rows lazily:
`most_overcharged` finds the group whose payment exceeds its own cost the most (its *excess*).

* ``n <= EXACT_MAX``: every group is enumerated (exact).
* above: groups sorted by payment per unit of driver (the fractional-knapsack order) and their
  prefixes, improved by single additions and removals, give real groups (a lower bound on the
  largest excess); the fractional relaxation ``max_q F(q) - C(q)`` gives a proven **upper bound**
  (`Separation.bound_eur`). ``F(q)``, the most any set of communes of volume ``q`` can pay when
  communes may be taken fractionally, is concave and piecewise linear; on each piece ``C`` is a
  constant, linear or concave function of ``q``, so ``F - C`` peaks at a breakpoint of either,
  and the maximum over those points is exact for the relaxation. When the bound is at most a cent
  the split is certified in the core; otherwise the report says by how many euros it might not be.
  When the group found and the bound differ by more than a cent, an exact branch and bound
  (`nucleolus._BranchAndBound`) starts from that group and closes the gap to the cent, within a
  node budget that shrinks as the communes grow (`SEARCH_WORK`); when the budget runs out the
  proven bound is kept and the separation is not ``exact``. A split already found out of the core
  is measured to `REPORT_GAP` of its excess (and its bound stated), not to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.costs import PoolParams

#: Enumerate every group up to this many communes (2^18 = 262,144 groups per pool).
EXACT_MAX = 18
#: A group is overcharged when it pays more than its own cost by more than this (euros).
CORE_TOL_EUR = 0.01
#: Single-commune moves tried when improving the best prefix group (large EPCIs).
LOCAL_SEARCH_STEPS = 60
#: Work of the exact search of one check (branch-and-bound nodes x communes): 20,000 nodes at
#: 150 communes, 1,500 at 2,000 (each node costs time in proportion to the communes).
SEARCH_WORK = 3_000_000
#: A group found overcharged is measured to this share of its excess (0.1 %), or to the cent.
REPORT_GAP = 1e-3


@dataclass(frozen=True)
class PoolGame:
    """One pool in one year: each commune's driver volume and what any group would pay alone."""

    pool: str
    drivers: np.ndarray  # (n,) volume of the pool's driver per commune
    params: PoolParams
    factor: float = 1.0  # the year's price index

    @property
    def n(self) -> int:
        return len(self.drivers)

    def cost_of_volume(self, volume: np.ndarray | float) -> np.ndarray:
        """Cost (euros) of nonempty groups of total driver ``volume``."""
        return self.params.cost(volume, 1) * self.factor

    def cost(self, members: np.ndarray) -> float:
        """``C_p(S)`` for a boolean mask or index array of members (0 for the empty group)."""
        members = np.asarray(members)
        idx = np.flatnonzero(members) if members.dtype == bool else members
        if len(idx) == 0:
            return 0.0
        return float(self.cost_of_volume(self.drivers[idx].sum()))

    def standalone(self) -> np.ndarray:
        return self.cost_of_volume(self.drivers)

    def without_each(self) -> np.ndarray:
        """``C_p(N \\ {i})`` for each ``i`` (0 when ``N`` has one commune)."""
        if self.n == 1:
            return np.zeros(1)
        return self.cost_of_volume(self.drivers.sum() - self.drivers)


@dataclass(frozen=True)
class Separation:
    """The most overcharged group found, its excess ``x(S) - C(S)`` and the proven bound."""

    members: np.ndarray  # indices of the communes of the group (empty if none pays too much)
    excess_eur: float  # the group's excess (<= 0: nobody found overcharged)
    bound_eur: float  # no group's excess exceeds this
    exact: bool  # excess_eur is the largest excess to the cent (bound_eur - excess_eur <= a cent)

    @property
    def violated(self) -> bool:
        return self.excess_eur > CORE_TOL_EUR

    @property
    def certified(self) -> bool:
        """True when no group can be overcharged by more than a cent (exact or by the bound)."""
        return self.bound_eur <= CORE_TOL_EUR


def most_overcharged(game: PoolGame, x: np.ndarray, proper: bool = False,
                     exact_max: int = EXACT_MAX) -> Separation:
    """The group ``S`` (nonempty; a proper subset when `proper`) maximising ``x(S) - C(S)``.

    `x` is each commune's payment for this pool in euros.
    """
    x = np.asarray(x, dtype=float)
    if game.n <= exact_max:
        return _enumerate(game, x, proper)
    return _search(game, x, proper)


def subset_sums(v: np.ndarray) -> np.ndarray:
    """``sum_{i in S} v_i`` for every mask ``S`` (bit ``i`` <-> commune ``i``)."""
    out = np.zeros(1)
    for vi in np.asarray(v, dtype=float):
        out = np.concatenate([out, out + vi])
    return out


def _excess_of_every_group(game: PoolGame, x: np.ndarray) -> np.ndarray:
    """``x(S) - C(S)`` for every mask ``S``; the empty group at ``-inf``."""
    excess = subset_sums(x) - game.cost_of_volume(subset_sums(game.drivers))
    excess[0] = -np.inf
    return excess


def _enumerate(game: PoolGame, x: np.ndarray, proper: bool) -> Separation:
    n = game.n
    excess = _excess_of_every_group(game, x)
    if proper:
        excess[-1] = -np.inf
    if not np.isfinite(excess).any():
        return Separation(np.array([], dtype=int), -np.inf, -np.inf, True)
    best = int(np.argmax(excess))
    members = np.flatnonzero((best >> np.arange(n)) & 1)
    return Separation(members, float(excess[best]), float(excess[best]), True)


def _order(game: PoolGame, x: np.ndarray) -> np.ndarray:
    """Communes by decreasing payment per unit of driver (zero-driver payers first)."""
    d = game.drivers
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d > 0, x / np.where(d > 0, d, 1.0), np.where(x > 0, np.inf, -np.inf))
    return np.lexsort((np.arange(game.n), -ratio))


def relaxation_bound(game: PoolGame, x: np.ndarray, proper: bool = False) -> float:
    """``max_q F(q) - C(q)``: no group's excess can exceed it (see the module docstring)."""
    d = game.drivers
    order = _order(game, x)
    dz, xz = d[order], x[order]
    positive = dz > 0
    base_pay = float(np.maximum(xz[~positive], 0.0).sum())  # zero-volume communes worth taking
    dp, xp = dz[positive], xz[positive]
    keep = xp > 0  # a commune paying nothing never helps the excess
    dp, xp = dp[keep], xp[keep]
    q_knots = np.concatenate([[0.0], np.cumsum(dp)])
    f_knots = base_pay + np.concatenate([[0.0], np.cumsum(xp)])
    q_max = float(d.sum())
    if proper:
        q_max -= float(d.min()) if game.n > 1 else q_max
    p = game.params
    special = [p.ref_volume]
    if p.scale_elasticity != 1.0 and 0 < p.floor_share < 1:
        special.append(p.ref_volume * p.floor_share ** (1.0 / (p.scale_elasticity - 1.0)))
    grid = np.concatenate([q_knots, special, _min_price_knee(p, q_knots[-1])])
    grid = np.unique(np.clip(grid, 0.0, max(q_max, 0.0)))
    f = np.interp(grid, q_knots, f_knots)
    if not (base_pay > 0 or len(dp)):
        return -np.inf
    return float(np.max(f - game.cost_of_volume(grid)))


def _min_price_knee(p: PoolParams, q_hi: float) -> np.ndarray:
    """The volume where the minimum price stops binding (bisection on the increasing cost)."""
    if p.min_price <= 0 or float(p.cost(0.0)) > p.min_price or q_hi <= 0:
        return np.array([])
    raw = lambda q: p.fixed + p.unit * q * np.clip(  # noqa: E731
        max(q / p.ref_volume, 1.0) ** (p.scale_elasticity - 1.0), p.floor_share, 1.0)
    if raw(q_hi) <= p.min_price:
        return np.array([])
    lo, hi = 0.0, q_hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if raw(mid) <= p.min_price else (lo, mid)
    return np.array([lo, hi])


def _search(game: PoolGame, x: np.ndarray, proper: bool) -> Separation:
    n, d = game.n, game.drivers
    order = _order(game, x)
    vol = np.cumsum(d[order])
    pay = np.cumsum(x[order])
    excess = pay - game.cost_of_volume(vol)
    if proper:
        excess[-1] = -np.inf
    k = int(np.argmax(excess))
    member = np.zeros(n, dtype=bool)
    member[order[: k + 1]] = True
    best = float(excess[k])
    q, paid = float(d[member].sum()), float(x[member].sum())
    for _ in range(LOCAL_SEARCH_STEPS):  # best single addition or removal, while it helps
        size = int(member.sum())
        c_now = float(game.cost_of_volume(q))
        add = x - (game.cost_of_volume(q + d) - c_now)
        rem = -x + (c_now - game.cost_of_volume(np.maximum(q - d, 0.0)))
        gain = np.where(member, rem, add)
        if size == 1:
            gain[member] = -np.inf
        if proper and size == n - 1:
            gain[~member] = -np.inf
        j = int(np.argmax(gain))
        if not gain[j] > 1e-9:
            break
        member[j] = not member[j]
        q, paid = float(d[member].sum()), float(x[member].sum())
        best = paid - float(game.cost_of_volume(q))
    bound = max(relaxation_bound(game, x, proper), best)
    # to the cent; a group already overcharged is measured to REPORT_GAP of its excess
    gap = max(CORE_TOL_EUR, REPORT_GAP * best)
    if bound > CORE_TOL_EUR and bound > best + gap and not proper:
        # the heuristic cannot conclude: the exact branch and bound of the nucleolus module
        # (fractional-knapsack bounds), above the heuristic's group and to the cent, within a
        # node budget that shrinks as the communes grow (the bound is stated when it stops)
        from model.allocation.nucleolus import BNB_SEARCH_NODES, _BranchAndBound

        groups, complete, bnb_bound = _BranchAndBound(game, x, None).search(
            best, 1, search_nodes(n, BNB_SEARCH_NODES), maximise=True, gap=gap)
        if groups and groups[0][0] > best:
            best = float(groups[0][0])
            member = np.asarray(groups[0][1], dtype=bool)
        bound = max(min(bound, float(bnb_bound)), best)
    exact = bound - best <= CORE_TOL_EUR + 1e-6  # the largest excess, to the cent
    return Separation(np.flatnonzero(member), best, bound, exact)


def search_nodes(n: int, most: int) -> int:
    """Branch-and-bound nodes of one search over ``n`` communes (`SEARCH_WORK`), at most ``most``."""
    return int(min(most, max(200, SEARCH_WORK // max(n, 1))))


def violated_groups(game: PoolGame, x: np.ndarray, limit: int = 40,
                    exact_max: int = EXACT_MAX) -> list[np.ndarray]:
    """Up to `limit` distinct overcharged groups (excess above a cent), the worst first.

    Constraint generation converges in far fewer rounds when it adds many violated rows at once:
    every overcharged group of the enumeration (small EPCIs), or every overcharged prefix of
    the fractional-knapsack order plus the locally improved best group (large ones).
    """
    x = np.asarray(x, dtype=float)
    n = game.n
    if n <= exact_max:
        excess = _excess_of_every_group(game, x)
        hits = np.flatnonzero(excess > CORE_TOL_EUR)
        hits = hits[np.argsort(-excess[hits], kind="stable")][:limit]
        return [np.flatnonzero((int(m) >> np.arange(n)) & 1) for m in hits]
    best = _search(game, x, False)
    out = [best.members] if best.violated else []
    order = _order(game, x)
    excess = np.cumsum(x[order]) - game.cost_of_volume(np.cumsum(game.drivers[order]))
    hits = np.flatnonzero(excess > CORE_TOL_EUR)
    hits = hits[np.argsort(-excess[hits], kind="stable")][: max(limit - len(out), 0)]
    out += [np.sort(order[: k + 1]) for k in hits]
    return out
