"""Least core and nucleolus: against an independent brute-force re-solve with scipy (every
coalition, probing LPs for the always-tight ones), two games solved by hand, and the invariants
(efficiency, core, symmetry); the large-EPCI path (branch and bound) against enumeration."""

from __future__ import annotations

from functools import cache
from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from model.allocation.games import PoolGame
from model.allocation.nucleolus import least_core, nucleolus
from model.costs import POOLS, pool_params
from model.data.assumptions import assumption_values, load_assumptions

CENT = 0.01


@cache
def params():
    return pool_params(assumption_values(load_assumptions()))


class TableGame:
    """A cost game given by its table: ``costs[frozenset of players]`` (players 0..n-1)."""

    def __init__(self, n: int, costs: dict[frozenset, float]):
        self.n, self.costs = n, costs

    def cost(self, members) -> float:
        members = np.asarray(members)
        idx = np.flatnonzero(members) if members.dtype == bool else members
        return self.costs[frozenset(int(i) for i in idx)]


def coalitions(n: int) -> list[tuple[int, ...]]:
    """Every proper nonempty coalition."""
    return [c for k in range(1, n) for c in combinations(range(n), k)]


def cost_of(game, members: tuple[int, ...]) -> float:
    return float(game.cost(np.array(members, dtype=int)))


def scipy_nucleolus(game, total: float) -> tuple[np.ndarray, float]:
    """Independent re-solve: sequential LPs over ALL coalitions with scipy's linprog; a coalition
    is fixed when it is tight in every optimum, proven by a probing LP (min x(S) at eps = eps_k),
    and dropped when its indicator is in the span of the fixed ones. Money in k€."""
    n = game.n
    scale = 1000.0
    rows = [np.isin(np.arange(n), c).astype(float) for c in coalitions(n)]
    cost = [cost_of(game, c) / scale for c in coalitions(n)]
    active = list(range(len(rows)))
    fixed: list[tuple[int, float]] = []  # (coalition, eps level)
    eps_first = None
    ones = np.ones(n)
    while True:
        a_eq = [np.r_[ones, 0.0]] + [np.r_[rows[s], 0.0] for s, _ in fixed]
        b_eq = [total / scale] + [cost[s] - e for s, e in fixed]
        a_ub = [np.r_[rows[s], 1.0] for s in active]
        b_ub = [cost[s] for s in active]
        bounds = [(None, None)] * (n + 1)
        res = linprog(np.r_[np.zeros(n), -1.0], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                      bounds=bounds, method="highs")
        assert res.status == 0, res.message
        eps = res.x[n]
        eps_first = eps if eps_first is None else eps_first
        x = res.x[:n]
        tight = [s for s in active if cost[s] - rows[s] @ x - eps < 1e-7]
        always = []
        for s in tight:  # probing: can S be slack while every other constraint holds at eps_k?
            probe = linprog(np.r_[rows[s], 0.0], A_ub=a_ub, b_ub=b_ub,
                            A_eq=a_eq, b_eq=b_eq, bounds=bounds[:n] + [(eps, eps)], method="highs")
            assert probe.status == 0, probe.message
            if probe.fun >= cost[s] - eps - 1e-7:
                always.append(s)
        assert always
        fixed += [(s, eps) for s in always]
        basis = np.array([ones] + [rows[s] for s, _ in fixed])
        rank = np.linalg.matrix_rank(basis, tol=1e-9)
        if rank == n:
            return x * scale, eps_first * scale
        fixed_set = {s for s, _ in fixed}
        active = [s for s in active if s not in fixed_set
                  and np.linalg.matrix_rank(np.vstack([basis, rows[s]]), tol=1e-9) > rank]


def max_excess(game, x: np.ndarray) -> float:
    return max(float(np.sum(x[list(c)])) - cost_of(game, c) for c in coalitions(game.n))


def pool_game(pool: str, drivers) -> PoolGame:
    p = params()[pool]
    return PoolGame(pool, np.asarray(drivers, dtype=float), p)


# -- textbook games solved by hand -------------------------------------------------------------------

def test_airport_game_by_hand():
    """Littlechild & Owen's airport game: runway costs 6, 12 and 18 for three plane types; a group
    pays for the longest runway it needs. Stage 1: the sats are x1, 6-x1 (player 1 and {2,3}), so
    eps* = 3 and x1 = 3; stage 2 on x2 + x3 = 15: min(x2, 12-x2, 9-x2, 3+x2) peaks at x2 = 4.5."""
    runway = [6.0, 12.0, 18.0]
    table = {frozenset(c): max(runway[i] for i in c) for k in range(1, 4)
             for c in combinations(range(3), k)}
    table[frozenset()] = 0.0
    game = TableGame(3, table)
    res = nucleolus(game, 18.0)
    np.testing.assert_allclose(res.x_eur, [3.0, 4.5, 10.5], atol=1e-6)
    assert res.epsilon_star_eur == pytest.approx(3.0, abs=1e-6)
    assert res.levels_eur == pytest.approx((3.0, 4.5), abs=1e-6)
    assert res.exact and res.lps == 2 and res.in_core
    eps, _ = least_core(game, 18.0)
    assert eps == pytest.approx(3.0, abs=1e-6)


def test_three_towns_by_hand():
    """Stand-alone costs 10, 4, 8, any two towns build the whole network for 12. The sats are
    x_i and C(i) - x_i: town 2 is pinned at 2 (eps* = 2), then x1 + x3 = 10 with
    min(x1, 10 - x1, x3, 8 - x3) maximal at x1 = 6: the nucleolus is (6, 2, 4), the least core
    is not a single point (x1 in [2, 8])."""
    table = {frozenset(): 0.0, frozenset({0}): 10.0, frozenset({1}): 4.0, frozenset({2}): 8.0,
             frozenset({0, 1}): 12.0, frozenset({0, 2}): 12.0, frozenset({1, 2}): 12.0,
             frozenset({0, 1, 2}): 12.0}
    game = TableGame(3, table)
    res = nucleolus(game, 12.0)
    np.testing.assert_allclose(res.x_eur, [6.0, 2.0, 4.0], atol=1e-6)
    assert res.epsilon_star_eur == pytest.approx(2.0, abs=1e-6)
    assert res.lps == 2 and res.exact
    lc = least_core(game, 12.0)
    assert lc.epsilon_star_eur == pytest.approx(2.0, abs=1e-6) and lc.exact
    assert lc.x_eur[1] == pytest.approx(2.0, abs=1e-6)


def test_scipy_reference_on_the_textbook_games():
    runway = [6.0, 12.0, 18.0]
    table = {frozenset(c): max(runway[i] for i in c) for k in range(0, 4)
             for c in combinations(range(3), k) if c}
    x, eps = scipy_nucleolus(TableGame(3, table), 18.0)
    np.testing.assert_allclose(x, [3.0, 4.5, 10.5], atol=1e-6)
    assert eps == pytest.approx(3.0, abs=1e-6)


# -- random games with the real cost functions ---------------------------------------------------

drivers_st = st.lists(st.floats(min_value=0.3, max_value=400.0, allow_nan=False, allow_infinity=False),
                      min_size=2, max_size=7)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drivers=drivers_st, pool=st.sampled_from(POOLS), share=st.floats(0.6, 1.0))
def test_matches_scipy_brute_force(drivers, pool, share):
    """Same nucleolus and least-core value as the independent re-solve, to the cent; efficient;
    in the core when eps* >= 0."""
    game = pool_game(pool, drivers)
    total = share * game.cost(np.arange(game.n))
    res = nucleolus(game, total)
    x_ref, eps_ref = scipy_nucleolus(game, total)
    assert res.exact
    np.testing.assert_allclose(res.x_eur, x_ref, atol=CENT)
    assert res.epsilon_star_eur == pytest.approx(eps_ref, abs=CENT)
    assert least_core(game, total).epsilon_star_eur == pytest.approx(eps_ref, abs=CENT)
    assert res.x_eur.sum() == pytest.approx(total, abs=CENT)
    excess = max_excess(game, res.x_eur)
    assert res.max_excess_bound_eur == pytest.approx(excess, abs=CENT)
    if eps_ref >= 0:
        assert excess <= CENT and res.in_core


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.lists(st.floats(min_value=0.5, max_value=300.0), min_size=2, max_size=5),
       twins=st.integers(2, 3), pool=st.sampled_from(POOLS), share=st.floats(0.6, 1.0))
def test_symmetric_players_pay_the_same(base, twins, pool, share):
    """Communes with the same driver are interchangeable: the nucleolus charges them the same."""
    drivers = base + [base[0]] * (twins - 1)
    game = pool_game(pool, drivers)
    total = share * game.cost(np.arange(game.n))
    x = nucleolus(game, total).x_eur
    np.testing.assert_allclose(x[len(base):], x[0], atol=CENT)


def heterogeneous(n: int, seed: int) -> np.ndarray:
    """Non-integer drivers from a fraction of a poste to a ville-centre's hundreds."""
    rng = np.random.default_rng(seed)
    d = rng.lognormal(1.0, 1.3, n)
    d[0] *= 20
    return d


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("seed", [1, 2])
def test_branch_and_bound_path_matches_enumeration(pool, seed):
    """The large-EPCI path (cheap search, then branch and bound) forced on 11 communes gives the
    enumeration's nucleolus, and says it is exact."""
    game = pool_game(pool, heterogeneous(11, seed))
    for share in (1.0, 0.85):
        total = share * game.cost(np.arange(game.n))
        ref = nucleolus(game, total)
        big = nucleolus(game, total, exact_max=4)
        assert ref.exact and big.exact, big.note
        np.testing.assert_allclose(big.x_eur, ref.x_eur, atol=CENT)
        assert big.epsilon_star_eur == pytest.approx(ref.epsilon_star_eur, abs=CENT)
        assert big.max_excess_bound_eur == pytest.approx(ref.max_excess_bound_eur, abs=CENT)
        lc = least_core(game, total, exact_max=4)
        assert lc.exact and lc.epsilon_star_eur == pytest.approx(ref.epsilon_star_eur, abs=CENT)


def test_symmetric_players_on_the_branch_and_bound_path():
    d = heterogeneous(22, 3)
    d[5:9] = d[4]  # five interchangeable communes
    game = pool_game("dsi", d)
    res = nucleolus(game, game.cost(np.arange(game.n)))
    assert res.exact, res.note
    np.testing.assert_allclose(res.x_eur[5:9], res.x_eur[4], atol=CENT)


def test_real_epci_blois():
    """CA de Blois (43 communes, drivers as the projection estimates them): every pool exact,
    efficient, and in the core when the least core says the core is not empty."""
    from model.scenario import Scenario

    res = Scenario(epci="200030385").resolve()
    for pool, p in pool_params(res.values).items():
        game = PoolGame(pool, res.communes.values[p.driver].to_numpy(dtype=float), p)
        total = game.cost(np.arange(game.n))
        nuc = nucleolus(game, total)
        assert nuc.exact, (pool, nuc.note)
        assert nuc.rank == game.n
        assert nuc.x_eur.sum() == pytest.approx(total, abs=CENT)
        if nuc.epsilon_star_eur >= 0:
            assert nuc.in_core


def test_small_and_capped_cases():
    one = pool_game("dsi", [3.0])
    assert nucleolus(one, 100.0).x_eur.tolist() == [100.0]
    two = pool_game("dpo", [2.0, 30.0])
    c = two.standalone()
    total = two.cost(np.arange(2))
    res = nucleolus(two, total)  # each pays its stand-alone cost less half the saving
    saving = c.sum() - total
    np.testing.assert_allclose(res.x_eur, c - saving / 2, atol=1e-6)
    assert res.epsilon_star_eur == pytest.approx(saving / 2, abs=1e-6)
    game = pool_game("archivage", heterogeneous(8, 4))
    capped = nucleolus(game, 0.8 * game.cost(np.arange(8)), max_lps=1)
    full = nucleolus(game, 0.8 * game.cost(np.arange(8)))
    if full.lps > 1:
        assert not capped.exact and "cap" in capped.note
    assert capped.epsilon_star_eur == pytest.approx(full.epsilon_star_eur, abs=CENT)
