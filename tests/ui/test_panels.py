"""Drive the panels as a user would (set values, click) and check what the screen shows."""

import dataclasses
import datetime
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from model.run import run
from model.ui.analysis import run_batch
from model.ui.panels import ScissorPanel, SimulatorPanel
from model.ui.plenary import PlenaryPanel
from model.ui.views import lp_key

ROOT = Path(__file__).resolve().parents[2]

AGGLOPOLYS_TEMPLATE = ROOT / "data" / "templates" / "modele_communes_agglopolys.xlsx"


@pytest.fixture
def panel(sim, beauce_scenario):
    return SimulatorPanel(beauce_scenario, simulation=sim, offline=False)


def spec_data(live) -> list:
    return list(live.spec.get("datasets", {}).values())


# --- the cache and the derived views ---------------------------------------------------------

def test_method_and_thresholds_rederive_exactly_what_run_gives(sim, beauce_scenario):
    scenario = dataclasses.replace(beauce_scenario, method="equal", assumptions={
        "projection": {"teb_alert": 0.14, "digital_burden_threshold": 0.015}})
    view = sim.view(scenario)
    assert lp_key(scenario, None) == lp_key(beauce_scenario, None)
    expected = run(scenario)
    pd.testing.assert_frame_equal(view.projection.projection, expected.projection.projection)
    pd.testing.assert_frame_equal(view.scissor, expected.scissor)
    got, want = view.summary, expected.summary
    for summary in (got, want):
        for year in summary["years"]:
            year.pop("solve_seconds")
    assert json.dumps(got, sort_keys=True, default=str) == json.dumps(want, sort_keys=True,
                                                                      default=str)


# --- Simulateur ----------------------------------------------------------------------------------

def test_simulator_starts_with_a_table_and_draws_charts_when_shown(panel):
    assert "Beauce" in panel.message and "calcul à jour" in panel.message
    assert "Chevilly" in panel.table.value and "Pourquoi ce montant" in panel.table.value
    assert panel.tabs.selected_index == 0
    assert all(live.redraws == 0 and live.pending for live in panel.charts.values())
    panel.tabs.selected_index = 1
    for name in ("blades", "waterfall", "gap", "scissor", "burden"):
        assert panel.charts[name].redraws == 1, name
    assert panel.charts["allocation"].redraws == 0
    assert panel.charts["blades"].spec["title"]["text"].startswith("L'effet ciseau en euros")
    assert "effet ciseau" in panel.charts["scissor"].spec["title"]["text"].lower()


def text_of(widget) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", " ", widget.value))


def html_rows(value: str) -> list[list[str]]:
    """The cells' text of each row of an HTML table."""
    import html
    import re

    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", value, re.S)]


INVITATION = ("Finances estimées à partir de moyennes nationales pour 23 communes : déposez vos "
              "comptes (modèle Excel) avant de lire les années commune par commune.")


def test_simulator_scissor_tab_tells_the_headline_in_euros_and_invites_accounts(panel):
    panel.tabs.selected_index = 1
    headline = text_of(panel.headline).strip()
    assert headline.startswith("De 2026 à 2032, la hausse du coût numérique réduit l'épargne "
                               "brute annuelle de CC de la Beauce Loirétaine de ")
    assert "€" in headline
    assert text_of(panel.estimated_note).strip() == INVITATION
    bars = spec_data(panel.charts["waterfall"])
    assert any(rows and rows[0].get("kind") == "start" for rows in bars)
    assert "(estimé)" in panel.charts["blades"].spec["title"]["text"]


def test_commune_selector_redraws_the_euro_charts_of_that_commune_only(panel, sim):
    panel.tabs.selected_index = 1
    options = dict((v, k) for k, v in panel.commune.options)
    assert list(options)[0] == "EPCI" and options["45008"] == "Artenay (estimé)"
    runs = sim.lp_runs
    redraws = {k: c.redraws for k, c in panel.charts.items()}
    panel.commune.value = "45008"
    assert sim.lp_runs == runs
    assert "de Artenay (estimé) de " in text_of(panel.headline)
    for name in ("blades", "waterfall", "gap", "scissor"):
        assert panel.charts[name].redraws == redraws[name] + 1, name
        assert "Artenay" in json.dumps(panel.charts[name].spec["title"], ensure_ascii=False)
    assert panel.charts["burden"].redraws == redraws["burden"]
    assert panel.timings["commune"] < 2.0
    panel.method.value = "equal"  # the selection survives a recomputation
    assert panel.commune.value == "45008"
    assert "de Artenay (estimé) de " in text_of(panel.headline)
    panel.commune.value = "EPCI"
    panel.method.value = "voted_key"


def test_draws_run_on_the_button_only_and_are_dropped_when_settings_change(panel, sim):
    panel.tabs.selected_index = 1
    panel.teb_alert.value = 0.11
    assert panel.sensitivity is None  # never on a slider move
    panel.proba_button.click()
    assert panel.sensitivity is not None and len(panel.sensitivity.draws) == 200
    msg = text_of(panel.proba_message)
    assert "200 tirages" in msg and "seuil d'alerte d'ici 2032" in msg
    data = [rows for rows in spec_data(panel.proba_chart) if rows and "probability" in rows[0]]
    assert data and {r["case"] for r in data[0]} == {"pooled", "standalone"}
    spec = json.dumps(panel.proba_chart.spec, ensure_ascii=False)
    assert "l'ensemble du territoire" in spec
    panel.proba_level.value = "commune"
    assert "au moins une commune" in json.dumps(panel.proba_chart.spec, ensure_ascii=False)
    # the fan chart of the territory's épargne brute, in euros, quantiles ordered
    fan = [rows for rows in spec_data(panel.fan_chart) if rows and "q50" in rows[0]][0]
    assert all(r["q05"] <= r["q25"] <= r["q50"] <= r["q75"] <= r["q95"] for r in fan)
    assert "éventail" in json.dumps(panel.fan_chart.spec, ensure_ascii=False)
    # one commune's own probability, once it is chosen
    code, name = [(v, k) for k, v in panel.commune.options if v != "EPCI"][0]
    panel.commune.value = code
    rows = [r for r in spec_data(panel.commune_proba_chart) if r and "probability" in r[0]][0]
    assert {r["commune"] for r in rows} == {code}
    assert all(0 <= r["probability"] <= 1 for r in rows)
    probs = [r["probability"] for r in sorted(rows, key=lambda r: r["year"])]
    assert probs == sorted(probs)  # crossed by a year stays crossed
    panel.commune.value = "EPCI"
    panel.teb_alert.value = 0.12
    assert panel.sensitivity is None and "relancez" in json.dumps(panel.proba_chart.spec,
                                                                  ensure_ascii=False)
    panel.teb_alert.value = 0.10


def test_method_change_redraws_without_solving_again(panel, sim):
    panel.tabs.selected_index = 1
    runs, table = sim.lp_runs, panel.table.value
    scissor_before = spec_data(panel.charts["scissor"])
    # estimated drivers are proportional to population, so the usage key (the default's
    # reference, kept as is here) equals the population key: switch to equal shares
    panel.method.value = "equal"
    assert sim.lp_runs == runs
    assert panel.table.value != table
    assert "Pourquoi ce montant" not in panel.table.value
    assert "Parts égales" in panel.message
    assert spec_data(panel.charts["scissor"]) != scissor_before
    assert panel.charts["methods"].redraws == 0  # hidden tab: drawn when shown
    panel.tabs.selected_index = 3
    assert panel.charts["methods"].redraws == 1
    chosen = [d for d in spec_data(panel.charts["methods"]) if d and "chosen" in d[0]][0]
    assert {r["method"] for r in chosen if r["chosen"]} == {"equal"}


def test_threshold_redraws_only_the_scissor_charts(panel, sim):
    panel.tabs.selected_index = 1
    panel.tabs.selected_index = 2
    panel.tabs.selected_index = 1
    runs, table = sim.lp_runs, panel.table.value
    redraws = {k: c.redraws for k, c in panel.charts.items()}
    panel.teb_alert.value = 0.16
    assert sim.lp_runs == runs
    assert panel.table.value == table
    assert panel.charts["burden"].redraws == redraws["burden"] + 1
    assert panel.charts["scissor"].redraws == redraws["scissor"] + 1
    for name in ("blades", "waterfall", "gap"):  # amounts in euros do not move with a threshold
        assert panel.charts[name].redraws == redraws[name]
    panel.tabs.selected_index = 2
    assert panel.charts["allocation"].redraws == redraws["allocation"]
    rules = [d for d in spec_data(panel.charts["burden"]) if d and "kind" in d[0]][0]
    assert 0.16 in [r["value"] for r in rules]
    assert panel.teb_alert.readout.value == "16,0\u202f%"


def test_year_change_updates_table_and_allocation_only(panel):
    panel.tabs.selected_index = 1
    panel.tabs.selected_index = 2
    redraws = {k: c.redraws for k, c in panel.charts.items()}
    table = panel.table.value
    panel.year.value = panel.year.options[-1]
    assert panel.table.value != table
    assert panel.charts["allocation"].redraws == redraws["allocation"] + 1
    assert panel.charts["scissor"].redraws == redraws["scissor"]
    assert panel.charts["scissor"].pending is None


def test_growth_slider_solves_again_and_changes_the_scissor(panel, sim):
    panel.tabs.selected_index = 1
    runs = sim.lp_runs
    before = spec_data(panel.charts["scissor"])
    panel.licences_growth.value = 0.12
    assert sim.lp_runs == runs + 1
    assert spec_data(panel.charts["scissor"]) != before
    assert panel.current_scenario().assumptions["licences"]["growth"] == 0.12


def test_infeasible_band_gives_a_french_diagnosis(panel):
    panel.method.value = "lp"  # the usage band is a rule of the péréquation LP
    panel.band.value = (0.0, 0.5)
    msg = panel.message
    assert "ne peuvent pas toutes être respectées" in msg
    assert "bande d'usage" in msg
    assert "Traceback" not in panel.status.value
    panel.band.value = (0.5, 2.0)
    assert "calcul à jour" in panel.message
    panel.method.value = "voted_key"


def test_burden_cap_below_the_optimum_is_diagnosed(panel):
    t_star = panel.view.projection.lp[2026].max_burden
    panel.burden_cap.value = round(0.5 * t_star, 3)
    assert panel.current_scenario().assumptions["allocation"]["burden_cap"] > 0
    msg = panel.message
    # the default method names the voted parameter first, with the smallest feasible value
    assert "règles votées ne peuvent pas toutes être tenues" in msg
    assert "Le plafond de charge de" in msg and "la plus petite valeur réalisable est" in msg
    assert "Traceback" not in panel.status.value
    panel.burden_cap.value = 0.0
    assert panel.current_scenario().assumptions.get("allocation", {}).get("burden_cap") is None
    assert "calcul à jour" in panel.message


def test_no_pool_ticked_asks_for_one(panel):
    for cb in panel.pools.values():
        cb.value = False
    assert panel.message == "Cochez au moins un service à mutualiser."
    panel.pools["dsi"].value = True
    assert "calcul à jour" in panel.message
    assert "DSI mutualisée" in panel.table.value
    assert "Licences logicielles" not in panel.table.value


@pytest.mark.parametrize("name, content, expected", [
    ("communes.csv", b"foo;bar\n1;2\n", "code INSEE introuvable"),
    ("communes.xls", b"\xd0\xcf\x11\xe0", "Excel 97-2003"),
    ("communes.pdf", b"%PDF-1.4", "extension"),
    ("communes.xlsx", b"not a zip", "fichier"),
])
def test_bad_upload_gives_a_french_message_and_keeps_the_results(panel, name, content, expected):
    table = panel.table.value
    assert not panel.load_user_file(name, content)
    assert "Fichier refusé" in panel.message or "illisible" in panel.message
    assert expected in panel.message
    assert "Traceback" not in panel.status.value
    assert panel.table.value == table
    assert panel.user_table is None


def test_upload_through_the_widget_value(panel):
    panel.upload.value = ({"name": "x.csv", "type": "text/csv", "size": 12,
                           "content": memoryview(b"foo;bar\n1;2\n"),
                           "last_modified": datetime.datetime(2026, 1, 1)},)
    assert "Fichier refusé" in panel.message


def own_figures(path, workstations: float) -> bytes:
    """The pre-filled template with the first commune's workstations changed."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Communes"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Postes de travail") + 1, value=workstations)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_search_then_upload_own_figures(panel, sim):
    panel.search.value = "200030385"
    assert panel.epci.value == "200030385"
    assert "Agglopolys" in panel.message
    table = panel.table.value
    assert panel.load_user_file("mes_chiffres.xlsx", own_figures(AGGLOPOLYS_TEMPLATE, 900))
    assert "calcul à jour" in panel.message
    assert "mes_chiffres.xlsx" in panel.data_label.value
    assert panel.user_table is not None
    assert panel.table.value != table
    panel._on_clear_upload()
    assert panel.user_table is None and panel.table.value == table


def test_own_accounts_shrink_the_estimated_invitation(panel):
    panel.search.value = "200030385"
    assert "pour 43 communes" in text_of(panel.estimated_note)
    wb = openpyxl.load_workbook(AGGLOPOLYS_TEMPLATE)
    ws = wb["Communes"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Recettes réelles de fonctionnement (€)") + 1,
            value=900_000)
    ws.cell(row=2, column=header.index("Dépenses réelles de fonctionnement (€)") + 1,
            value=780_000)
    code, name = ws.cell(row=2, column=1).value, ws.cell(row=2, column=2).value
    buf = io.BytesIO()
    wb.save(buf)
    assert panel.load_user_file("comptes.xlsx", buf.getvalue())
    assert "pour 42 communes" in text_of(panel.estimated_note)
    assert dict((v, k) for k, v in panel.commune.options)[code] == name  # no « (estimé) »


def test_upload_for_another_epci_is_refused_in_french(panel):
    assert not panel.load_user_file("agglopolys.xlsx", AGGLOPOLYS_TEMPLATE.read_bytes())
    assert "Fichier refusé" in panel.message
    assert "Traceback" not in panel.status.value


def test_unknown_epci_search_says_so(panel):
    panel.search.value = "zzzz introuvable"
    assert "Aucun EPCI ne correspond" in panel.message
    assert panel.epci.value == "200035764"


def test_report_button_downloads_the_scenario_on_screen(panel):
    panel.method.value = "equal"
    panel.report_button.click()
    assert panel.report_bytes[:2] == b"PK"
    assert "base64," in panel.report_link.value and ".xlsx" in panel.report_link.value
    wb = openpyxl.load_workbook(io.BytesIO(panel.report_bytes), read_only=True)
    assert "Synthèse" in wb.sheetnames
    rows = list(wb["Projection"].iter_rows(values_only=True))
    header = rows[0]
    proj = panel.view.projection.projection
    col = header.index("Coût numérique mutualisé (€)")
    assert rows[1][col] == pytest.approx(proj["digital_pooled_eur"].iloc[0])
    panel.method.value = "lp"
    assert panel.report_link.value == "" and panel.report_bytes is None


def test_offline_charts_fetch_nothing_from_the_internet(sim, beauce_scenario):
    from model.ui.vega import runtime, runtime_cache_path

    panel = SimulatorPanel(beauce_scenario, simulation=sim, offline=True)
    bundle = runtime()._esm
    assert runtime() in panel.widget.children  # one runtime, carried by the page once
    assert "esm.sh" not in bundle and 'from "https://' not in bundle
    assert len(bundle) > 100_000  # vega-embed, vega and vega-lite bundled by vl-convert
    assert runtime_cache_path().read_text(encoding="utf-8") == bundle  # built once, cached
    for live in panel.charts.values():  # each chart is small and imports nothing
        esm = live.widget._esm
        assert len(esm) < 10_000 and "import " not in esm and "http" not in esm


def test_a_chart_swaps_spec_title_and_text_alternative_together(sim, beauce_scenario):
    panel = SimulatorPanel(beauce_scenario, simulation=sim, offline=False)
    panel.tabs.selected_index = 1  # the Effet ciseau tab, where the blades are drawn
    widget = panel.charts["blades"].widget
    messages = []
    widget.comm.send = lambda data=None, *a, **k: messages.append(data)  # what the page gets
    before = widget.revision
    panel.method.value = "population" if panel.method.value != "population" else "lp"
    panel.commune.value = panel.commune.options[2][1]
    updates = [m["state"] for m in messages if m and m.get("method") == "update"]
    assert widget.revision > before and updates
    for state in updates:  # a spec, title or text alternative arrives only with its revision,
        assert "revision" in state  # in one message: the page draws them together
    assert any("spec" in state and "table_html" in state for state in updates)
    assert widget.title == widget.spec["title"]["text"]
    assert "<table>" in widget.table_html and "€" in widget.table_html


# --- Effet ciseau and Plénière --------------------------------------------------------------------

def test_scissor_panel_switches_indicator_and_saves_images(sim, tmp_path):
    panel = ScissorPanel("beauce_loiretaine", simulation=sim, offline=False)
    before = panel.scissor_chart.spec
    blades = panel.blades_chart.redraws
    panel.indicator.value = "digital_burden"
    assert panel.scissor_chart.spec != before
    assert panel.blades_chart.redraws == blades
    panel.measure.value = "digital_burden"
    assert "Charge numérique" in json.dumps(panel.burden_chart.spec, ensure_ascii=False)
    written = panel.save_charts(tmp_path / "diapos")
    assert sorted(p.name for p in written) == sorted(
        f"{stem}{suffix}" for stem in ScissorPanel.EXPORTS for suffix in (".png", ".svg"))
    assert "8 images" in panel.export_message.value


def test_scissor_panel_tells_euros_first_and_names_communes_gravest_first(sim):
    panel = ScissorPanel("beauce_loiretaine", simulation=sim, offline=False)
    assert "la hausse du coût numérique réduit l'épargne brute" in text_of(panel.headline)
    assert text_of(panel.estimated_note).strip() == INVITATION
    assert panel.blades_chart.spec["title"]["text"].startswith("L'effet ciseau en euros")
    assert panel.waterfall_chart.spec["title"]["text"].startswith("D'où vient la variation")
    named = text_of(panel.named)
    order = [named.index(label) for label in ("Épargne brute négative", "seuil dégradé",
                                               "seuil d'alerte", "Charge numérique")]
    assert order == sorted(order)
    assert "Épargne brute négative (fonctionnement financé par l'emprunt ou les réserves) : "\
        "aucune commune d'ici 2032" in named
    assert "Coinces (estimé)" in named
    panel.commune.value = "45008"
    assert "de Artenay (estimé) de " in text_of(panel.headline)
    assert "Artenay" in json.dumps(panel.waterfall_chart.spec["title"], ensure_ascii=False)


def test_negative_savings_are_named(sim, beauce_scenario):
    from model.ui.views import negative_eb_sentence

    scenario = dataclasses.replace(beauce_scenario, assumptions={
        "projection": {"other_drf_growth": 0.06}})
    view = sim.view(scenario)
    sentence = negative_eb_sentence(view)
    assert sentence.startswith("Épargne brute négative (fonctionnement financé par l'emprunt "
                               "ou les réserves) pour ")
    first = view.summary["scissor"]["communes_by_indicator"]["eb_negative"][0]
    assert f"{first['name']} (estimé) dès {first['year_pooled']}" in sentence


def test_plenary_variant_changes_only_side_b(sim):
    panel = PlenaryPanel("beauce_loiretaine", simulation=sim, offline=False)
    panel.more.selected_index = 0  # « Pour aller plus loin » open: every chart drawn
    figures = panel.figures.value
    a_redraws, a_signature = panel.blades["A"].redraws, panel.blades["A"].signature
    b_spec = panel.blades["B"].spec
    headline = panel.headline.value
    panel.licences_b.value = 0.10
    assert panel.figures.value != figures
    assert panel.blades["B"].spec != b_spec
    assert panel.headline.value == headline  # the headline is A's
    for charts_, axis in ((panel.blades, "y"), (panel.waterfall, "x")):  # one euro scale
        scale = [[layer["encoding"][axis]["scale"]["domain"] for layer in charts_[k].spec["layer"]
                  if "scale" in layer["encoding"].get(axis, {})] for k in "AB"]
        assert scale[0] and scale[0] == scale[1]
    # A is redrawn only when the shared axis moves (here other spending sets it: it does not)
    moved = panel.blades["A"].signature[-1] != a_signature[-1]
    assert panel.blades["A"].redraws == a_redraws + moved


def test_plenary_variant_b_says_who_pays_more_and_the_largest_burden_of_its_method(sim):
    panel = PlenaryPanel("beauce_loiretaine", simulation=sim, offline=False)
    panel.method_b.value = "equal"
    assert "Parts égales" in panel.figures.value
    a, b = panel.views["A"], panel.views["B"]
    start = a.projection.years[0]
    # the largest burden under equal shares, computed from the pool totals alone
    inputs = b.projection.inputs[(b.projection.inputs["year"] == start)
                                 & (b.projection.inputs["payer_id"] != "EPCI")]
    pooled = b.projection.allocation[(b.projection.allocation["year"] == start)
                                     & (b.projection.allocation["method"] == "equal")]
    share = pooled["amount_eur"].sum() / inputs["payer_id"].nunique()
    capacity = inputs.groupby("payer_id")["capacity_eur"].first()
    expected = (share / capacity).max()
    row = [r for r in html_rows(panel.figures.value) if r[0].startswith("Charge la plus lourde")][0]
    shown = float(row[2].split("\u202f%")[0].replace(",", "."))
    assert shown == pytest.approx(100 * expected, abs=0.006)
    assert row[1] != row[2]  # A's method bears differently
    # the diverging chart: who pays more and who pays less with B, sorted, in euros and percent
    spec = panel.change.spec
    rows = next(iter(spec["datasets"].values()))
    changes = [r["change_eur"] for r in rows]
    assert changes == sorted(changes, reverse=True) and changes[0] > 0 > changes[-1]
    paid_a = a.projection.allocation.query("method == @a.scenario.method")
    paid_b = b.projection.allocation.query("method == 'equal'")
    first = rows[0]
    code = [c for c, n in a.projection.resolved.communes.names.items() if n == first["payer"]][0]
    assert first["change_eur"] == pytest.approx(
        paid_b.loc[paid_b["payer_id"] == code, "amount_eur"].sum()
        - paid_a.loc[paid_a["payer_id"] == code, "amount_eur"].sum(), abs=0.01)
    assert "%" in first["label"] and "€" in first["label"]
    assert "Plus forte hausse" in spec["description"]


def test_plenary_says_what_digital_costs_do_to_savings_and_what_is_estimated(sim):
    panel = PlenaryPanel("beauce_loiretaine", simulation=sim, offline=False)
    assert "la hausse du coût numérique réduit l'épargne brute annuelle de CC de la Beauce "\
        "Loirétaine de " in text_of(panel.headline)
    assert "CC de la Beauce Loirétaine" in text_of(panel.heading)
    assert panel.page_title.title.startswith("CC de la Beauce Loirétaine")
    notes = text_of(panel.notes)
    assert "Finances estimées à partir de moyennes nationales pour 23 communes sur 23" in notes
    assert "Aucune commune n'a une épargne brute négative d'ici 2032" in notes
    panel.more.selected_index = 0
    for k in "AB":
        assert panel.blades[k].spec["title"]["text"] == f"L'effet ciseau en euros — {k} (estimé)"
        assert "estimé" in panel.waterfall[k].spec["title"]["text"]
    figures = text_of(panel.figures)
    assert "Communes aux finances estimées (moyennes nationales)" in figures
    assert "23 sur 23" in figures and "Année du ciseau" in figures
    assert "t*" not in figures + text_of(panel.heading) + text_of(panel.headline)


# --- Analyse ---------------------------------------------------------------------------------------

def test_run_batch_writes_each_scenario_and_a_summary(tmp_path):
    summary = run_batch(["beauce_loiretaine"], [], tmp_path, save_charts=True)
    assert list(summary["Statut"]) == ["ok"]
    folder = tmp_path / "cc_de_la_beauce_loiretaine_scenario_de_reference"
    assert {"inputs.csv", "allocation.csv", "projection.csv", "summary.json",
            "report.xlsx"} <= {p.name for p in folder.iterdir()}
    assert (folder / "graphiques" / "effet_ciseau.svg").exists()
    # French Excel's dialect: « ; », decimal comma, UTF-8 with BOM, amounts as numbers
    raw = (tmp_path / "synthese.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.splitlines()[0]
    table = pd.read_csv(tmp_path / "synthese.csv", sep=";", decimal=",", encoding="utf-8-sig")
    amount = [c for c in table.columns if c.startswith("Coût numérique mutualisé")][0]
    assert table[amount].dtype.kind == "f" and table[amount].iloc[0] > 0
    assert table["Communes"].iloc[0] == 23 and table["Statut"].iloc[0] == "ok"
    assert f"{table[amount].iloc[0]:.2f}".replace(".", ",") in raw.decode("utf-8-sig")


def test_run_batch_rejects_an_unknown_epci(tmp_path):
    with pytest.raises(SystemExit, match="EPCI inconnu"):
        run_batch([], ["zzzz introuvable"], tmp_path)


def test_voted_rules_reach_the_default_split_and_its_diagnosis(panel):
    assert "la répartition est la clé elle-même" in panel.message
    panel.departure.value = 0.3  # the key already meets it: still the key
    assert panel.current_scenario().assumptions["allocation"]["key_departure"] == 0.3
    assert "la répartition est la clé elle-même" in panel.message
    panel.saving.value = 0.5  # more than pooling saves some communes: named with its limit
    msg = panel.message
    assert "L'économie garantie de 50,00" in msg and "la plus grande valeur réalisable est" in msg
    panel.saving.value = 0.0
    panel.departure.value = 0.0
    assert panel.current_scenario().assumptions.get("allocation", {}).get("key_departure") is None
    assert "calcul à jour" in panel.message


def test_unusual_figures_are_used_with_their_warning_on_screen(panel):
    panel.search.value = "200030385"
    # ten workstations per agent: unusual, not impossible (a warning, the run goes on)
    wb = openpyxl.load_workbook(AGGLOPOLYS_TEMPLATE)
    ws = wb["Communes"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Agents (ETP)") + 1, value=10)
    ws.cell(row=2, column=header.index("Postes de travail") + 1, value=100)
    buf = io.BytesIO()
    wb.save(buf)
    assert panel.load_user_file("postes.xlsx", buf.getvalue())
    msg = panel.message
    assert "calcul à jour" in msg and "Attention :" in msg
    panel._on_clear_upload()
    assert "Attention :" not in panel.message


def test_plenary_uncertainty_on_the_button_only(sim):
    panel = PlenaryPanel("beauce_loiretaine", simulation=sim, offline=False)
    assert panel.fan.redraws == 0 and panel.proba.redraws == 0  # never at first paint
    panel.run_draws()
    assert panel.fan.redraws == 1 and panel.proba.redraws == 1
    assert "200 tirages" in text_of(panel.draws_message)
    spec = json.dumps(panel.fan.spec, ensure_ascii=False)
    assert "Épargne brute" in spec and "Beauce" in spec
    other = [v for v in panel.scenarios.values() if v != panel.scenario.value][0]
    panel.scenario.value = other
    assert "relancez" in json.dumps(panel.fan.spec, ensure_ascii=False)


def test_uploaded_file_name_is_shown_as_text_not_html(panel):
    panel.search.value = "200030385"
    name = "<img src=x onerror=alert(1)>.xlsx"
    assert panel.load_user_file(name, own_figures(AGGLOPOLYS_TEMPLATE, 900))
    assert "<img" not in panel.data_label.value and "&lt;img" in panel.data_label.value
    panel._on_clear_upload()


def test_the_map_shows_the_measure_chosen_for_the_year_shown(panel):
    from model.report.charts import chart_table

    panel.year.value = panel.year.options[-1]
    assert panel.charts["map"].redraws == 0  # hidden tab: drawn when shown
    panel.tabs.selected_index = 4
    year = panel.year.value
    spec = panel.charts["map"].spec
    assert spec["title"]["text"] == f"Économie par rapport à l'achat seul, {year}"
    # every commune drawn with its saving, computed here from the projection
    proj = panel.view.projection.projection
    communes = proj[(proj["year"] == year) & (proj["commune"] != "EPCI")].set_index("name")
    table = chart_table(spec).set_index("Commune")
    saving_col = [c for c in table.columns if c.startswith("Économie")][0]
    expected = communes["digital_standalone_eur"] - communes["digital_pooled_eur"]
    assert len(table) == len(communes)
    assert table[saving_col].astype(float).to_dict() == pytest.approx(expected.to_dict(), abs=0.01)
    panel.map_measure.value = "burden"
    assert panel.charts["map"].spec["title"]["text"].startswith("Charge numérique")


def test_plenary_dossier_button_offers_the_dossier_of_what_is_on_screen(sim):
    import base64
    import re

    panel = PlenaryPanel("beauce_loiretaine", simulation=sim, offline=False)
    panel.method_b.value = "equal"
    files = panel.make_dossier()
    assert files and files[0].name == "dossier.html"
    links = re.findall(r"href='data:([^;]+);base64,([^']+)'", panel.dossier_link.value)
    assert links[0][0] == "text/html"
    page = base64.b64decode(links[0][1]).decode()
    assert "CC de la Beauce Loirétaine" in page and "Parts égales" in page
    if len(files) == 2:  # a browser printed the PDF
        assert links[1][0] == "application/pdf"
        assert base64.b64decode(links[1][1])[:5] == b"%PDF-"
    else:
        assert "PDF non produit" in text_of(panel.dossier_link)


def test_slider_presses_in_a_kernel_coalesce_into_one_computation_with_the_last_value(sim):
    """In a kernel (an event loop runs), five quick changes cost one recompute, which uses the
    last value; « Calcul en cours… » shows from the first change until it is done."""
    import asyncio

    panel = PlenaryPanel("beauce_loiretaine", simulation=sim, offline=False)
    refreshes = []
    original = panel.refresh
    panel.refresh = lambda *a: (refreshes.append(panel.licences_b.value), original())

    async def presses():
        for value in (0.04, 0.05, 0.06, 0.07, 0.08):
            panel.licences_b.value = value
            await asyncio.sleep(0.005)  # faster than COALESCE_S: the presses of one hand
        assert "Calcul en cours" in panel.message and "mcm-busy" in panel.widget._dom_classes
        await asyncio.sleep(0.5)

    asyncio.run(presses())
    assert refreshes == [0.08]
    assert "mcm-busy" not in panel.widget._dom_classes
    assert panel.views["B"].projection.resolved.values["licences"]["growth"] == 0.08


def test_a_territory_beyond_one_epci_opens_in_the_simulateur_and_an_epci_replaces_it(sim):
    from model.ui.views import Simulation

    panel = SimulatorPanel("data/scenarios/loir_et_cher.yaml", simulation=Simulation(),
                           offline=False)
    assert panel.message.startswith("Département du Loir-et-Cher : 267 communes")
    assert panel.page_title.title.startswith("Département du Loir-et-Cher")
    panel.search.value = "200030385"  # then the user finds Agglopolys and picks it
    panel.epci.value = "200030385"
    assert panel.current_scenario().territory is None
    assert "43 communes" in panel.message and "pas les deux" not in panel.message
