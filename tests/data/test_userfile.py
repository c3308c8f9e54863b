"""Reading users' CSV/XLSX files: French formats, header variants, and every bad input reported."""

import math
import os
import zipfile

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from openpyxl import Workbook

from model.data.schema import LABELS_FR, NUMERIC
from model.data.userfile import parse_insee, parse_number, read_user_table, sniff_separator
from model.errors import InputError

NBSP, NNBSP = "\u00a0", "\u202f"
FRENCH_WORDS = ("ligne", "colonne", "fichier", "Corrigez", "supprimez", "Renseignez",
                "Ajoutez", "Enregistrez", "Donnez", "Écrivez", "Gardez", "Vérifiez")


def write_csv(path, lines, encoding="utf-8", bom=False, newline="\r\n"):
    data = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode(encoding))
    return path


def write_xlsx(path, rows, sheet="Feuil1", extra_first_sheet=False):
    wb = Workbook()
    ws = wb.active
    if extra_first_sheet:
        ws.title = "Lisez-moi"
        ws.append(["Ce classeur contient nos données"])
        ws = wb.create_sheet(sheet)
    else:
        ws.title = sheet
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def problems_of(path, epci=None):
    with pytest.raises(InputError) as info:
        read_user_table(path, epci)
    error = info.value
    assert any(word in str(error) for word in FRENCH_WORDS), str(error)
    for problem in error.problems:
        assert problem.file == path.name
    return error.problems


def where(problems):
    return [(p.row, p.column) for p in problems]


# --------------------------------------------------------------------------------------------
# What French users produce
# --------------------------------------------------------------------------------------------

def test_cp1252_semicolon_decimal_comma_nbsp(tmp_path, beauce):
    lines = [
        "Code INSEE;Commune;Population municipale;Recettes réelles de fonctionnement (€);"
        "Agents (ETP);Potentiel financier (€)",
        f"45093;Chevilly;2{NBSP}653;2{NBSP}345{NBSP}678,90 €;31,5;1{NBSP}987{NBSP}654",
        "45248;Patay;2 341;1.234.567,89;12;",
        "45154;Gidy;2015;987654,3;0;1,5E+06",
    ]
    path = write_csv(tmp_path / "beauce.csv", lines, encoding="cp1252")
    assert b"\xa0" in path.read_bytes() and b"\x80" in path.read_bytes()  # really cp1252
    df = read_user_table(path, beauce)
    assert list(df.index) == ["45093", "45248", "45154"]
    assert df.index.name == "commune"
    assert list(df.columns) == ["name", "population", "rrf_eur", "potentiel_financier_eur",
                                "agents"]
    assert df.loc["45093", "rrf_eur"] == 2345678.90
    assert df.loc["45248", "rrf_eur"] == 1234567.89
    assert df.loc["45154", "rrf_eur"] == 987654.3
    assert df["population"].tolist() == [2653.0, 2341.0, 2015.0]
    assert df["agents"].tolist() == [31.5, 12.0, 0.0]
    assert df.loc["45093", "potentiel_financier_eur"] == 1987654.0
    assert math.isnan(df.loc["45248", "potentiel_financier_eur"])
    assert df.loc["45154", "potentiel_financier_eur"] == 1.5e6
    assert (df.dtypes.drop("name") == np.float64).all()
    assert df.loc["45154", "name"] == "Gidy"


def test_utf8_bom_narrow_nbsp_and_accents(tmp_path, beauce):
    lines = [
        "code_insee;libellé;POPULATION;DRF",
        f"45093;Chevilly;2{NNBSP}653;1{NNBSP}234{NNBSP}567,5",
        "45046;Boulay-les-Barres;1061;-",
    ]
    path = write_csv(tmp_path / "drf.csv", lines, bom=True)
    problems = problems_of(path, beauce)
    assert where(problems) == [(3, "DRF")]
    assert "« - »" in problems[0].message
    write_csv(path, lines[:2] + ["45046;Boulay-lès-Barres;1061;"], bom=True)
    df = read_user_table(path, beauce)
    assert df.loc["45093", "drf_eur"] == 1234567.5
    assert df.loc["45046", "name"] == "Boulay-lès-Barres"
    assert math.isnan(df.loc["45046", "drf_eur"])


def test_english_canonical_comma_csv(tmp_path):
    lines = ["commune,name,population,rrf_eur,drf_eur,potentiel_financier_eur,agents,"
             "workstations,archive_gb,licence_seats",
             "41018,Blois,47092,65432100.5,60000000,40000000,800.5,900,1200.25,750",
             '41295,"Vineuil, Loir-et-Cher",8050,,,,,,,']
    df = read_user_table(write_csv(tmp_path / "en.csv", lines, newline="\n"))
    assert list(df.columns) == ["name", *NUMERIC]
    assert df.loc["41018"].drop("name").tolist() == [47092, 65432100.5, 60000000, 40000000,
                                                    800.5, 900, 1200.25, 750]
    assert df.loc["41295", "name"] == "Vineuil, Loir-et-Cher"
    assert df.loc["41295", NUMERIC[1:]].isna().all()


def test_tab_separated(tmp_path):
    lines = ["INSEE\tNom\tPopulation\tPostes", "41018\tBlois\t47092\t900,5"]
    df = read_user_table(write_csv(tmp_path / "tab.txt", lines))
    assert df.loc["41018", "workstations"] == 900.5


def test_excel_sep_hint_line(tmp_path):
    path = write_csv(tmp_path / "sep.csv", ["sep=,", "insee,population,agents", "41018,1,x"])
    problems = problems_of(path)
    assert where(problems) == [(2, "agents")]  # Excel hides the hint: the header is row 1


@pytest.mark.parametrize("first, expected", [
    ("a;b;c", ";"), ("a,b,c", ","), ("a\tb\tc", "\t"), ('"x;y",b,c', ","), ("a;b,c;d", ";"),
])
def test_separator_sniffed_from_header(first, expected):
    assert sniff_separator(first + "\n1,5;2,5;3,5\n") == expected


def test_xlsx_numbers_and_lost_leading_zero(tmp_path):
    path = write_xlsx(tmp_path / "ain.xlsx", [
        ["Code INSEE", "Commune", "Population municipale", "Recettes réelles de fonctionnement (€)"],
        [1001, "L'Abergement-Clémenciat", 859, 512345.67],
        [1002.0, "L'Abergement-de-Varey", 267, "234 567,5"],
        ["2A004", "Ajaccio", 71361, None],
        ["2b033", "Bastia", 48503, 8e7],
    ])
    df = read_user_table(path)
    assert list(df.index) == ["01001", "01002", "2A004", "2B033"]
    assert df["population"].tolist() == [859, 267, 71361, 48503]
    assert df.loc["01001", "rrf_eur"] == 512345.67
    assert df.loc["01002", "rrf_eur"] == 234567.5
    assert math.isnan(df.loc["2A004", "rrf_eur"])


def test_csv_lost_leading_zero(tmp_path):
    df = read_user_table(write_csv(tmp_path / "z.csv", ["insee;population", "1001;859"]))
    assert list(df.index) == ["01001"]


def test_sheet_named_communes_wins_over_first(tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", [["Code INSEE", "Population"], ["41018", 47092]],
                      sheet="Communes", extra_first_sheet=True)
    assert read_user_table(path)["population"].tolist() == [47092]


def test_first_sheet_when_no_communes_sheet(tmp_path):
    wb = Workbook()
    wb.active.append(["insee", "pop"])
    wb.active.append(["41018", 47092])
    wb.create_sheet("Autre").append(["rien"])
    wb.save(tmp_path / "f.xlsx")
    assert read_user_table(tmp_path / "f.xlsx")["population"].tolist() == [47092]


@pytest.mark.parametrize("field, headers", [
    ("commune", ["Code INSEE", "code_insee", "CODE INSEE", "insee", "codgeo", "Code commune"]),
    ("name", ["nom", "Libellé", "LIBELLE", "Nom de la commune", "name"]),
    ("population", ["Population municipale", "population", "Pop.", "PMUN"]),
    ("rrf_eur", ["RRF", "rrf_eur", "Recettes réelles de fonctionnement", "RRF (€)",
                 "recettes reelles de fonctionnement en euros"]),
    ("drf_eur", ["DRF", "Dépenses réelles de fonctionnement (€)", "drf_eur"]),
    ("potentiel_financier_eur", ["Potentiel financier", "potentiel_financier_eur",
                                 "POTENTIEL FINANCIER (€)"]),
    ("agents", ["agents", "ETP", "Agents (ETP)", "Nombre d'agents"]),
    ("workstations", ["postes", "Postes de travail", "workstations", "nb postes",
                      "Nombre de postes"]),
    ("archive_gb", ["archives (Go)", "Volume archives", "volume d’archives", "archive_gb"]),
    ("licence_seats", ["licences", "Sièges", "sieges", "licence_seats", "Nb licences"]),
])
def test_header_variants(tmp_path, field, headers):
    for header in headers:
        if field == "commune":
            lines = [f"{header};Population", "41018;47092"]
        elif field == "population":
            lines = [f"Code INSEE;{header}", "41018;47092"]
        else:
            # figures plausible for Blois (47,092 inhabitants): see model.data.plausibility
            value = {"name": "Blois", "rrf_eur": "65000000", "drf_eur": "60000000",
                     "potentiel_financier_eur": "40000000"}.get(field, "12")
            lines = [f"Code INSEE;Population;{header}", f"41018;47092;{value}"]
        df = read_user_table(write_csv(tmp_path / "h.csv", lines))
        assert list(df.index) == ["41018"], header
        if field != "commune":
            assert field in df.columns, header


def test_commune_header_is_code_or_name_by_context(tmp_path):
    as_code = read_user_table(write_csv(tmp_path / "a.csv",
                                        ["commune;name;population", "41018;Blois;47092"]))
    assert as_code.loc["41018", "name"] == "Blois"
    as_name = read_user_table(write_csv(tmp_path / "b.csv",
                                        ["Code INSEE;Commune;population", "41018;Blois;47092"]))
    assert as_name.loc["41018", "name"] == "Blois"
    alone = read_user_table(write_csv(tmp_path / "c.csv", ["Commune;population", "41018;1"]))
    assert list(alone.index) == ["41018"] and "name" not in alone.columns


def test_unknown_columns_ignored_and_absent_columns_absent(tmp_path):
    df = read_user_table(write_csv(tmp_path / "x.csv", [
        "Code INSEE;Population;Remarques;Maire", "41018;47092;à revoir;M. Dupont"]))
    assert list(df.columns) == ["population"]


def test_blank_lines_and_title_row_keep_user_row_numbers(tmp_path):
    lines = ["Données 2024 de la communauté", "Code INSEE;Population;Agents", "41018;47092;10",
             "", ";;", "41295;8050;beaucoup"]
    problems = problems_of(write_csv(tmp_path / "t.csv", lines))
    assert where(problems) == [(6, "Agents")]


def test_empty_population_cell_is_nan_with_epci(tmp_path, agglopolys):
    df = read_user_table(write_csv(tmp_path / "p.csv", ["insee;population", "41018;"]),
                         agglopolys)
    assert math.isnan(df.loc["41018", "population"])


def test_population_column_optional_with_epci(tmp_path, agglopolys):
    df = read_user_table(write_csv(tmp_path / "p.csv", ["insee;RRF", "41018;65000000"]),
                         agglopolys)
    assert list(df.columns) == ["rrf_eur"]


def test_reading_writes_nothing(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["insee;population", "41018;47092"])
    before = sorted(os.listdir(tmp_path)), path.read_bytes()
    read_user_table(path)
    with pytest.raises(InputError):
        read_user_table(write_csv(tmp_path / "bad.csv", ["insee", "Total"]))
    assert sorted(os.listdir(tmp_path)) == sorted([*before[0], "bad.csv"])
    assert path.read_bytes() == before[1]


# --------------------------------------------------------------------------------------------
# Number and code parsing
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("1234,56", 1234.56), ("1 234 567,89", 1234567.89), (f"1{NBSP}234{NBSP}567,89", 1234567.89),
    (f"1{NNBSP}234,5", 1234.5), ("1.234.567,89", 1234567.89), ("1,234,567.89", 1234567.89),
    ("1234.5", 1234.5), ("12 €", 12.0), ("12,5 %", 12.5), ("1 234 EUR", 1234.0),
    ("-3,5", -3.5), ("\u22123", -3.0), ("1,5E+06", 1.5e6), ("  42  ", 42.0), ("", math.nan),
    (None, math.nan), (7, 7.0), (2.5, 2.5), ("1.234.567", 1234567.0), (",5", 0.5),
])
def test_parse_number(text, value):
    parsed = parse_number(text)
    assert (math.isnan(parsed) and math.isnan(value)) or parsed == value


@pytest.mark.parametrize("text", [
    "abc", "12 34", "1.234 567", "1,2,3", "1.2.3,4,5", "#DIV/0!", "nan", "inf", "1e999", "12h",
    "1 234,5 6", True,
])
def test_parse_number_refuses(text):
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize("cell, code", [
    ("41018", "41018"), (41018, "41018"), (1001, "01001"), ("1001", "01001"), (1001.0, "01001"),
    ("2a004", "2A004"), ("2B033", "2B033"), (" 41018 ", "41018"), ("41018.0", "41018"),
    ("410180", None), ("4A018", None), ("Total", None), ("123", None), (41018.5, None),
    (None, None), (True, None), ("", None),
])
def test_parse_insee(cell, code):
    assert parse_insee(cell) == code


def _french(value: float, decimals: int, thousands: str) -> str:
    text = format(value, f".{decimals}f")
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    out = sign + thousands.join(groups)
    return out + ("," + fraction if fraction else "")


@given(
    value=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
    decimals=st.integers(min_value=0, max_value=6),
    thousands=st.sampled_from(["", " ", NBSP, NNBSP, "."]),
    suffix=st.sampled_from(["", " €", "€"]),
)
def test_french_formatted_floats_parse_back(value, decimals, thousands, suffix):
    text = _french(value, decimals, thousands) + suffix
    # "1.234" alone is read as a decimal point (machine CSVs); French pages write "1 234".
    assume(not (thousands == "." and text.count(".") == 1 and "," not in text))
    assert parse_number(text) == float(format(value, f".{decimals}f"))


# --------------------------------------------------------------------------------------------
# Bad inputs: every problem, with row and column as the user sees them
# --------------------------------------------------------------------------------------------

def test_empty_file(tmp_path):
    for path in (write_csv(tmp_path / "vide.csv", []), tmp_path / "zero.csv"):
        path.write_bytes(b"" if path.name == "zero.csv" else b"\r\n\r\n")
        problems = problems_of(path)
        assert where(problems) == [(None, None)] and "vide" in problems[0].message


def test_empty_workbook(tmp_path):
    Workbook().save(tmp_path / "vide.xlsx")
    problems = problems_of(tmp_path / "vide.xlsx")
    assert where(problems) == [(None, None)] and "vide" in problems[0].message


def test_header_without_data_rows(tmp_path):
    path = write_csv(tmp_path / "entete.csv", ["Code INSEE;Population municipale", ";"])
    problems = problems_of(path)
    assert where(problems) == [(1, None)]
    assert "aucune ligne de données" in problems[0].message


def test_missing_insee_column(tmp_path):
    path = write_csv(tmp_path / "sans_code.csv", ["Commune;Population", "Blois;47092"])
    problems = problems_of(path)
    assert where(problems) == [(1, None)]
    assert "Code INSEE" in problems[0].message


def test_missing_population_column_without_epci(tmp_path, agglopolys):
    path = write_csv(tmp_path / "sans_pop.csv",
                     ["Code INSEE;RRF", "41018;65000000", "41295;9000000"])
    problems = problems_of(path)
    assert where(problems) == [(1, None)] and "Population" in problems[0].message
    assert "rrf_eur" in read_user_table(path, agglopolys)


def test_missing_population_value_without_epci(tmp_path):
    path = write_csv(tmp_path / "pop.csv", ["Code INSEE;Population", "41018;", "41295;8050"])
    problems = problems_of(path)
    assert where(problems) == [(2, "Population")] and "manquante" in problems[0].message


def test_non_numeric_value_is_quoted(tmp_path):
    path = write_csv(tmp_path / "texte.csv",
                     ["Code INSEE;Population;Agents (ETP)", "41018;47092;environ 800"])
    problems = problems_of(path)
    assert where(problems) == [(2, "Agents (ETP)")]
    assert "« environ 800 »" in problems[0].message and "non numérique" in problems[0].message


def test_date_cell_in_xlsx_is_refused(tmp_path):
    import datetime

    path = write_xlsx(tmp_path / "date.xlsx", [["insee", "population", "agents"],
                                               ["41018", 47092, datetime.datetime(2024, 1, 5)]])
    assert where(problems_of(path)) == [(2, "agents")]


@pytest.mark.parametrize("field", NUMERIC)
def test_negative_values_refused(tmp_path, field):
    label = LABELS_FR[field]
    path = write_csv(tmp_path / "neg.csv",
                     [f"Code INSEE;Population municipale;{label}" if field != "population"
                      else "Code INSEE;Population municipale",
                      "41018;47092;-1" if field != "population" else "41018;-1"])
    problems = problems_of(path)
    assert where(problems) == [(2, label)]
    assert "-1" in problems[0].message


@pytest.mark.parametrize("field, zero_ok", [
    ("rrf_eur", False), ("drf_eur", False), ("potentiel_financier_eur", False),
    ("agents", True), ("workstations", True), ("archive_gb", True), ("licence_seats", True),
    ("population", True),
])
def test_zero_allowed_only_for_counts(tmp_path, field, zero_ok):
    # 55039 Beaumont-en-Verdunois has no inhabitant (INSEE): a population of 0 is plausible there
    header = "Code INSEE" + ("" if field == "population" else ";Population municipale")
    path = write_csv(tmp_path / "zero.csv", [f"{header};{LABELS_FR[field]}",
                                             "55039;" + ("" if field == "population" else "5;")
                                             + "0"])
    if zero_ok:
        assert read_user_table(path).loc["55039", field] == 0
    else:
        problems = problems_of(path)
        assert where(problems) == [(2, LABELS_FR[field])]
        assert "strictement positif" in problems[0].message


def test_population_must_be_whole(tmp_path):
    path = write_csv(tmp_path / "dec.csv", ["insee;Pop", "41018;47092,5", "41295;8050,0"])
    problems = problems_of(path)
    assert where(problems) == [(2, "Pop")] and "entier" in problems[0].message
    write_csv(path, ["insee;Pop", "41018;47092,0"])
    assert read_user_table(path).loc["41018", "population"] == 47092


@pytest.mark.parametrize("code", ["410180", "4A018", "Total", "123", "41O18"])
def test_malformed_insee_code(tmp_path, code):
    path = write_csv(tmp_path / "code.csv", ["N° INSEE;Code INSEE;Population", f"1;{code};10"])
    problems = problems_of(path)
    assert where(problems) == [(2, "Code INSEE")]
    assert f"« {code} »" in problems[0].message and "5 caractères" in problems[0].message


def test_missing_insee_code_in_a_row(tmp_path):
    path = write_csv(tmp_path / "code.csv", ["Code INSEE;Population", "41018;10", ";20"])
    problems = problems_of(path)
    assert where(problems) == [(3, "Code INSEE")] and "manquant" in problems[0].message


def test_duplicate_insee_code_names_both_rows(tmp_path):
    path = write_csv(tmp_path / "double.csv",
                     ["Code INSEE;Population", "41018;47092", "41295;8050", "41018;47000"])
    problems = problems_of(path)
    assert where(problems) == [(4, "Code INSEE")]
    assert "41018" in problems[0].message
    assert "ligne 2" in problems[0].message and "4" in problems[0].message


def test_code_not_member_of_epci(tmp_path, beauce):
    path = write_csv(tmp_path / "hors.csv",
                     ["Code INSEE;Population", "45093;2653", "41018;47092"])
    problems = problems_of(path, beauce)
    assert where(problems) == [(3, "Code INSEE")]
    assert "Beauce Loirétaine" in problems[0].message and "200035764" in problems[0].message
    assert "41018" in problems[0].message


def test_xls_refused_with_advice(tmp_path):
    path = tmp_path / "ancien.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    problems = problems_of(path)
    assert where(problems) == [(None, None)]
    assert ".xlsx" in problems[0].message and "CSV" in problems[0].message


@pytest.mark.parametrize("name", ["donnees.ods", "donnees.json", "donnees"])
def test_unsupported_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text("{}")
    problems = problems_of(path)
    assert "non prise en charge" in problems[0].message


def test_missing_file(tmp_path):
    assert "introuvable" in problems_of(tmp_path / "absent.csv")[0].message


def test_corrupted_xlsx(tmp_path):
    path = tmp_path / "abime.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert "illisible" in problems_of(path)[0].message
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    assert "illisible" in problems_of(path)[0].message


def test_xls_renamed_to_xlsx(tmp_path):
    path = tmp_path / "renomme.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500)
    assert ".xls" in problems_of(path)[0].message


def test_binary_csv(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "illisible" in problems_of(path)[0].message


def test_thousands_of_euros_header_reported(tmp_path):
    path = write_csv(tmp_path / "keur.csv", ["insee;population;RRF (k€);PF par habitant",
                                             "41018;47092;65432;850"])
    problems = problems_of(path)
    assert where(problems) == [(1, "RRF (k€)"), (1, "PF par habitant")]
    assert "milliers" in problems[0].message and "par habitant" in problems[1].message


def test_same_field_twice_reported(tmp_path):
    path = write_csv(tmp_path / "deux.csv", ["insee;RRF;Recettes réelles de fonctionnement",
                                             "41018;65000000;65000000"])
    assert where(problems_of(path, None)) == [(1, "Recettes réelles de fonctionnement")] + [
        (1, None)]  # plus the missing population column (no EPCI)


def test_every_problem_reported_in_reading_order(tmp_path, agglopolys):
    lines = [
        "Code INSEE;Commune;Population municipale;RRF;DRF;Agents",
        "41018;Blois;47092;65 432 100,50;-5;800",         # DRF negative
        "4101;Typo;12;;;",                                 # padded to 04101: not a member
        "41295;Vineuil;8050;beaucoup;;-2",                # text + negative agents
        "41018;Blois encore;47092;65000000;60000000;800",  # duplicate
        "Total;;55142;;;",                                 # total line
        "41047;La Chaussée;4488,5;0;;",                    # population decimal + RRF zero
    ]
    path = write_csv(tmp_path / "tout.csv", lines, encoding="cp1252")
    problems = problems_of(path, agglopolys)
    assert where(problems) == [
        (2, "DRF"),
        (3, "Code INSEE"),
        (4, "RRF"), (4, "Agents"),
        (5, "Code INSEE"),
        (6, "Code INSEE"),
        (7, "Population municipale"), (7, "RRF"),
    ]
    assert "non membre" not in str(problems[1]) and "n'est pas membre" in problems[1].message
    text = str(InputError(problems))
    assert text.startswith("8 problèmes dans les données")
    assert "fichier « tout.csv », ligne 4, colonne « RRF »" in text
