"""Infeasible inputs: no crash, status "infeasible", a French diagnosis naming the conflict."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import cents

from model.allocation import allocate_lp
from model.errors import InputError


def _squeeze_standalone(inputs, commune, factor=0.3, band=(0.95, 1.05)):
    """Make `commune` alone cheaper than its usage-band floor: stand-alone vs usage_lower."""
    usage = inputs.usage_share.loc[commune] * inputs.to_split
    standalone = inputs.standalone.copy()
    standalone.loc[commune] = factor * usage
    return replace(inputs, standalone=standalone, band=band)


@pytest.mark.parametrize("solver", ["highs-fast", "pulp-cbc"])
def test_standalone_below_band_floor_is_diagnosed(blois, solver):
    commune = blois.communes[5]
    inputs = _squeeze_standalone(blois, commune)
    result = allocate_lp(inputs, solver=solver)
    assert result.status == "infeasible"
    diag = result.diagnosis
    assert list(diag.columns) == ["group", "commune", "pool", "slack_eur", "explanation_fr"]
    assert set(diag["commune"]) == {commune}
    assert {"standalone", "usage_lower"} <= set(diag["group"])
    usage_total = float((inputs.usage_share.loc[commune] * inputs.to_split).sum())
    expected_gap = (0.95 - 0.3) * usage_total
    assert diag["slack_eur"].sum() == pytest.approx(expected_gap, rel=1e-6)
    assert diag["explanation_fr"].str.contains("en conflit").all()
    # The elastic amounts still balance every pool to the cent.
    for pool in inputs.to_split.index:
        assert cents(result.amounts[pool]).sum() == cents([inputs.to_split[pool]])[0]


def test_incremental_above_standalone_is_diagnosed(beauce):
    commune = beauce.communes[0]
    incremental = beauce.incremental.copy()
    incremental.loc[commune] = beauce.standalone.loc[commune] * 1.5
    result = allocate_lp(replace(beauce, incremental=incremental))
    assert result.status == "infeasible"
    groups = set(result.diagnosis["group"])
    assert groups & {"standalone", "incremental"}
    assert set(result.diagnosis["commune"]) == {commune}
    gap = 0.5 * beauce.standalone.loc[commune].sum()
    relaxed = result.diagnosis[result.diagnosis["slack_eur"] > 0]
    assert relaxed["slack_eur"].sum() == pytest.approx(gap, rel=1e-6)


def test_feasible_result_has_empty_diagnosis(beauce):
    result = allocate_lp(beauce)
    assert result.status == "optimal"
    assert result.diagnosis.empty


def test_invalid_inputs_raise_one_french_error(beauce):
    capacity = beauce.capacity.copy()
    capacity.iloc[0] = 0.0
    with pytest.raises(InputError, match="strictement positive") as info:
        allocate_lp(replace(beauce, capacity=capacity, band=(2.0, 1.0)))
    assert len(info.value.problems) == 2
