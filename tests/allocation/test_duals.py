"""The péréquation LP's duals, by constraint name, agree between the fast highspy path and PuLP.

The fast path lays the LP out differently (band as column bounds, one ranged row for the
stand-alone and incremental tests) and maps its duals back to registry names; a swapped mapping
would pass every test of amounts. Here each named dual of the first min-t round is compared with
the one PuLP + HiGHS reports for the same named constraint, on degenerate-free cases.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pulp
import pytest

from model.allocation.build import build_allocation_lp, pulp_solver
from model.allocation.fast import HighsBackend, named_duals
from model.allocation.inputs import to_arrays
from tests.allocation.conftest import epci_inputs

CASES = ["200035764", "200030385", "200050532"]  # Beauce (23), Agglopolys (43), Petite-Terre (2)


@pytest.mark.parametrize("siren", CASES)
def test_named_duals_agree_between_fast_path_and_pulp(siren):
    arr = to_arrays(epci_inputs(siren))
    fast = HighsBackend(arr)
    sol = fast.solve()
    assert sol.optimal
    fast_duals = named_duals(arr, fast.m, sol)
    lp = build_allocation_lp(arr)
    lp.problem.solve(pulp_solver("pulp-highs"))
    assert pulp.LpStatus[lp.problem.status] == "Optimal"
    assert lp.t.value() == pytest.approx(sol.t, rel=1e-9)
    pulp_duals = {name: float(c.pi or 0.0) for name, c in lp.constraints.items()}
    # the first round's optimum t* is unique; its duals may not be, but their sum over the burden
    # rows is (sum_i cap_i |u_i| = 1) and the balance duals price the pools
    burden = [n for n in pulp_duals if n.startswith("burden__")]
    cap = dict(zip([f"burden____{c}" for c in arr.communes], arr.capacity, strict=True))
    assert sum(abs(fast_duals[n]) * cap[n] for n in burden) == pytest.approx(1.0, abs=1e-6)
    assert sum(abs(pulp_duals[n]) * cap[n] for n in burden) == pytest.approx(1.0, abs=1e-6)
    for name in pulp_duals:
        if name.startswith("balance__"):
            assert abs(fast_duals[name]) == pytest.approx(abs(pulp_duals[name]), abs=1e-7), name
    # every name the fast path reports exists in the PuLP model, and vice versa
    assert set(fast_duals) == set(pulp_duals)
    # complementary slackness under both paths: a nonzero dual only on a tight row
    x = np.array([[lp.x[i, p].value() for p in range(len(arr.pools))]
                  for i in range(len(arr.communes))])
    for name, c in lp.constraints.items():
        if abs(pulp_duals[name]) > 1e-7:
            assert abs(c.value()) < 1e-6 * max(1.0, float(np.abs(x).max())), name


@pytest.mark.parametrize("siren", CASES)
@pytest.mark.parametrize("band", [None, (0.97, 1.03), (0.9, 1.0)])
def test_fast_duals_sit_on_tight_rows_with_the_right_sign(siren, band):
    """Evaluate the PuLP model's named constraints at the fast path's own optimum: each nonzero
    fast dual must name a tight row, with the sign of its direction (min problem: <= rows have
    duals <= 0, >= rows >= 0). A swapped mapping (e.g. usage_lower <-> usage_upper) fails."""
    inputs = epci_inputs(siren)
    if band is not None:  # a tight usage band: its rows carry duals too
        inputs = replace(inputs, band=band)
    arr = to_arrays(inputs)
    fast = HighsBackend(arr)
    sol = fast.solve()
    if not sol.optimal:
        pytest.skip("band infeasible for this EPCI")
    duals = named_duals(arr, fast.m, sol)
    lp = build_allocation_lp(arr)
    for i in range(len(arr.communes)):
        for p in range(len(arr.pools)):
            lp.x[i, p].varValue = float(sol.x[i, p])
    lp.t.varValue = sol.t
    scale = max(1.0, float(np.abs(sol.x).max()))
    nonzero = 0
    for name, c in lp.constraints.items():
        d = duals[name]
        if abs(d) <= 1e-9:
            continue
        nonzero += 1
        assert abs(c.value()) <= 1e-7 * scale, f"{name}: dual {d} on a slack row"
        if c.sense == pulp.LpConstraintLE:
            assert d <= 1e-9, name
        elif c.sense == pulp.LpConstraintGE:
            assert d >= -1e-9, name
    assert nonzero > 0
    if band is not None:
        assert any(abs(v) > 1e-9 for k, v in duals.items() if k.startswith("usage_")), \
            "the case must exercise the band"
