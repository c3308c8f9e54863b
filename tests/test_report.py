"""report.xlsx for a finance director: cover sheet, formats, French headers, print settings."""

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from model.report.export import EURO_FORMAT, PCT_FORMAT, rules_in_words, write_outputs
from model.report.labels import METHOD_LABELS_FR
from model.run import run
from model.scenario import Scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"
INTERNAL = re.compile(r"[a-z]+_[a-z_]+")


@pytest.fixture(scope="module")
def beauce():
    return run(Scenario.from_yaml(SCENARIOS / "beauce_loiretaine.yaml"))


@pytest.fixture(scope="module")
def workbook(beauce, tmp_path_factory):
    out = write_outputs(beauce, tmp_path_factory.mktemp("report") / "beauce")
    return load_workbook(out / "report.xlsx")


def test_cover_sheet_comes_first_and_names_everything(beauce, workbook):
    assert workbook.sheetnames[0] == "Couverture"
    rows = {r[0]: r[1] for r in workbook["Couverture"].iter_rows(min_row=2, values_only=True)}
    s = beauce.summary
    assert rows["Territoire"] == s["epci"]["name"]
    assert rows["SIREN"] == s["epci"]["siren"]
    assert rows["Type d'EPCI"] == s["epci"]["type"]
    assert rows["Communes membres"] == s["epci"]["communes"]
    assert rows["Population"] == s["epci"]["population"]
    assert rows["Scénario"] == beauce.projection.resolved.scenario.name
    assert rows["Méthode de répartition"] == METHOD_LABELS_FR["voted_key"]
    assert rows["Règles votées"] == "aucune"
    assert rows["Clé de référence"] == METHOD_LABELS_FR["usage"]
    assert rows["Année présentée"] == beauce.projection.years[0]
    assert rows["Version de l'outil"] == s["version"]
    assert rows["Données"] == s["data_vintage"]
    assert rows["Communes aux finances estimées"] == \
        s["scissor"]["communes_with_estimated_finances"]
    assert rows["En bref"] == s["scissor"]["headline_fr"]


def test_voted_rules_in_words():
    assert rules_in_words({"burden_cap": None}) == "aucune"
    words = rules_in_words({"burden_cap": 0.02, "usage_band": [0.5, 2.0],
                            "guaranteed_saving": None, "key_departure": 0.3})
    assert "plafond de charge : 2 %" in words
    assert "bande d'usage de 0,5 à 2 fois" in words
    assert "écart maximal à la clé de référence : 30 %" in words


def test_every_number_has_a_format_and_amounts_are_cents(workbook):
    for ws in workbook.worksheets:
        headers = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                v = cell.value
                if isinstance(v, bool) or not isinstance(v, int | float):
                    continue
                where = (ws.title, cell.coordinate, headers[cell.column - 1])
                assert cell.number_format != "General", where
                if "€" in (headers[cell.column - 1] or ""):
                    assert cell.number_format == EURO_FORMAT, where
                    assert abs(v * 100 - round(v * 100)) < 1e-6, where


def test_synthesis_has_the_years_across_and_formats_by_row(beauce, workbook):
    ws = workbook["Synthèse"]
    assert [c.value for c in ws[1]] == ["Indicateur", *map(str, beauce.projection.years)]
    for row in ws.iter_rows(min_row=2):
        label = row[0].value
        for cell in row[1:]:
            if "€" in label:
                assert cell.number_format == EURO_FORMAT, (label, cell.coordinate)
                assert abs(cell.value * 100 - round(cell.value * 100)) < 1e-6, label
            elif label.startswith("Charge maximale t*"):
                assert cell.number_format == PCT_FORMAT


def test_no_internal_names_in_headers_nor_booleans(workbook):
    for ws in workbook.worksheets:
        for cell in ws[1]:
            assert not INTERNAL.search(str(cell.value)), (ws.title, cell.value)
        for row in ws.iter_rows(min_row=2, values_only=True):
            assert not any(isinstance(v, bool) for v in row), ws.title
    values = [r[2] for r in workbook["Hypothèses"].iter_rows(min_row=2, values_only=True)]
    assert not any(isinstance(v, str) and v.startswith("{") for v in values)
    assert "DSI mutualisée : 0 ; Délégué à la protection des données : 0" in "\n".join(
        str(v) for v in values)
    names = [r[1] for r in workbook["Hypothèses"].iter_rows(min_row=2, values_only=True)]
    assert "Élasticité d'échelle" in names and "scale_elasticity" not in names


def test_print_settings_on_every_sheet(workbook):
    for ws in workbook.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        # one page wide (1 is the OOXML default, which XlsxWriter leaves implicit), any height
        assert (ws.page_setup.fitToWidth or 1) == 1, ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        assert ws.freeze_panes == "A2", ws.title


def test_columns_are_wide_enough(beauce, workbook):
    longest = max(len(n) for n in beauce.projection.resolved.communes.names)
    for title in ("Répartition 2026", "Projection", "Communes", "Méthodes 2026"):
        ws = workbook[title]
        for cell in ws[1]:
            if cell.value in ("Commune", "Payeur"):
                assert ws.column_dimensions[cell.column_letter].width >= longest, title
    ws = workbook["Annexe financière 2026"]
    for cell in ws[1]:
        widest = max(len(f"{c.value:,.2f} €") if isinstance(c.value, float) else 0
                     for c in ws[cell.column_letter][1:])
        assert ws.column_dimensions[cell.column_letter].width >= widest, cell.value


def test_financial_annex_totals_equal_the_split(tmp_path):
    from model.report.export import financial_annex

    result = run(Scenario.from_yaml(SCENARIOS / "beauce_loiretaine.yaml"))
    year = result.projection.years[0]
    annex = financial_annex(result, year)
    assert "L5211-4-2" in annex.iloc[0]["Service"]
    body = annex.iloc[1:]
    amounts = result.projection.amounts(result.resolved.scenario.method, year)
    totals = body[body["Commune"] == "Total du service"].set_index("Service")[f"Montant {year} (€)"]
    from model.costs import POOL_LABELS_FR
    for pool in amounts.columns:
        assert totals[POOL_LABELS_FR[pool]] == pytest.approx(amounts[pool].sum(), abs=0.005)
        rows = body[(body["Service"] == POOL_LABELS_FR[pool]) & (body["Commune"] != "Total du service")]
        assert len(rows) == len(amounts)
        assert rows[f"Montant {year} (€)"].sum() == pytest.approx(amounts[pool].sum(), abs=0.005)
    assert body["Règle qui l'ajuste"].str.contains("clé appliquée telle quelle").any()
    assert body["Règlement"].str.contains("facture").any()


def test_synthesis_has_native_charts_on_its_own_columns(tmp_path, beauce):
    import zipfile

    from model.report.export import write_report

    path = tmp_path / "r.xlsx"
    write_report(beauce, path)
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = "".join(z.read(n).decode() for n in charts)
        sheets = z.read("xl/workbook.xml").decode()
    assert len(charts) == 2
    assert "<c:lineChart>" in xml and '<c:grouping val="stacked"/>' in xml
    n = len(beauce.projection.years)
    last = chr(ord("A") + n)
    assert f"Synthèse!$B$1:${last}$1" in xml  # the years on the x axis
    assert "Synthèse" in sheets
    ws = load_workbook(path)["Synthèse"]
    start = beauce.projection.years[0]
    last = {r[0]: r[-1] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert "DSI mutualisée (€)" in last
    # the blades add up: resources + other spending + digital = change of épargne brute
    parts = sum(last[f"{b}, écart à {start} (€)"]
                for b in ("Recettes", "Autres dépenses", "Numérique mutualisé"))
    assert parts == pytest.approx(last[f"Épargne brute (mutualisé), écart à {start} (€)"],
                                  abs=0.02)


def test_the_year_shown_is_the_one_asked(tmp_path, beauce):
    from model.report.export import write_report

    year = beauce.projection.years[4]
    path = tmp_path / "r.xlsx"
    write_report(beauce, path, year=year)
    wb = load_workbook(path)
    rows = {r[0]: r[1] for r in wb["Couverture"].iter_rows(min_row=2, values_only=True)}
    assert rows["Année présentée"] == year
    for title in (f"Annexe financière {year}", f"Répartition {year}", f"Méthodes {year}",
                  f"Clé votée {year}"):
        assert title in wb.sheetnames
    amounts = beauce.projection.amounts("voted_key", year)
    ws = wb[f"Répartition {year}"]
    headers = [c.value for c in ws[1]]
    col = headers.index("Montant (€)")
    total = sum(r[col] for r in ws.iter_rows(min_row=2, values_only=True)
                if isinstance(r[col], float | int))
    assert total == pytest.approx(amounts.to_numpy().sum(), abs=0.05)


def test_staff_is_shown_as_written_and_estimates_whole(tmp_path):
    """An estimated count of agents has no decimals of its own (687,5432 agents read as a
    measure); a figure the user wrote is shown as written."""
    import openpyxl

    from model.data.bundled import load_epci
    from model.data.userfile import read_user_file
    from model.report.export import write_report
    from model.run import run
    from model.scenario import Scenario

    template = Path(__file__).resolve().parents[1] / "data" / "templates" / \
        "modele_communes_agglopolys.xlsx"
    wb = openpyxl.load_workbook(template)
    ws = wb["Communes"]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("Agents (ETP)") + 1, value=12.5)  # a user's own ETP
    own = tmp_path / "own.xlsx"
    wb.save(own)
    table, _ = read_user_file(own, load_epci("200030385"))
    written = table["agents"].dropna()
    assert list(written) == [12.5]
    result = run(Scenario(epci="200030385"), table)
    write_report(result, tmp_path / "r.xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)["Communes"]
                .iter_rows(values_only=True))
    col = [i for i, h in enumerate(rows[0]) if h and str(h).startswith("Agents")][0]
    code_col = [i for i, h in enumerate(rows[0]) if h and "INSEE" in str(h)][0]
    agents = {str(r[code_col]): r[col] for r in rows[1:] if r[code_col]}
    for code, value in agents.items():
        if code in written.index:
            assert value == 12.5
        else:
            assert value == round(value)


def test_the_annex_docx_totals_equal_the_split_to_the_cent(tmp_path):
    """The convention's annex as a Word document: one table per service, each commune's amount
    of the year, and a total equal to what the service's communes pay, to the cent."""
    import docx

    from model.report.annex import write_annex
    from model.run import run
    from model.scenario import Scenario

    result = run(Scenario.from_yaml(Path(__file__).resolve().parents[1] / "data" /
                                    "scenarios" / "beauce_loiretaine.yaml"))
    year = result.projection.years[-1]
    doc = docx.Document(write_annex(result, tmp_path / "annexe.docx", year))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "L5211-4-2" in text and "D5211-16" in text and "CC de la Beauce Loirétaine" in text
    amounts = result.projection.amounts(result.projection.resolved.scenario.method, year)

    def euros(cell: str) -> float:
        return float(cell.replace("\u202f", "").replace("\u00a0€", "").replace(",", "."))

    assert len(doc.tables) == len(amounts.columns)
    for grid, pool in zip(doc.tables, amounts.columns, strict=True):
        rows = [[c.text for c in r.cells] for r in grid.rows]
        assert rows[0][3] == f"Montant {year} (€)"
        body, total = rows[1:-1], rows[-1]
        assert total[0] == "Total du service"
        assert {r[1]: euros(r[3]) for r in body} == pytest.approx(amounts[pool].to_dict(),
                                                                   abs=0.005)
        assert euros(total[3]) == pytest.approx(round(amounts[pool].sum(), 2), abs=0.005)
        assert round(sum(euros(r[3]) for r in body), 2) == euros(total[3])


def test_synthesis_largest_burden_is_the_method_shown_and_no_jargon(tmp_path):
    import openpyxl

    from model.report.export import write_report
    from model.scenario import Scenario
    from model.ui.views import Simulation, method_burdens

    view = Simulation().view(Scenario.from_yaml(
        Path(__file__).resolve().parents[1] / "data" / "scenarios" / "beauce_loiretaine.yaml"))
    write_report(view.result(), tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    rows = {r[0].value: r for r in wb["Synthèse"].iter_rows() if r[0].value}
    row = rows["Charge la plus lourde (part de la capacité contributive)"]
    start = view.projection.years[0]
    expected = method_burdens(view, [view.scenario.method], start).iloc[0]["largest_burden"]
    assert row[1].value == pytest.approx(expected, rel=1e-9)
    assert "%" in row[1].number_format
    for ws in wb.worksheets:
        for r in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and "t*" in v for v in r), (ws.title, r)
