"""The allocation LP: optimum, invariants, solver paths, leximin, explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import PAYS_BASQUE, assert_feasible, epci_inputs, linprog_t, permute

from model.allocation import GROUPS, SOLVERS, allocate_lp, build_allocation_lp, write_lp
from model.allocation.fast import solve_once
from model.allocation.inputs import to_arrays


@pytest.mark.parametrize("solver", SOLVERS)
def test_optimum_matches_linprog(beauce, solver):
    result = allocate_lp(beauce, solver=solver)
    assert result.status == "optimal"
    assert result.max_burden == pytest.approx(linprog_t(beauce), rel=1e-6)


def test_optimum_matches_linprog_158_communes(pays_basque):
    result = allocate_lp(pays_basque)
    assert len(result.amounts) == 158
    assert result.max_burden == pytest.approx(linprog_t(pays_basque), rel=1e-6)
    assert_feasible(pays_basque, result.amounts)


@pytest.mark.parametrize("fixture", ["beauce", "blois", "petite_terre"])
def test_invariants_hold(fixture, request):
    inputs = request.getfixturevalue(fixture)
    result = allocate_lp(inputs)
    assert_feasible(inputs, result.amounts)
    burden = result.amounts.sum(axis=1) / inputs.capacity
    assert burden.max() <= result.max_burden + 0.01 * 4 / inputs.capacity.min()
    pd.testing.assert_series_equal(result.burden, burden.rename("burden_ratio"))


@pytest.mark.parametrize("solver", ["pulp-highs", "pulp-cbc"])
@pytest.mark.parametrize("fixture", ["beauce", "blois"])
def test_paths_give_same_leximin_amounts(fixture, solver, request):
    inputs = request.getfixturevalue(fixture)
    fast = allocate_lp(inputs, solver="highs-fast")
    other = allocate_lp(inputs, solver=solver)
    assert other.max_burden == pytest.approx(fast.max_burden, rel=1e-6)
    tol = 1e-6 * inputs.to_split  # relative to each pool's amount
    assert (np.abs(other.raw - fast.raw) <= tol).all().all()
    assert_feasible(inputs, other.amounts)


def test_cbc_not_fooled_by_scaling(blois):
    """CBC must reach the true min max burden: no burden row violated, t* = linprog's."""
    result = allocate_lp(blois, solver="pulp-cbc", leximin=False)
    true_t = linprog_t(blois)
    assert result.max_burden == pytest.approx(true_t, rel=1e-6)
    burden = result.raw.sum(axis=1) / blois.capacity
    assert burden.max() == pytest.approx(true_t, rel=1e-6)


def test_first_solve_matches_raw_highs(blois):
    t, x = solve_once(to_arrays(blois))
    assert allocate_lp(blois).max_burden == pytest.approx(t, rel=1e-9)
    assert x.sum().to_numpy() == pytest.approx(blois.to_split.to_numpy(), rel=1e-9)


def test_permuted_order_gives_same_amounts(blois):
    base = allocate_lp(blois)
    order = np.random.default_rng(7).permutation(len(blois.communes))
    other = allocate_lp(permute(blois, order))
    assert not other.amounts.index.equals(base.amounts.index)
    diff = np.abs(other.raw.loc[base.raw.index] - base.raw)
    assert (diff <= 1e-6 * blois.to_split).all().all()
    assert (np.abs(other.amounts.loc[base.amounts.index] - base.amounts) <= 0.0100001).all().all()


def _sorted_desc(burden: pd.Series) -> np.ndarray:
    return np.sort(burden.to_numpy())[::-1]


@pytest.mark.parametrize("fixture", ["beauce", "blois"])
def test_leximin_no_worse_than_first_round(fixture, request):
    inputs = request.getfixturevalue(fixture)
    lex = allocate_lp(inputs)
    first = allocate_lp(inputs, leximin=False)
    cap = inputs.capacity
    a = _sorted_desc(lex.raw.sum(axis=1) / cap)
    b = _sorted_desc(first.raw.sum(axis=1) / cap)
    assert a[0] == pytest.approx(b[0], rel=1e-9)  # same t*
    diff = a - b
    first_diff = diff[np.abs(diff) > 1e-9]
    assert first_diff.size == 0 or first_diff[0] < 0, "leximin vector is lexicographically worse"
    assert lex.leximin_rounds > 1
    assert first.leximin_rounds == 1


def test_leximin_levels_are_the_burdens(blois):
    result = allocate_lp(blois)
    burden = result.raw.sum(axis=1) / blois.capacity
    levels = result.levels["level"]
    assert levels.notna().all()
    assert burden.to_numpy() == pytest.approx(levels.to_numpy(), rel=1e-6)
    assert levels.max() == pytest.approx(result.max_burden, rel=1e-12)


def test_equal_burden_when_usage_matches_capacity():
    """Usage shares = population shares and capacity ∝ population: everyone at t*."""
    inputs = epci_inputs("200035764", vary=False)
    result = allocate_lp(inputs)
    burden = result.raw.sum(axis=1) / inputs.capacity
    assert burden.to_numpy() == pytest.approx(result.max_burden, rel=1e-9)


def test_binding_table_explains_in_french(blois):
    result = allocate_lp(blois)
    binding = result.binding
    assert list(binding.columns) == ["commune", "group", "pool", "shadow_price", "explanation_fr"]
    assert set(binding["group"]) <= set(GROUPS)
    top = binding[binding["explanation_fr"].str.contains("charge au maximum commun t*", regex=False)]
    fixed_first = result.levels.index[result.levels["round"] == 1]
    assert set(top["commune"]) == set(fixed_first)
    assert (top["shadow_price"] != 0).all()
    assert binding["explanation_fr"].str.contains("Blois").any() or "41018" not in set(binding["commune"])
    band = binding[binding["group"] == "usage_lower"]
    for _, row in band.iterrows():
        lo = blois.band[0] * blois.usage_share.loc[row["commune"], row["pool"]] * blois.to_split[row["pool"]]
        assert result.raw.loc[row["commune"], row["pool"]] == pytest.approx(lo, abs=0.01)
        assert "au plancher de la bande d'usage" in row["explanation_fr"]


def test_registry_covers_every_group(beauce):
    lp = build_allocation_lp(to_arrays(beauce))
    assert {group for group, _, _ in lp.registry.values()} == set(GROUPS)
    for name, (group, pool, commune) in lp.registry.items():
        assert name == f"{group}__{pool}__{commune}"
        assert lp.problem.get_constraint_by_name(name) is not None
    n, p = beauce.standalone.shape
    assert len(lp.registry) == p + 2 * n * p + 3 * n


def test_write_lp(tmp_path, petite_terre):
    path = tmp_path / "allocation.lp"
    write_lp(petite_terre, path)
    text = path.read_text()
    commune = petite_terre.communes[0]
    for name in ["t_max_burden", "balance__dsi__", f"usage_upper__dsi__{commune}",
                 f"standalone____{commune}", f"burden____{commune}", f"pay__dsi__{commune}"]:
        assert name in text


def test_two_communes(petite_terre):
    result = allocate_lp(petite_terre)
    assert result.status == "optimal"
    assert result.max_burden == pytest.approx(linprog_t(petite_terre), rel=1e-6)
    assert_feasible(petite_terre, result.amounts)


def test_unknown_solver_is_refused(beauce):
    with pytest.raises(ValueError, match="Solveur inconnu"):
        allocate_lp(beauce, solver="gurobi")


def test_pays_basque_code():
    assert len(epci_inputs(PAYS_BASQUE).communes) == 158
