"""Tariff grids: each public rule reproduced on its published figures, to the cent."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.errors import InputError
from model.tariffs import balance_grid, check_grid, grid_amounts

TDE90 = {"type": "unit_bands", "driver": "workstations", "unit_price": 574.88,
         "bands": [[1, 1.0], [3, 0.9], [6, 0.7], [16, 0.65]], "rounding": "up"}
RGPD = {"type": "tranches", "driver": "population",
        "tranches": [[1, 5.0], [1000, 2.0], [5000, 1.0], [10000, 0.1], [100000, 0.01]]}


def table(**cols):
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=pd.Index([f"{10000 + i}" for i in range(n)], name="commune"))


def test_territoire_d_energie_90_published_examples():
    # « 5 postes : 2 586,96 € » and « 16 postes : 5 978,76 € » (territoiredenergie90.fr):
    # 574,88 x 16 x 0,65 = 5 978,752 €: the public grid rounds up to the next cent.
    got = grid_amounts(TDE90, table(workstations=[1, 2, 5, 16]))
    assert list(got) == [574.88, 1149.76, 2586.96, 5978.76]
    nearest = grid_amounts({**TDE90, "rounding": "cent"}, table(workstations=[16]))
    assert nearest.iloc[0] == 5978.75  # rounding to the nearest cent would miss it by 1 cent


def test_rgpd_dotation_tranches():
    # 2 500 inhabitants -> 999 x 5 + 1 501 x 2 = 7 997 € (the bill's own example)
    got = grid_amounts(RGPD, table(population=[2500, 999, 1000, 10_000, 150_000]))
    assert got.iloc[0] == 7997.0
    assert got.iloc[1] == 999 * 5
    assert got.iloc[2] == 999 * 5 + 2
    assert got.iloc[3] == 999 * 5 + 4000 * 2 + 5000 * 1 + 1 * 0.1
    assert got.iloc[4] == pytest.approx(999 * 5 + 4000 * 2 + 5000 + 90_000 * 0.1 + 50_001 * 0.01)


def test_flat_per_inhabitant_fixed_plus_days_stratum_and_mixed():
    communes = table(population=[1234, 12_000], agents=[30.0, 150.0], archive_gb=[10.0, 80.0])
    inforoutes = {"type": "per_unit", "driver": "population", "unit_price": 1.10}
    assert list(grid_amounts(inforoutes, communes)) == [1357.40, 13200.0]
    cdg34 = {"type": "fixed_plus_unit", "driver": "agents", "fixed": 200, "unit_price": 250,
             "quantity_per_driver": 0.1}
    assert list(grid_amounts(cdg34, communes)) == [950.0, 3950.0]
    backups = {"type": "stratum_volume", "driver": "population", "volume_driver": "archive_gb",
               "strata": [[0, 12.0], [10_000, 9.0]]}
    assert list(grid_amounts(backups, communes)) == [120.0, 720.0]
    syder = {"type": "mixed", "parts": [inforoutes, cdg34]}
    assert list(grid_amounts(syder, communes)) == [2307.40, 17150.0]


def test_bad_grids_are_reported_in_french_with_their_key():
    problems = check_grid({"type": "unit_bands", "driver": "postes", "unit_price": -1,
                           "bands": [[3, 0.9], [1, 1.0]]}, ["workstations"], "tarifs.dsi")
    text = " ".join(str(p) for p in problems)
    assert "postes" in text and "unit_price" in text and "croître" in text
    assert all("tarifs.dsi" in str(p) for p in problems)
    with pytest.raises(InputError, match="type de grille"):
        grid_amounts({"type": "forfait"}, table(population=[1]))


def test_balance_says_by_how_much_and_scales_in_proportion():
    collected = grid_amounts(TDE90, table(workstations=[2, 5, 16, 40]))
    shares, report = balance_grid(collected, 20_000.0)
    assert shares.sum() == pytest.approx(1.0)
    assert report["gap_eur"] == pytest.approx(collected.sum() - 20_000.0, abs=0.01)
    assert (shares * 20_000).round(2).sum() == pytest.approx(20_000, abs=0.05)


@given(st.lists(st.integers(0, 300_000), min_size=1, max_size=30))
def test_tranches_are_monotone_and_marginal(pops):
    got = grid_amounts(RGPD, table(population=pops))
    more = grid_amounts(RGPD, table(population=[p + 1 for p in pops]))
    assert ((more - got) >= 0).all()
    assert ((more - got) <= 5.0 + 1e-9).all()  # never more than the top marginal rate


def test_a_grid_as_the_reference_key_of_the_default_split(tmp_path):
    """TDE 90's grid for the DSI, CDG 34's for the DPO, as the territory's current key: the run
    reports what each grid bills against the service's cost, and the default split starts from
    the grid (corrected only where a group would pay more than alone)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    scenario = tmp_path / "grille.yaml"
    scenario.write_text(
        'epci: "200035764"\nassumptions: {allocation: {reference_key: grid}}\ntariffs:\n'
        "  dsi: {type: unit_bands, driver: workstations, unit_price: 574.88,\n"
        "        bands: [[1, 1.0], [3, 0.9], [6, 0.7], [16, 0.65]], rounding: up}\n"
        "  dpo: {type: fixed_plus_unit, driver: agents, fixed: 200, unit_price: 250,\n"
        "        quantity_per_driver: 0.1}\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "model", "run", str(scenario), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert "votre grille tarifaire actuelle" in out.stdout.lower()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    grids = summary["tariff_grids"]
    assert set(grids) == {"dsi", "dpo"}
    for report in grids.values():
        assert report["gap_eur"] == pytest.approx(report["collected_eur"] - report["cost_eur"],
                                                  abs=0.01)
        assert "proportionnelle" in report["rule_fr"]
    year = summary["years"][0]
    assert year["default_method"]["reference_key"] == "grid"
    assert year["core"]["voted_key"]["in_core"] is True


def test_a_bad_grid_in_a_scenario_is_named_with_its_key(tmp_path):
    from model.scenario import Scenario

    scenario = tmp_path / "g.yaml"
    scenario.write_text('epci: "200035764"\ntariffs:\n  dsi: {type: per_unit, driver: postes, '
                        'unit_price: 1}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"tariffs\.dsi") as exc:
        Scenario.from_yaml(scenario).resolve()
    assert "g.yaml" in str(exc.value) and "postes" in str(exc.value)
