"""The scissor in euros: exact attribution of the change of savings, blades, named communes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from model.run import run
from model.scenario import Scenario
from model.scissor import add_scissor_columns, attribution

ROOT = Path(__file__).resolve().parents[1]


def frame(rows):
    df = pd.DataFrame(rows, columns=["year", "commune", "name", "rrf_eur", "other_drf_eur",
                                     "digital_pooled_eur", "digital_standalone_eur"])
    for case in ("pooled", "standalone"):
        eb = df["rrf_eur"] - df["other_drf_eur"] - df[f"digital_{case}_eur"]
        df[f"epargne_brute_{case}_eur"] = eb
        df[f"teb_{case}"] = eb / df["rrf_eur"]
    return df


def test_hand_computed_attribution():
    # R 1000 -> 1100, other spending 800 -> 900, digital 50 -> 80: EB 150 -> 120
    df = add_scissor_columns(frame([
        (2026, "A", "A", 1000.0, 800.0, 50.0, 70.0),
        (2027, "A", "A", 1100.0, 900.0, 80.0, 100.0),
    ]))
    att = attribution(df).loc["A"]
    assert att["eb_change_eur"] == pytest.approx(-30.0)
    assert (att["eb_from_resources_eur"], att["eb_from_other_eur"], att["eb_from_digital_eur"]) \
        == pytest.approx((100.0, -100.0, -30.0))
    assert att["teb_from_digital"] == pytest.approx(-30 / 1100)
    assert att["teb_from_other"] == pytest.approx(-100 / 1100)
    assert att["teb_from_resources"] == pytest.approx(850 * (1 / 1000 - 1 / 1100))
    assert att["teb_change"] == pytest.approx(120 / 1100 - 0.15)
    assert att["digital_absorbs_eb"] == pytest.approx(30 / 150)
    # the gap: digital 80 against 50 grown like resources (55)
    assert df.loc[1, "digital_gap_pooled_eur"] == pytest.approx(25.0)
    assert df.loc[1, "digital_gap_cum_pooled_eur"] == pytest.approx(25.0)


def test_negative_savings_are_flagged():
    df = add_scissor_columns(frame([
        (2026, "B", "B", 1000.0, 980.0, 10.0, 10.0),
        (2027, "B", "B", 1010.0, 1010.0, 12.0, 12.0),
    ]))
    assert list(df["eb_negative_pooled"]) == [False, True]


@pytest.fixture(scope="module")
def stressed():
    """Beauce with other spending growing fast: épargne brute turns negative in the mandate."""
    return run(Scenario(epci="200035764",
                        assumptions={"projection": {"other_drf_growth": 0.06}}))


def test_attribution_sums_to_the_cent_on_a_real_run(stressed):
    p = stressed.projection.projection
    for case in ("pooled", "standalone"):
        terms = (p["eb_from_resources_eur"] + p["eb_from_other_eur"]
                 + p[f"eb_from_digital_{case}_eur"])
        first = p.groupby("commune")[f"epargne_brute_{case}_eur"].transform(
            lambda s: s.iloc[0])
        assert ((p[f"epargne_brute_{case}_eur"] - first) - terms).abs().max() < 0.005
        teb0 = p.groupby("commune")[f"teb_{case}"].transform(lambda s: s.iloc[0])
        assert ((p[f"teb_{case}"] - teb0) - p[f"teb_change_{case}"]).abs().max() < 1e-12


def test_summary_names_communes_with_negative_savings(stressed):
    s = stressed.summary["scissor"]
    named = s["communes_by_indicator"]["eb_negative"]
    assert named and all(c["name"] and c["year_pooled"] for c in named)
    assert all(c["estimated"] for c in named)  # bundled finances are estimates, said so
    assert s["communes_with_estimated_finances"] == 23
    assert "épargne brute annuelle" in s["headline_fr"] and "€" in s["headline_fr"]
    assert "estimées" in s["headline_fr"]
    epci = s["attribution"]["EPCI"]
    assert epci["eb_change_eur"] == pytest.approx(
        epci["eb_from_resources_eur"] + epci["eb_from_other_eur"] + epci["eb_from_digital_eur"],
        abs=0.02)


def test_cli_names_them_and_projection_csv_carries_the_terms(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text('epci: "200035764"\nassumptions: {projection: {other_drf_growth: 0.06}}\n',
                        encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "model", "run", str(scenario), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "Épargne brute négative" in out.stdout and "estimé" in out.stdout
    proj = pd.read_csv(tmp_path / "out" / "projection.csv")
    for col in ("digital_gap_pooled_eur", "digital_gap_cum_pooled_eur", "eb_from_digital_pooled_eur",
                "eb_from_other_eur", "eb_from_resources_eur", "teb_from_digital_pooled",
                "eb_negative_pooled", "finances_estimated"):
        assert col in proj.columns, col
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["scissor"]["communes_by_indicator"]["eb_negative"]


def test_user_accounts_are_aged_to_the_start_year():
    from model.data.bundled import load_epci

    epci = load_epci("200035764")
    code = epci.communes.index[0]
    user = pd.DataFrame({"rrf_eur": [1_000_000.0], "drf_eur": [900_000.0]},
                        index=pd.Index([code], name="commune"))
    resolved = Scenario(epci="200035764").resolve(user)
    row = resolved.communes.values.loc[code]
    v = resolved.values
    gap = v["projection"]["start_year"] - v["finance"]["accounts_year"]
    assert gap == 2
    assert row["rrf_eur"] == pytest.approx(1_000_000 * (1 + v["projection"]["rrf_growth"]) ** 2)
    assert row["drf_eur"] == pytest.approx(900_000 * (1 + v["projection"]["other_drf_growth"]) ** 2)
    same = Scenario(epci="200035764", assumptions={"finance": {"accounts_year": 2026}}).resolve(user)
    assert same.communes.values.loc[code, "rrf_eur"] == pytest.approx(1_000_000)


def test_headline_words_follow_the_signs():
    from model.scissor import headline_fr

    row = pd.Series({"eb_from_digital_eur": -1000.0, "eb_from_other_eur": 500.0,
                     "eb_from_resources_eur": -2000.0, "eb_start_eur": 10_000.0,
                     "eb_end_eur": 7500.0})
    text = headline_fr(row, 2026, 2032, "CC Test")
    assert "les ressources, en baisse, la réduisent de 2\u202f000\u00a0€" in text
    assert "les autres dépenses, en baisse, l'augmentent de 500\u00a0€" in text


def test_template_never_overwrites_a_file(tmp_path):
    from model.cli import main

    target = tmp_path / "mes_communes.xlsx"
    target.write_bytes(b"mes chiffres")
    assert main(["template", "agglopolys", "--out", str(target)]) == 2
    assert target.read_bytes() == b"mes chiffres"
