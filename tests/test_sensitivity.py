"""Sensitivity draws on real EPCIs: the solver-free leximin, reproducibility, ordered quantiles."""

import json

import numpy as np
import pandas as pd
import pytest

import model.sensitivity as sens
from model.allocation import allocate_lp
from model.allocation.inputs import to_arrays
from model.cli import main
from model.errors import InputError
from model.projection import allocation_inputs, base_costs, price_index, resource_index, year_costs
from model.run import run
from model.scenario import Scenario
from model.sensitivity import fast_leximin, sensitivity

BEAUCE = "200035764"      # 23 communes
AGGLOPOLYS = "200030385"  # 43 communes
# the central path: licences +3.2 %/yr, no SaaS jump (a variant, drawn with a probability)
CENTRAL = {"licence_growth": (0.032, 0.032, 0.032), "rrf_growth": (0.024, 0.024, 0.024),
           "saas_jump_probability": 0.0}


@pytest.mark.parametrize("siren", [BEAUCE, AGGLOPOLYS, "200050532"])
def test_water_level_leximin_equals_the_lp(siren):
    resolved = Scenario(epci=siren).resolve()
    base, prices, cap = base_costs(resolved), price_index(resolved), resource_index(resolved)
    for year in resolved.years:
        inputs = allocation_inputs(
            resolved, year_costs(resolved, base, prices.loc[year], year, cap.loc[year]))
        lp = allocate_lp(inputs)
        x, t = fast_leximin(to_arrays(inputs))
        assert t == pytest.approx(lp.max_burden, rel=1e-9)
        np.testing.assert_allclose(x * 1e6, lp.raw.to_numpy(), rtol=1e-8, atol=1e-3)


def test_central_draws_reproduce_the_single_run():
    # flat resources: the scissor bites within the horizon, so the years are worth comparing
    scenario = Scenario(epci=BEAUCE, assumptions={"projection": {"rrf_growth": 0.0}})
    ref = run(scenario)
    result = sensitivity(scenario, draws=3, seed=0, **{**CENTRAL, "rrf_growth": (0.0, 0.0, 0.0)})
    epci = ref.summary["scissor_years"]["epci"]
    communes = ref.summary["scissor_years"]["communes"]
    assert epci["teb_alert"]["pooled"] is not None

    def years(col):
        return [None if pd.isna(v) else int(v) for v in result.draws[col]]

    for ind in epci:
        for case in ("pooled", "standalone"):
            assert years(f"scissor_{ind}_{case}") == [epci[ind][case]] * 3, (ind, case)
            first = communes[ind][f"first_year_{case}"]
            assert years(f"first_commune_{ind}_{case}") == [first] * 3, (ind, case)
    assert result.draws["max_burden_end"].iloc[0] == pytest.approx(
        ref.summary["years"][-1]["max_burden"], rel=1e-9)
    shares = result.shares.set_index(["year", "commune"])
    for year in ref.projection.years:
        amounts = ref.projection.amounts(ref.resolved.scenario.method, year).sum(axis=1)
        expected = amounts / amounts.sum()
        got = shares.loc[year]["q50"].reindex(expected.index)
        np.testing.assert_allclose(got, expected, atol=1e-6)
        np.testing.assert_allclose(shares.loc[year]["central"].reindex(expected.index), expected,
                                   atol=1e-6)


def test_same_seed_same_result_and_ordered_quantiles():
    scenario = Scenario(epci=BEAUCE)
    a = sensitivity(scenario, draws=150, seed=7)
    b = sensitivity(scenario, draws=150, seed=7)
    c = sensitivity(scenario, draws=150, seed=8)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    pd.testing.assert_frame_equal(a.shares, b.shares)
    assert not a.draws["licence_growth"].equals(c.draws["licence_growth"])
    q = a.shares[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert (np.diff(q, axis=1) >= -1e-15).all()
    assert (q[:, 0] < q[:, -1]).any()  # the draws do move the shares
    assert a.shares.groupby("year")["mean"].sum().to_numpy() == pytest.approx(1.0)
    lic = a.draws["licence_growth"]
    assert lic.between(0.014, 0.08).all() and a.draws["saas_jump"].any()
    assert not a.draws["saas_jump"].all()
    dist = a.scissor.groupby(["indicator", "level", "case"])["share"].sum()
    assert dist.to_numpy() == pytest.approx(1.0)


def test_lp_fallback_gives_the_same_answer(monkeypatch):
    scenario = Scenario(epci=BEAUCE)
    fast = sensitivity(scenario, draws=4, seed=3)
    monkeypatch.setattr(sens, "fast_leximin", lambda arr: None)
    slow = sensitivity(scenario, draws=4, seed=3)
    assert fast.lp_fallbacks == 0 and slow.lp_fallbacks > 0
    pd.testing.assert_frame_equal(fast.draws, slow.draws, check_exact=False, rtol=1e-8)
    pd.testing.assert_frame_equal(fast.shares, slow.shares, check_exact=False, atol=1e-9)


def test_key_method_shares_follow_the_pool_mix():
    scenario = Scenario(epci=BEAUCE, method="population")
    result = sensitivity(scenario, draws=50, seed=0, **CENTRAL)
    ref = run(scenario)
    year = 2032
    amounts = ref.projection.amounts("population", year).sum(axis=1)
    got = result.shares[result.shares["year"] == year].set_index("commune")["q50"]
    np.testing.assert_allclose(got.reindex(amounts.index), amounts / amounts.sum(), atol=1e-6)


def test_bad_distribution_is_reported():
    with pytest.raises(InputError, match="triangulaire"):
        sensitivity(Scenario(epci=BEAUCE), draws=2, licence_growth=(0.05, 0.01, 0.08))


def test_cli_sensitivity(tmp_path, capsys):
    out = tmp_path / "sens"
    scen = tmp_path / "s.yaml"
    scen.write_text(f"epci: '{BEAUCE}'\n", encoding="utf-8")
    assert main(["sensitivity", str(scen), "--draws", "40", "--seed", "0", "--out", str(out)]) == 0
    assert "40 tirages (graine 0)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        ".mutualisation-out", "crossing.csv", "draws.csv", "epargne_brute.csv", "scissor.csv",
        "sensitivity.json", "shares.csv"]
    assert json.loads((out / "sensitivity.json").read_text("utf-8"))["seed"] == 0
    assert len(pd.read_csv(out / "draws.csv")) == 40
