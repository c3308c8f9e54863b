"""One formulation, several backends: the voted LP's groups solved by highspy and by PuLP agree."""

from __future__ import annotations

import numpy as np
import pulp
import pytest

from model.allocation.build import pulp_solver
from model.allocation.formulation import elastic, solve_highs, solve_pulp, to_highs, to_pulp
from model.allocation.voted import RULES, build, to_arrays
from tests.allocation.test_voted import heterogeneous, key_burden, with_rules


def every_rule(seed: int = 11):
    inp = heterogeneous(6, seed=seed)
    cap = float(key_burden(inp).max() * 0.99)
    return with_rules(inp, burden_cap=cap, guaranteed_saving=0.01, key_departure=0.5,
                      usage_band=(0.2, 5.0))


def test_every_group_is_built_and_named():
    inp = every_rule()
    form, _ = build(inp, to_arrays(inp))
    groups = {g.group for g in form.groups}
    assert {"balance", "key_ratio", "standalone"} <= groups
    assert set(RULES) <= groups
    assert {g.rule for g in form.groups if g.rule} == set(RULES)
    prob, rows = to_pulp(form)
    names = {c.name for c in prob.constraints()}
    assert "burden_cap____10000" in names and "balance__dsi__" in names


@pytest.mark.parametrize("solver", ["pulp-cbc", "pulp-highs"])
def test_highspy_and_pulp_give_the_same_optimum_and_duals(solver):
    inp = every_rule()
    form, lay = build(inp, to_arrays(inp))
    a = solve_highs(to_highs(form))
    b = solve_pulp(form, pulp_solver(solver))
    assert a.optimal and b.optimal
    assert a.objective == pytest.approx(b.objective, abs=1e-7)
    # same feasible point quality: every row within bounds under both
    for sol in (a, b):
        act = np.concatenate([g.a @ sol.x for g in form.groups])
        lo = np.concatenate([g.lower for g in form.groups])
        up = np.concatenate([g.upper for g in form.groups])
        # CBC prints 8 significant digits: 1e-5 k€ (a cent) is its precision here
        assert (act >= lo - 1e-5).all() and (act <= up + 1e-5).all()
    # the duals of the balance rows (the price of one more k€ to split) agree
    off = form.offsets()[0]
    n_bal = form.groups[0].size
    np.testing.assert_allclose(np.abs(a.row_dual[off:off + n_bal]),
                               np.abs(b.row_dual[off:off + n_bal]), atol=1e-6)


def test_elastic_relaxes_only_voted_groups():
    inp = heterogeneous(6, seed=12)
    inp = with_rules(inp, burden_cap=float(key_burden(inp).min() * 0.3))
    form, _ = build(inp, to_arrays(inp))
    assert solve_highs(to_highs(form)).status == "infeasible"
    el, slacks = elastic(form)
    assert {form.groups[gi].group for gi, _, _ in slacks} == {"burden_cap"}
    sol = solve_highs(to_highs(el))
    assert sol.optimal and sol.objective > 0
    assert pulp.LpStatus  # PuLP imported for the solver map above
