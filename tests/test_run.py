"""Runs on real EPCIs: outputs contract, balance, determinism, all-or-nothing, settlement."""

import json
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main
from model.errors import InputError
from model.projection import EPCI_ID
from model.report.export import ALLOCATION_COLUMNS, INPUT_COLUMNS, write_outputs
from model.run import run
from model.scenario import METHODS, Scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"


@pytest.fixture(scope="module")
def beauce_run():
    return run(Scenario.from_yaml(SCENARIOS / "beauce_loiretaine.yaml"))


@pytest.fixture(scope="module")
def beauce_out(beauce_run, tmp_path_factory):
    return write_outputs(beauce_run, tmp_path_factory.mktemp("run") / "beauce")


def test_outputs_follow_the_contract(beauce_out):
    assert sorted(p.name for p in beauce_out.iterdir()) == [
        ".mutualisation-out", "allocation.csv", "annexe_financiere.docx", "inputs.csv",
        "projection.csv", "report.xlsx", "summary.json"]
    inputs = pd.read_csv(beauce_out / "inputs.csv", dtype={"payer_id": str})
    assert list(inputs.columns) == INPUT_COLUMNS
    alloc = pd.read_csv(beauce_out / "allocation.csv", dtype={"payer_id": str})
    assert list(alloc.columns) == ALLOCATION_COLUMNS
    assert set(alloc["method"]) == set(METHODS)
    assert set(alloc["year"]) == set(range(2026, 2033))
    assert alloc["payer_id"].str.fullmatch(r"\d{5}|2[AB]\d{3}|EPCI").all()
    summary = json.loads((beauce_out / "summary.json").read_text(encoding="utf-8"))
    assert [y["year"] for y in summary["years"]] == list(range(2026, 2033))
    for y in summary["years"]:
        assert set(y) >= {"pooled_cost_eur", "standalone_cost_eur", "epci_share_eur",
                          "max_burden", "solver_status", "solve_seconds"}
        assert 0 < y["max_burden"] < 1
    assert summary["epci"]["siren"] == "200035764"
    assert summary["scenario"]["epci"] == "200035764"
    assert "Licence Ouverte" in summary["data_vintage"]


def test_every_method_balances_to_the_cent(beauce_out, beauce_run):
    alloc = pd.read_csv(beauce_out / "allocation.csv", dtype={"payer_id": str})
    cents = (alloc["amount_eur"] * 100).round().astype("int64")
    paid = cents.groupby([alloc["year"], alloc["method"], alloc["pool"]]).sum()
    inputs = beauce_run.projection.inputs
    for year in beauce_run.projection.years:
        pooled = beauce_run.projection.lp[year].amounts.sum()
        for method in METHODS:
            for pool in pooled.index:
                expected = round(
                    beauce_run.summary["years"][year - 2026]["pooled_cost_eur"][pool] * 100)
                assert paid[(year, method, pool)] == expected, (year, method, pool)
    assert len(inputs) > 0


def test_no_commune_pays_more_than_alone_under_lp(beauce_run):
    proj = beauce_run.projection
    for year in proj.years:
        paid = proj.amounts("lp", year).sum(axis=1)
        inp = proj.inputs[(proj.inputs["year"] == year) & (proj.inputs["payer_id"] != EPCI_ID)]
        alone = inp.groupby("payer_id")["standalone_eur"].sum()
        assert (paid <= alone.reindex(paid.index) + 0.01).all()


def test_projection_has_epci_total_and_indicators(beauce_run):
    proj = beauce_run.projection.projection
    total = proj[proj["commune"] == EPCI_ID].set_index("year")
    communes = proj[proj["commune"] != EPCI_ID]
    assert len(total) == 7
    assert total["rrf_eur"].to_numpy() == pytest.approx(
        communes.groupby("year")["rrf_eur"].sum().to_numpy())
    assert (total["saving_eur"] > 0).all()
    # licences grow faster than resources: the digital burden rises over the mandate
    assert total["digital_burden_pooled"].is_monotonic_increasing
    assert (proj["teb_pooled"] >= proj["teb_standalone"] - 1e-9).all()


def test_same_scenario_same_bytes(tmp_path):
    scenario = Scenario.from_yaml(SCENARIOS / "beauce_loiretaine.yaml")
    a = write_outputs(run(scenario), tmp_path / "a")
    b = write_outputs(run(scenario), tmp_path / "b")
    for name in ("inputs.csv", "allocation.csv", "projection.csv", "report.xlsx"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    for y in sa["years"] + sb["years"]:
        y.pop("solve_seconds")
    assert sa == sb


def test_failed_run_writes_nothing(tmp_path, beauce_run, monkeypatch):
    import model.report.export as export

    def boom(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(export, "write_report", boom)
    with pytest.raises(RuntimeError):
        write_outputs(beauce_run, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_failed_run_keeps_previous_outputs(tmp_path, beauce_run, monkeypatch):
    import model.report.export as export

    out = write_outputs(beauce_run, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(export, "write_report", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_outputs(beauce_run, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_formulas_are_escaped(tmp_path):
    from openpyxl import load_workbook

    evil = '=HYPERLINK("http://x")'
    from model.data.bundled import load_epci

    codes = load_epci("200035764").communes.index[:4]
    user = pd.DataFrame({"name": [evil, "+33 commune", "-x", "@sum"]},
                        index=pd.Index(codes, name="commune"))
    result = run(Scenario.from_yaml(SCENARIOS / "beauce_loiretaine.yaml"), user_table=user)
    out = write_outputs(result, tmp_path / "esc")
    for name in ("allocation.csv", "inputs.csv", "projection.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert "'=HYPERLINK" in text and "'+33 commune" in text and "'@sum" in text, name
        assert ",=HYPERLINK" not in text and ",+33" not in text, name
    wb = load_workbook(out / "report.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    values = [c.value for row in wb["Entrées"].iter_rows() for c in row]
    assert "'" + evil in values


def test_ac_settlement_fixes_start_amount_and_balances(tmp_path):
    scenario = Scenario.from_yaml(SCENARIOS / "beauce_loiretaine.yaml")
    scenario.settlement = "ac"
    proj = run(scenario).projection.projection
    communes = proj[proj["commune"] != EPCI_ID]
    start = communes[communes["year"] == 2026].set_index("commune")["digital_pooled_eur"]
    later = communes[communes["year"] == 2030].set_index("commune")
    assert later["ac_deduction_eur"].to_numpy() == pytest.approx(start.reindex(later.index))
    assert (later["ac_deduction_eur"] + later["balancing_eur"]).to_numpy() == pytest.approx(
        later["digital_pooled_eur"].to_numpy())
    assert (communes["invoice_eur"] == 0).all()


def test_ac_refused_outside_fpu():
    from model.data.bundled import epci_catalog

    fa = epci_catalog().query("mode_financement == 'FA'").index[0]
    with pytest.raises(InputError, match="fiscalité professionnelle unique"):
        run(Scenario(epci=fa, settlement="ac"))


def test_epci_share_is_paid_by_the_epci():
    scenario = Scenario(epci="200035764", assumptions={"allocation": {"epci_share": {"dsi": 0.25}}})
    result = run(scenario)
    alloc = result.projection.allocation
    epci = alloc[(alloc["payer_id"] == EPCI_ID) & (alloc["method"] == "lp")]
    assert set(epci["pool"]) == {"dsi"}
    y = result.summary["years"][0]
    assert epci[epci["year"] == 2026]["amount_eur"].iloc[0] == pytest.approx(
        0.25 * y["pooled_cost_eur"]["dsi"], abs=0.01)


def test_bad_scenario_key_is_reported(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epci: '200035764'\nmethode: lp\n", encoding="utf-8")
    with pytest.raises(InputError, match="clé\\(s\\) inconnue\\(s\\) : methode"):
        Scenario.from_yaml(bad)


def test_cli_run_and_error_exit(tmp_path, capsys):
    assert main(["run", str(SCENARIOS / "beauce_loiretaine.yaml"), "--out",
                 str(tmp_path / "cli")]) == 0
    assert "Beauce" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("epci: 'Nulle part'\n", encoding="utf-8")
    assert main(["run", str(bad), "--out", str(tmp_path / "none")]) == 2
    assert "EPCI inconnu" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_cli_epci_show_and_list(capsys):
    assert main(["epci", "show", "agglopolys"]) == 0
    out = capsys.readouterr().out
    assert "43 communes" in out and "106 574 habitants" in out and "Blois" in out
    assert main(["epci", "list", "beauce", "-d", "45"]) == 0
    assert "Beauce Loirétaine" in capsys.readouterr().out


def test_user_figures_override_and_are_not_estimated(tmp_path):
    from model.data.bundled import load_epci

    codes = load_epci("200035764").communes.index
    csv = tmp_path / "communes.csv"
    csv.write_text(
        "Code INSEE;Commune;Population;Agents (ETP);Potentiel financier (€)\n"
        f"{codes[0]};X;2 700;55;2 900 000,50\n", encoding="cp1252")
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(f"epci: '200035764'\ndata_file: {csv.name}\n", encoding="utf-8")
    result = run(Scenario.from_yaml(scenario_file))
    communes = result.resolved.communes
    assert communes.values.loc[codes[0], "agents"] == 55
    assert communes.values.loc[codes[0], "potentiel_financier_eur"] == 2_900_000.5
    assert communes.values.loc[codes[0], "population"] == 2700
    assert not communes.estimated.loc[codes[0], "agents"]
    assert communes.estimated.loc[codes[1], "agents"]
    inputs = result.projection.inputs
    row = inputs[(inputs["payer_id"] == codes[0]) & (inputs["year"] == 2026)].iloc[0]
    assert row["capacity_eur"] == 2_900_000.5


def test_bad_user_file_exits_non_zero_and_writes_nothing(tmp_path, capsys):
    csv = tmp_path / "communes.csv"
    csv.write_text("Code INSEE;Population\n45093;-12\n99999;100\n", encoding="utf-8")
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(f"epci: '200035764'\ndata_file: {csv.name}\n", encoding="utf-8")
    assert main(["run", str(scenario_file), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "communes.csv" in err and "ligne 2" in err and "Population" in err
    assert "ligne 3" in err and "99999" in err
    assert not (tmp_path / "out").exists()


def test_cli_template_round_trip(tmp_path, capsys):
    from model.data.userfile import read_user_table

    path = tmp_path / "modele.xlsx"
    assert main(["template", "beauce loiretaine", "--out", str(path)]) == 0
    table = read_user_table(path)
    assert len(table) == 23 and table["population"].sum() == 16991


def test_uninhabited_communes_are_left_out_and_reported():
    """CA du Grand Verdun has six « villages morts pour la France » with no inhabitant."""
    result = run(Scenario(epci="200049187"))
    excluded = result.summary["excluded_communes"]
    assert len(excluded) == 6
    assert {e["commune"] for e in excluded} >= {"55039", "55050"}
    assert "sans habitant" in excluded[0]["reason"]
    assert result.projection.lp[2026].status == "optimal"
    assert "55039" not in set(result.projection.allocation["payer_id"])


def test_weighted_key_follows_the_assumptions(beauce_run):
    proj = beauce_run.projection
    amounts = proj.amounts("weighted", 2026)
    communes = beauce_run.resolved.communes.values
    pop_share = communes["population"] / communes["population"].sum()
    inputs = proj.inputs[proj.inputs["year"] == 2026].set_index(["payer_id", "pool"])
    for pool in amounts.columns:
        usage = inputs.xs(pool, level="pool")["usage_share"]
        expected = (0.3 * pop_share + 0.7 * usage.reindex(pop_share.index)) * amounts[pool].sum()
        assert (amounts[pool] - expected.reindex(amounts.index)).abs().max() <= 0.01, pool


def test_run_csv_fr_writes_what_french_excel_reads_and_the_same_numbers(tmp_path):
    scenario = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "beauce_loiretaine.yaml"
    machine, french = tmp_path / "machine", tmp_path / "fr"
    assert main(["run", str(scenario), "--out", str(machine)]) == 0
    assert main(["run", str(scenario), "--out", str(french), "--csv-fr"]) == 0
    for name in ("inputs.csv", "allocation.csv", "projection.csv"):
        raw = (french / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.splitlines()[0]
        assert (machine / name).read_bytes()[:1] != b"\xef"  # the contract's dialect by default
        ours = pd.read_csv(french / name, sep=";", decimal=",", encoding="utf-8-sig",
                           dtype={"payer_id": str, "commune": str})
        theirs = pd.read_csv(machine / name, dtype={"payer_id": str, "commune": str})
        pd.testing.assert_frame_equal(ours, theirs)
