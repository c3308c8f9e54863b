"""The LP on the real cost model of real EPCIs (2 to 158 communes), every year of the mandate."""

from __future__ import annotations

import pytest
from conftest import assert_feasible, linprog_t

from model.allocation import allocate_lp
from model.projection import allocation_inputs, base_costs, price_index, resource_index, year_costs
from model.scenario import Scenario


def real_inputs(siren: str, year: int = 2026, **assumptions):
    resolved = Scenario(epci=siren, assumptions=assumptions).resolve()
    base = base_costs(resolved)
    yc = year_costs(resolved, base, price_index(resolved).loc[year], year,
                    resource_index(resolved).loc[year])
    return allocation_inputs(resolved, yc)


@pytest.mark.parametrize("which", ["smallest", "beauce", "agglopolys", "largest"])
def test_real_lp_matches_independent_solve(which, smallest_epci_siren, largest_epci_siren):
    siren = {"smallest": smallest_epci_siren, "beauce": "200035764",
             "agglopolys": "200030385", "largest": largest_epci_siren}[which]
    inputs = real_inputs(siren)
    result = allocate_lp(inputs)
    assert result.status == "optimal"
    assert result.max_burden == pytest.approx(linprog_t(inputs), rel=1e-6)
    assert_feasible(inputs, result.amounts)


@pytest.mark.parametrize("year", [2026, 2029, 2032])
def test_real_lp_every_year_and_solver_agree(year):
    inputs = real_inputs("200035764", year)
    fast = allocate_lp(inputs)
    cbc = allocate_lp(inputs, solver="pulp-cbc")
    assert cbc.max_burden == pytest.approx(fast.max_burden, rel=1e-6)
    assert (abs(cbc.raw - fast.raw) <= 1e-6 * inputs.to_split).all().all()


def test_epci_share_lowers_the_burden():
    plain = allocate_lp(real_inputs("200030385"))
    helped = allocate_lp(real_inputs("200030385", allocation={"epci_share": {"dsi": 0.5}}))
    assert helped.max_burden < plain.max_burden


def test_impossible_band_is_diagnosed_not_crashed():
    """Every commune paying at least 1.5 x its usage share cannot balance: diagnosed, no crash."""
    inputs = real_inputs("200030385", allocation={"band_lo": 1.5, "band_hi": 2.0})
    result = allocate_lp(inputs)
    assert result.status == "infeasible"
    assert not result.diagnosis.empty
    assert "usage_lower" in set(result.diagnosis["group"])
    assert result.diagnosis["slack_eur"].ge(0).all() and result.diagnosis["slack_eur"].gt(0).any()
    assert result.diagnosis["explanation_fr"].str.len().gt(0).all()
    for pool in inputs.to_split.index:  # amounts still balance
        assert round(result.amounts[pool].sum(), 2) == round(inputs.to_split[pool], 2)


@pytest.mark.parametrize("solver", ["highs-fast", "pulp-highs"])
def test_burden_cap_above_optimum_changes_nothing(solver):
    plain = allocate_lp(real_inputs("200035764"), solver=solver)
    capped = allocate_lp(real_inputs("200035764", allocation={
        "burden_cap": plain.max_burden * 1.01}), solver=solver)
    assert capped.status == "optimal"
    assert (capped.amounts == plain.amounts).all().all()


@pytest.mark.parametrize("solver", ["highs-fast", "pulp-cbc"])
def test_burden_cap_below_optimum_is_diagnosed(solver):
    t_star = allocate_lp(real_inputs("200035764")).max_burden
    inputs = real_inputs("200035764", allocation={"burden_cap": 0.8 * t_star})
    result = allocate_lp(inputs, solver=solver)
    assert result.status == "infeasible"
    over = result.diagnosis[result.diagnosis["group"] == "burden"]
    assert len(over) > 0 and over["slack_eur"].gt(0).any()
    assert over["explanation_fr"].str.contains("plafond de charge").all()
    # the diagnosed excess is what the communes pay above the cap
    paid = result.raw.sum(axis=1)
    cap_eur = 0.8 * t_star * inputs.capacity
    excess = (paid - cap_eur).clip(lower=0)
    rows = over[over["slack_eur"] > 0].set_index("commune")["slack_eur"]
    assert rows.to_numpy() == pytest.approx(excess.reindex(rows.index).to_numpy(), abs=0.01)


@pytest.mark.parametrize("which", ["agglopolys", "largest"])
@pytest.mark.parametrize("year", [2026, 2032])
def test_waterfill_equals_lp_leximin_rounds(which, year, largest_epci_siren):
    """The one-solve water-filling path gives the LP rounds' leximin totals and split."""
    import numpy as np

    from model.allocation.fast import HighsBackend
    from model.allocation.inputs import to_arrays
    from model.allocation.leximin import breakdown, run_leximin
    from model.allocation.solve import waterfill_leximin

    siren = {"agglopolys": "200030385", "largest": largest_epci_siren}[which]
    arr = to_arrays(real_inputs(siren, year))
    rounds = run_leximin(HighsBackend(arr), len(arr.communes), True)
    fast = waterfill_leximin(HighsBackend(arr), arr)
    assert fast.final.t == pytest.approx(rounds.first.t, rel=1e-12)
    scale = float(arr.total.sum())
    assert np.abs(fast.final.x.sum(axis=1) - rounds.final.x.sum(axis=1)).max() <= 1e-9 * scale
    x_rounds = breakdown(arr, rounds.final.x.sum(axis=1), fallback=rounds.final.x)
    assert np.abs(fast.final.x - x_rounds).max() <= 1e-9 * scale
    assert fast.level == pytest.approx(rounds.level, rel=1e-9)


def test_lp_rounds_fallback_gives_the_same_amounts(monkeypatch):
    import model.allocation.solve as solve

    inputs = real_inputs("200030385")
    fast = allocate_lp(inputs)
    monkeypatch.setattr(solve, "fast_leximin", lambda arr: None)
    slow = allocate_lp(inputs)
    assert (abs(slow.raw - fast.raw) <= 1e-6 * inputs.to_split).all().all()
    assert (slow.amounts == fast.amounts).all().all()
