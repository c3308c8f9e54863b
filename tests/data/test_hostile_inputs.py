"""Hostile inputs: files that used to be read wrong at exit 0, or to hang the reader.

Every file is built here by code (csv text, openpyxl, zipfile) in tmp_path: no binary is
committed. Each test states the exact outcome: an InputError whose French problems name the
file, row and column, or a table with the expected values and the expected « Attention : »
warnings. The last test fuzzes the CSV reader: random cells never raise anything but InputError.
"""

import re
import time
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from model.data import userfile
from model.data.plausibility import load_bounds, national_communes
from model.data.userfile import (
    MAX_MESSAGE_CHARS,
    UserFileWarning,
    read_user_file,
    read_user_table,
)
from model.errors import InputError

RRF = "Recettes réelles de fonctionnement (€)"
DRF = "Dépenses réelles de fonctionnement (€)"


def write_csv(path, lines, encoding="utf-8"):
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path, rows, title="Communes", edit=None):
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    if edit:
        edit(ws)
    wb.save(path)
    return path


def problems_of(path, epci=None):
    with pytest.raises(InputError) as info:
        read_user_file(path, epci)
    for problem in info.value.problems:
        assert problem.file == path.name, problem
    return info.value.problems


def where(problems):
    return [(p.row, p.column) for p in problems]


def read(path, epci=None):
    return read_user_file(path, epci)


# --------------------------------------------------------------------------------------------
# Headers: never silently dropped
# --------------------------------------------------------------------------------------------

def test_misspelled_header_is_an_error_with_the_suggestion(tmp_path, beauce):
    path = write_csv(tmp_path / "faute.csv", [
        "Code INSEE;Commune;Recettes réeles de fonctionement", "45299;Saint-Sigismond;250000"])
    problems = problems_of(path, beauce)
    assert where(problems) == [(1, "Recettes réeles de fonctionement")]
    assert str(problems[0]) == (
        "fichier « faute.csv », ligne 1, colonne « Recettes réeles de fonctionement » : "
        "vouliez-vous dire « Recettes réelles de fonctionnement (€) » ? Cet en-tête n'est pas "
        "reconnu : corrigez-le comme dans le modèle (data/templates/modele_communes.xlsx), sinon "
        "les valeurs de cette colonne seraient ignorées et estimées.")


@pytest.mark.parametrize("header, suggestion", [
    ("RECETTES  REELES DE FONCTIONEMENT", RRF),         # accents, case and spaces ignored
    ("Dépenses réelles de fonctionement (€)", DRF),
    ("licence_seat", "Licences logicielles (sièges)"),  # an internal name
    ("potentiel_finacier_eur", "Potentiel financier (€)"),
    ("DRF 2024", DRF),                                  # a year after a known header
    ("Populaton municipale", "Population municipale"),
    ("Code INSE", "Code INSEE"),
])
def test_near_misses_of_labels_and_internal_names(tmp_path, beauce, header, suggestion):
    path = write_csv(tmp_path / "h.csv", [f"Code INSEE;{header}", "45299;250000"])
    if header == "Code INSE":
        path = write_csv(tmp_path / "h.csv", [f"{header};Population", "45299;270"])
    problems = problems_of(path, beauce)
    near = [p for p in problems if "vouliez-vous dire" in p.message]
    assert where(near) == [(1, " ".join(header.split()))]  # as written, spaces collapsed
    assert f"vouliez-vous dire « {suggestion} » ?" in near[0].message


def test_unknown_columns_are_listed_in_a_warning(tmp_path, beauce):
    path = write_csv(tmp_path / "extra.csv", [
        "Code INSEE;Commune;Remarques;Dépenses réelles de fonctionnement;Maire;DRF 2023",
        "45299;Saint-Sigismond;à revoir;250000;M. Dupont;240000"])
    table, notes = read(path, beauce)
    assert list(table.columns) == ["name", "drf_eur"]
    assert table.loc["45299", "drf_eur"] == 250000
    assert notes == [
        "Attention : fichier « extra.csv », ligne 1 : colonnes non reconnues, ignorées : "
        "« Remarques » (colonne C), « Maire » (colonne E), « DRF 2023 » (colonne F, proche de "
        "« Dépenses réelles de fonctionnement (€) » déjà lue colonne D). Les en-têtes lus sont "
        "ceux du modèle (data/templates/modele_communes.xlsx) et leurs variantes usuelles."]


def test_header_found_under_a_title_despite_a_misspelt_code_column(tmp_path):
    path = write_csv(tmp_path / "titre.csv", [
        "Données 2024", "Code INSE;Population municipale", "41018;47092"])
    problems = problems_of(path)
    assert (2, "Code INSE") in where(problems)


def test_read_user_table_emits_the_warnings(tmp_path, beauce):
    path = write_csv(tmp_path / "w.csv", ["Code INSEE;Remarques", "45299;rien"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = read_user_table(path, beauce)
    texts = [str(w.message) for w in caught if issubclass(w.category, UserFileWarning)]
    assert len(texts) == 1 and texts[0].startswith("Attention : fichier « w.csv », ligne 1 : ")
    assert table.attrs["warnings"] == texts
    assert list(table.index) == ["45299"]


def test_values_under_no_header_are_a_warning(tmp_path, beauce):
    path = write_xlsx(tmp_path / "orphelin.xlsx", [
        ["Code INSEE", "Population municipale", None, "Agents (ETP)"],
        ["45299", 270, 12, 3], ["45093", 2653, 40, None]])
    table, notes = read(path, beauce)
    assert table["agents"].tolist()[0] == 3
    assert notes == ["Attention : fichier « orphelin.xlsx », ligne 1 : colonne sans en-tête, "
                     "ignorée : C (2 valeurs). Donnez-leur un en-tête du modèle si elles doivent "
                     "être lues."]


# --------------------------------------------------------------------------------------------
# Cells: merged, never calculated, French thousands, shifted or swallowed rows
# --------------------------------------------------------------------------------------------

HEADER = ["Code INSEE", "Commune", "Population municipale", RRF, "Notes"]
SHORT = HEADER[:4]


def test_merged_cells_in_a_read_column_name_the_cells(tmp_path, beauce):
    def merge(ws):
        ws.merge_cells("A1:E1")  # the title: harmless
        ws.merge_cells("D3:D4")  # RRF of two communes: the second would be blank
        ws.merge_cells("E3:E4")  # an ignored column: harmless
        ws.merge_cells("B5:C5")  # name and population: the population would be blank

    path = write_xlsx(tmp_path / "fusion.xlsx", [
        ["Notre communauté"], HEADER,
        ["45299", "Saint-Sigismond", 270, 250000, "x"],
        ["45093", "Chevilly", 2653, None],
        ["45062", "Cercottes", 1477, 1500000]], edit=merge)
    problems = problems_of(path, beauce)
    assert where(problems) == [(4, RRF), (5, "Population municipale")]
    assert problems[0].message.startswith(
        "cellules D3:D4 fusionnées de la feuille « Communes » : seule la première cellule d'une "
        "fusion garde sa valeur, D4 serait lue vide et estimée.")
    assert "B5:C5" in problems[1].message and "C5 serait lue vide" in problems[1].message


def test_formula_never_calculated_is_an_error_naming_the_cell(tmp_path, beauce):
    path = write_xlsx(tmp_path / "formule.xlsx", [
        HEADER, ["45299", "Saint-Sigismond", 270, "=C2*1000"],
        ["45093", "Chevilly", 2653, 3000000, "=1+1"]])  # a formula in an ignored column
    problems = problems_of(path, beauce)
    assert where(problems) == [(2, RRF)]
    assert problems[0].message.startswith(
        "la cellule D2 de la feuille « Communes » contient une formule (=C2*1000) dont le "
        "résultat n'a jamais été calculé par Excel")


def _as_saved_by_excel(path, cached):
    """Give each formula its result, and drop openpyxl's « recalculate on opening » flag."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for formula, value in cached.items():  # openpyxl writes <v /> or, with lxml, <v></v>
        sheet = re.sub(rf"<f>{re.escape(formula)}</f><v ?/>|<f>{re.escape(formula)}</f><v></v>",
                       f"<f>{formula}</f><v>{value}</v>", sheet)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b' fullCalcOnLoad="1"', b"")
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)


def test_formula_with_a_result_is_read(tmp_path, beauce):
    path = write_xlsx(tmp_path / "calcule.xlsx", [
        HEADER, ["45299", "Saint-Sigismond", 270, "=C2*1000"]])
    _as_saved_by_excel(path, {"C2*1000": 270000})
    table, _ = read(path, beauce)
    assert table.loc["45299", "rrf_eur"] == 270000


def test_dot_thousands_in_a_decimal_comma_file(tmp_path, beauce):
    path = write_csv(tmp_path / "fr.csv", [
        "Code INSEE;Population municipale;DRF;RRF",
        "45299;270;211.905;250 000,50",          # 211.905 is 211 905 here: the file writes ,50
        "45093;2.653;2.500.000;2.900.000,5",
        "45062;1477;1.234.567;1500000"])
    table, notes = read(path, beauce)
    assert table["drf_eur"].tolist() == [211905, 2500000, 1234567]
    assert table["population"].tolist() == [270, 2653, 1477]
    assert table["rrf_eur"].tolist() == [250000.5, 2900000.5, 1500000]
    assert notes == []


def test_dot_thousands_in_a_decimal_point_file_is_a_decimal(tmp_path, beauce):
    """« 11.905 » in a file that writes 250000.5: 11,905 €, which plausibility refuses."""
    path = write_csv(tmp_path / "en.csv", ["Code INSEE;DRF;RRF", "45299;11.905;250000.5"])
    problems = problems_of(path, beauce)
    assert where(problems) == [(2, "DRF")]
    assert problems[0].message.startswith(
        "Saint-Sigismond (45299) : dépenses réelles de fonctionnement de 11,905 € pour 270 "
        "habitants, soit 0,04 € par habitant : impossible, le minimum plausible est de 50 € "
        "par habitant.")


def test_dot_before_three_digits_without_evidence_is_ambiguous(tmp_path, beauce):
    path = write_csv(tmp_path / "amb.csv", ["Code INSEE;DRF;RRF", "45299;211.905;250000"])
    problems = problems_of(path, beauce)
    assert where(problems) == [(2, "DRF")]
    assert problems[0].message == (
        "valeur « 211.905 » ambiguë : milliers (211 905) ou décimales (211,905) ? Le fichier ne "
        "permet pas de trancher. Écrivez 211905 pour 211 905, ou 211,905 avec une virgule "
        "décimale.")


def test_comma_before_three_digits(tmp_path, beauce):
    # In a decimal-point file « 1,250 » groups thousands; alone it is a French decimal comma.
    path = write_csv(tmp_path / "c.csv", ["Code INSEE;Archives;RRF", "45093;1,250;2900000.5"])
    assert read(path, beauce)[0].loc["45093", "archive_gb"] == 1250
    path = write_csv(tmp_path / "d.csv", ["Code INSEE;Archives", "45093;1,250"])
    assert read(path, beauce)[0].loc["45093", "archive_gb"] == 1.25
    path = write_csv(tmp_path / "e.csv", ["Code INSEE;Archives;RRF;DRF",
                                          "45093;1,250;2900000.5;2 500 000,5"])
    assert where(problems_of(path, beauce)) == [(2, "Archives")]  # both marks: ambiguous


def test_comma_separated_with_decimal_commas_names_the_first_bad_row(tmp_path, beauce):
    path = write_csv(tmp_path / "virgules.csv", [
        "Code INSEE,Population municipale,RRF",
        "45299,270,250000",
        "45093,2653,2900000,50",
        "45062,1477,1500000,25"])
    problems = problems_of(path, beauce)
    assert where(problems) == [(3, None)]
    assert problems[0].message.startswith(
        "4 valeurs pour 3 colonnes d'en-tête (et 1 autre ligne dans ce cas) : les valeurs "
        "seraient décalées d'une colonne. Le fichier est séparé par des virgules")
    assert "point-virgule" in problems[0].message


def test_extra_value_in_a_semicolon_file(tmp_path, beauce):
    path = write_csv(tmp_path / "pv.csv", ["Code INSEE;Population municipale",
                                           "45299;270", "45093;2653;oups"])
    problems = problems_of(path, beauce)
    assert where(problems) == [(3, None)] and "séparateur « ; »" in problems[0].message


def test_stray_quote_swallowing_rows_is_reported(tmp_path, beauce):
    path = write_csv(tmp_path / "guillemet.csv", [
        "Code INSEE;Commune;Population municipale",
        '45299;"Saint-Sigismond;270',
        "45093;Chevilly;2653",
        "45062;Cercottes;1477"])
    problems = problems_of(path, beauce)
    assert where(problems) == [(2, None)]
    assert problems[0].message.startswith(
        "un guillemet (\") ouvre une cellule qui s'étend de la ligne 2 à la ligne 4 du fichier : "
        "ces lignes sont lues comme une seule cellule (« Saint-Sigismond;270 45093;Chevilly;26... »).")


def test_stray_quote_beyond_the_field_limit(tmp_path, beauce):
    lines = ["Code INSEE;Commune;Population municipale", '45299;"Saint-Sigismond;270']
    lines += [f"45093;Chevilly {i};2653" for i in range(8000)]  # > 131,072 characters
    problems = problems_of(write_csv(tmp_path / "long.csv", lines), beauce)
    assert where(problems) == [(2, None)]
    assert "guillemet" in problems[0].message


def test_first_line_beyond_the_field_limit(tmp_path):
    path = tmp_path / "ligne.csv"
    path.write_text('"' + "x" * 200_000 + "\n41018;47092\n", encoding="utf-8")
    problems = problems_of(path)
    assert where(problems) == [(1, None)]
    assert problems[0].message.startswith("texte illisible à partir de la ligne 1 du fichier")


def test_csv_with_too_many_columns(tmp_path):
    path = write_csv(tmp_path / "large.csv", [";".join(f"c{i}" for i in range(5000)), "41018"])
    problems = problems_of(path)
    assert where(problems) == [(1, None)]
    assert problems[0].message.startswith("5 000 colonnes (au plus 200) : ")


def test_quotes_that_are_text_are_kept(tmp_path, beauce):
    path = write_csv(tmp_path / "q.csv", ["Code INSEE;Commune;Population municipale",
                                          '45299;Saint "Sigi";270',
                                          '45093;"Chevilly; Loiret";2653'])
    table, _ = read(path, beauce)
    assert table["name"].tolist() == ['Saint "Sigi"', "Chevilly; Loiret"]


# --------------------------------------------------------------------------------------------
# Plausibility
# --------------------------------------------------------------------------------------------

def test_impossible_figures_name_commune_figure_and_bound(tmp_path, beauce):
    path = write_csv(tmp_path / "faux.csv", [
        "Code INSEE;Commune;DRF;RRF;Agents",
        "45299;Saint-Sigismond;11,90;;",     # 270 inhabitants
        "45093;Chevilly;;1e30;",
        "45062;Cercottes;;;1e9",
        "45337;Villamblain;;;1250"])         # 279 inhabitants
    problems = problems_of(path, beauce)
    assert where(problems) == [(2, "DRF"), (3, "RRF"), (4, "Agents"), (5, "Agents")]
    assert problems[0].message.startswith(
        "Saint-Sigismond (45299) : dépenses réelles de fonctionnement de 11,9 € pour 270 "
        "habitants, soit 0,04 € par habitant : impossible, le minimum plausible est de 50 € "
        "par habitant.")
    assert problems[1].message.startswith(
        "Chevilly (45093) : recettes réelles de fonctionnement de 1e30 € pour 2 653 habitants, "
        "soit 3,77e26 € par habitant : impossible, le maximum plausible est de 50 000 € par "
        "habitant.")
    assert problems[2].message.startswith(
        "Cercottes (45062) : 1e9 agents (ETP) pour 1 477 habitants") or \
        problems[2].message.startswith("Cercottes (45062) : 1 000 000 000 agents (ETP)")
    assert problems[3].message.startswith(
        "Villamblain (45337) : 1 250 agents (ETP) pour 279 habitants, soit 4 480 pour 1 000 "
        "habitants : impossible (au plus 200 pour 1 000 habitants).")


def test_population_zero_for_an_inhabited_commune(tmp_path, beauce):
    lines = ["Code INSEE;Population municipale", "45299;0", "45093;2653"]
    for epci in (beauce, None):
        problems = problems_of(write_csv(tmp_path / "zero.csv", lines), epci)
        assert where(problems) == [(2, "Population municipale")]
        assert problems[0].message.startswith(
            "Saint-Sigismond (45299) : population 0, alors que la population municipale INSEE "
            "fournie avec le modèle est de 270 habitants.")


def test_drf_over_rrf_impossible(tmp_path, beauce):
    path = write_csv(tmp_path / "ratio.csv", ["Code INSEE;RRF;DRF",
                                              "45093;2900000;9000000", "45062;1500000;200000"])
    problems = problems_of(path, beauce)
    assert where(problems) == [(2, "DRF"), (3, "DRF")]
    assert "égales à 3,1 fois les recettes (2 900 000 €) : impossible" in problems[0].message
    assert "égales à 0,13 fois" in problems[1].message


def test_unusual_figures_are_warnings(tmp_path, beauce):
    path = write_csv(tmp_path / "rare.csv", [
        "Code INSEE;Population municipale;RRF;DRF;Potentiel financier;Agents;Postes;"
        "Archives (Go);Licences",
        "45062;1477;1500000;2000000;9000000;80;200;20000;2000",   # Cercottes
        "45093;6000;;;;;;;"])                                       # Chevilly: 2,653 (INSEE)
    table, notes = read(path, beauce)
    assert table.loc["45062", "agents"] == 80
    assert [n.split(" : ")[1].split(",")[2].strip() for n in notes] == [
        "colonne « DRF »", "colonne « Potentiel financier »", "colonne « Agents »",
        "colonne « Postes »", "colonne « Archives (Go) »", "colonne « Licences »",
        "colonne « Population municipale »"]
    assert all(n.startswith("Attention : fichier « rare.csv », ligne ") for n in notes)
    assert ("égales à 1,33 fois les recettes (1 500 000 €) : inhabituel (habituellement entre "
            "0,6 et 1,1 fois)") in notes[0]
    assert "soit 6 093 € par habitant : inhabituel (habituellement entre 300 et 5 000 €" in notes[1]
    assert "soit 54,2 pour 1 000 habitants : inhabituel (habituellement au plus 50)" in notes[2]
    assert "soit 2,5 par agent (ETP) : inhabituel (habituellement au plus 2)" in notes[3]
    assert "soit 250 par agent (ETP)" in notes[4] and "soit 10 par poste de travail" in notes[5]
    assert "Chevilly (45093) : population 6 000, loin de la population municipale INSEE" in notes[6]


def test_tiny_communes_compare_as_a_hundred_inhabitants(tmp_path):
    """Rochefourchat-like: 2 inhabitants and a 30,000 € budget is not 15,000 € per inhabitant."""
    path = write_csv(tmp_path / "petite.csv", ["Code INSEE;Population municipale;DRF;RRF",
                                               "26274;2;30000;33000"])
    table, notes = read(path)
    assert table.loc["26274", "drf_eur"] == 30000
    assert not [n for n in notes if "DRF" in n or "RRF" in n]


def test_bounds_come_from_the_assumptions():
    bounds = load_bounds()
    assert bounds["drf_per_hab_impossible"] == [50, 50000]
    assert bounds["agents_per_1000_hab_impossible_max"] == 200


def test_many_alike_warnings_are_summarised(tmp_path, agglopolys):
    codes = agglopolys.communes.index
    lines = ["Code INSEE;Agents"] + [
        f"{c};{round(p * 0.06 + 1)}" for c, p in agglopolys.communes["population"].items()]
    table, notes = read(write_csv(tmp_path / "agents.csv", lines), agglopolys)
    assert len(table) == len(codes)
    assert len(notes) == 6
    assert notes[0].startswith(
        "Attention : fichier « agents.csv », colonne « Agents » : 43 lignes aux chiffres "
        "inhabituels : les 5 premières ci-dessous ; les autres : lignes 7, 8, 9,")
    assert all("inhabituel" in n for n in notes[1:])


# --------------------------------------------------------------------------------------------
# Limits: size, rows, time, message size
# --------------------------------------------------------------------------------------------

def test_file_over_the_size_cap(tmp_path):
    path = tmp_path / "national.csv"
    path.write_bytes(b"Code INSEE;Population\r\n" + b"01001;859\r\n" * 530_000)
    problems = problems_of(path)
    assert where(problems) == [(None, None)]
    assert problems[0].message.startswith("fichier trop volumineux (5,6 Mo ; au plus 5,0 Mo).")


def test_national_file_gives_a_short_summarised_report(tmp_path, beauce):
    france = national_communes()
    lines = ["Code INSEE;Population municipale"] + [
        f"{code};{int(pop)}" for code, pop in france["population"].items()]
    path = write_csv(tmp_path / "france.csv", lines)
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        read_user_file(path, beauce)
    elapsed = time.perf_counter() - start
    text = str(info.value)
    outside = len(france) - len(beauce.communes)
    assert len(text) < MAX_MESSAGE_CHARS + 2000
    assert (f"colonne « Code INSEE » : {outside:,} lignes hors EPCI : les 5 premières "
            "ci-dessous ; les autres : lignes ").replace(",", " ") in text
    assert text.count("n'est pas membre de l'EPCI") == 5
    assert elapsed < 15, elapsed


def test_csv_over_the_row_cap(tmp_path):
    lines = ["Code INSEE;Population"] + ["41018;47092"] * userfile.MAX_ROWS
    problems = problems_of(write_csv(tmp_path / "long.csv", lines))
    assert where(problems) == [(None, None)]
    assert problems[0].message.startswith("plus de 40 000 lignes : ")


def test_xlsx_far_corner_cell_is_refused_fast(tmp_path):
    """A 6 KB workbook with one cell at XFD1048576: the former reader ran out of memory."""
    path = write_xlsx(tmp_path / "coin.xlsx", [SHORT, ["41018", "Blois", 47092]],
                      edit=lambda ws: ws.cell(row=1_048_576, column=16_384, value="x"))
    start = time.perf_counter()
    problems = problems_of(path)
    assert time.perf_counter() - start < 5
    assert problems[0].message.startswith(
        "plus de 40 000 lignes dans la feuille « Communes » (cellule XFD1048576 remplie)")


def test_xlsx_styled_rows_beyond_the_cap_are_a_warning(tmp_path, monkeypatch):
    from openpyxl.styles import Font

    def style(ws):
        for r in range(5, 80):
            ws.cell(row=r, column=1).font = Font(bold=True)  # formatted, empty

    monkeypatch.setattr(userfile, "MAX_ROWS", 50)
    path = write_xlsx(tmp_path / "styles.xlsx", [SHORT, ["41018", "Blois", 47092]], edit=style)
    table, notes = read(path)
    assert list(table.index) == ["41018"]
    assert notes == ["Attention : fichier « styles.xlsx », ligne 51 : la feuille « Communes » a "
                     "des lignes mises en forme au-delà de la ligne 50 : elles ne sont pas lues."]


def test_xlsx_far_right_cell_is_a_warning(tmp_path):
    path = write_xlsx(tmp_path / "large.xlsx", [SHORT, ["41018", "Blois", 47092]],
                      edit=lambda ws: ws.cell(row=2, column=16_384, value="x"))
    table, notes = read(path)
    assert notes[-1] == ("Attention : fichier « large.xlsx », ligne 2 : la cellule XFD2 de la "
                         "feuille « Communes » est au-delà de la colonne GR : elle n'est pas lue.")


def test_xlsx_that_unzips_to_too_much(tmp_path):
    path = write_xlsx(tmp_path / "bombe.xlsx", [SHORT, ["41018", "Blois", 47092]])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", b"\0" * (41 * 1024 * 1024))
    assert path.stat().st_size < 200_000
    problems = problems_of(path)
    assert problems[0].message.startswith("classeur trop volumineux une fois décompressé (")


# --------------------------------------------------------------------------------------------
# Fuzzing: random cells never raise anything but InputError
# --------------------------------------------------------------------------------------------

_PIECES = st.sampled_from([";", ",", '"', "\n", "\r\n", "\t", " ", "\u00a0", ".", "-", "e",
                           "€", "%", "1", "0", "5", "2A", "41018", "45299", "sep=", "\x00", "é"])
_CELL = st.lists(st.one_of(_PIECES, st.text(
    alphabet=st.characters(exclude_categories=("Cs",)), max_size=4)), max_size=6).map("".join)
_HEADERS = ["Code INSEE", "Commune", "Population municipale", "RRF", "DRF", "Agents",
            "Postes", "Archives", "Licences", "Potentiel financier", "Remarques", ""]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(_HEADERS), min_size=1, max_size=6),
       rows=st.lists(st.lists(_CELL, max_size=7), max_size=6),
       sep=st.sampled_from([";", ",", "\t"]), encoding=st.sampled_from(["utf-8", "cp1252"]))
def test_fuzzed_csv_raises_only_input_error(tmp_path, header, rows, sep, encoding):
    text = "\r\n".join([sep.join(header)] + [sep.join(r) for r in rows])
    path = tmp_path / "fuzz.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        table, notes = read_user_file(path)
    except InputError as error:
        assert error.problems and all(p.file == "fuzz.csv" for p in error.problems)
        assert len(str(error)) < MAX_MESSAGE_CHARS + 2000
    else:
        assert table.index.name == "commune"
        assert all(re.match(r"^(\d{5}|2[AB]\d{3})$", c) for c in table.index)
        assert all(n.startswith("Attention : ") for n in notes)


def test_warnings_reach_the_cli_the_summary_and_the_report(tmp_path):
    """An unusual figure is used, with an « Attention : » line on stderr, in summary.json and in
    the report's first sheet."""
    import json
    import subprocess
    import sys

    import openpyxl

    from model.data.bundled import load_epci

    epci = load_epci("200035764")
    code = str(epci.communes.index[0])
    pop = float(epci.communes.loc[code, "population"])
    data = tmp_path / "communes.csv"
    # 80 agents per 1,000 inhabitants: possible, unusual (a warning, not an error)
    data.write_text(f"Code INSEE;Agents (ETP);Colonne inconnue\n{code};{pop * 0.08:.1f};x\n",
                    encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text('epci: "200035764"\ndata_file: communes.csv\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "model", "run", str(scenario), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("Attention : ")]
    assert lines and "Traceback" not in out.stderr and "UserFileWarning" not in out.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    assert summary["warnings"] == lines
    wb = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx", read_only=True)
    assert wb.sheetnames[0] == "Avertissements"
