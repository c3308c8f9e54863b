"""Reading the per-commune figures users bring from Excel or CSV, and validating them.

French finance directors produce files from Excel, their accounting software or by hand: UTF-8
or Windows-1252 text, ``;`` separators with decimal commas, thousands separators made of spaces
(including the non-breaking ones Excel writes), a trailing ``€``, leading zeros lost from INSEE
codes. This module accepts all of that and reports every problem at once, each with the file,
row and column as the user sees them (header on row 1, first data row on row 2), in French and
with a hint on how to fix it (style habit 3: validate before building, collect, raise once).

Reading proceeds in three steps: raw cells (:func:`read_cells`), header matching
(:func:`match_headers`), then parsing and checks (``check_*``, plus a pandera schema for the
value ranges). Nothing is written anywhere.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from model.data.bundled import Epci, normalise
from model.data.schema import INDEX, LABELS_FR, NUMERIC
from model.errors import InputError, Problem

#: Extensions read as text and as Excel workbooks.
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: Name of the sheet read first when a workbook has several (the template's sheet).
SHEET_NAME = "Communes"
#: How many leading rows are searched for the header (a title line above it is tolerated).
HEADER_SEARCH_ROWS = 10

#: Words dropped from headers before matching ("nombre d'habitants" -> "nombre habitants").
_STOP_WORDS = frozenset({"de", "des", "du", "d", "la", "le", "les", "l", "en", "par", "of", "the"})
#: Unit words dropped from the end of a header ("RRF (€)", "Archives (Go)", "Agents ETP").
_UNIT_WORDS = frozenset({"eur", "euro", "euros", "go", "gb", "etp"})
#: Count words dropped from the start of a header ("Nb postes", "Nombre de licences").
_COUNT_WORDS = frozenset({"nb", "nbre", "nombre", "number"})

#: Header variants per canonical column, written naturally; they go through :func:`header_key`.
#: ``commune`` is special: alone it names the INSEE code column, beside a code column it is the
#: commune's name (see :func:`match_headers`).
ALIASES: dict[str, tuple[str, ...]] = {
    INDEX: (
        "Code INSEE", "code_insee", "insee", "code insee commune", "commune insee",
        "commune_insee", "insee code", "codgeo", "code geo", "code géographique", "depcom",
        "code commune", "code de la commune", "cog", "code officiel géographique", "code",
    ),
    "name": (
        "Commune", "name", "nom", "nom commune", "nom de la commune", "libellé",
        "libellé commune", "libellé de la commune", "libgeo", "commune name", "dénomination",
    ),
    "population": (
        "Population municipale", "population", "pop", "pmun", "population municipale (hab)",
        "population (hab)", "population (habitants)", "habitants", "nombre d'habitants", "nb habitants",
    ),
    "rrf_eur": (
        "Recettes réelles de fonctionnement (€)", "rrf", "rrf_eur", "rrf (€)",
        "recettes réelles de fonctionnement", "recettes de fonctionnement",
        "recettes réelles fonctionnement",
    ),
    "drf_eur": (
        "Dépenses réelles de fonctionnement (€)", "drf", "drf_eur", "drf (€)",
        "dépenses réelles de fonctionnement", "dépenses de fonctionnement",
        "dépenses réelles fonctionnement",
    ),
    "potentiel_financier_eur": (
        "Potentiel financier (€)", "potentiel financier", "potentiel_financier_eur",
        "potentiel financier total", "pot fin", "pf",
    ),
    "agents": (
        "Agents (ETP)", "agents", "etp", "nombre d'agents", "effectif", "effectifs",
        "équivalents temps plein", "agents etp",
    ),
    "workstations": (
        "Postes de travail", "workstations", "postes", "postes informatiques",
        "nombre de postes", "ordinateurs", "pc",
    ),
    "archive_gb": (
        "Volume d'archives électroniques (Go)", "archive_gb", "archives", "archives (Go)",
        "volume archives", "volume d'archives", "archives électroniques", "archivage",
        "volume archivage",
    ),
    "licence_seats": (
        "Licences logicielles (sièges)", "licence_seats", "licences", "sièges", "licenses",
        "licences logicielles", "nombre de licences", "sièges de licence",
    ),
}
#: Money fields: a header in thousands of euros or per inhabitant is a different unit.
MONEY = ("rrf_eur", "drf_eur", "potentiel_financier_eur")

_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_SUFFIXES = ("€", "eur", "euros", "euro", "%")


def header_key(text: object) -> str:
    """Matching form of a header: accent-, case-, space- and punctuation-free, minus filler."""
    words = [w for w in normalise(str(text)).split() if w not in _STOP_WORDS]
    while len(words) > 1 and words[-1] in _UNIT_WORDS:
        words.pop()
    while len(words) > 1 and words[0] in _COUNT_WORDS:
        words.pop(0)
    return "".join(words)


_KEYS: dict[str, str] = {}
for _field, _aliases in ALIASES.items():
    for _alias in (*_aliases, _field):
        _KEYS.setdefault(header_key(_alias), _field)
_COMMUNE_KEY = header_key("commune")
_KEYS.pop(_COMMUNE_KEY, None)


@dataclass
class RawTable:
    """Cells of a file as read, before any interpretation, with their row numbers."""

    file: str
    rows: list[tuple[int, list[object]]]  # (row number as the user sees it, cells)


# --------------------------------------------------------------------------------------------
# Step 1: raw cells
# --------------------------------------------------------------------------------------------

def read_cells(path: Path) -> RawTable:
    """All non-blank rows of a CSV or the relevant sheet of an XLSX, or a clear error."""
    name = path.name
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputError(Problem(
            "l'ancien format Excel 97-2003 (.xls) n'est pas lu. Dans Excel, faites "
            "« Fichier > Enregistrer sous » et choisissez « Classeur Excel (.xlsx) » ou "
            "« CSV (séparateur : point-virgule) ».", file=name))
    if suffix not in TEXT_SUFFIXES + EXCEL_SUFFIXES:
        raise InputError(Problem(
            f"extension « {path.suffix or '(aucune)'} » non prise en charge. Donnez un classeur "
            "Excel (.xlsx) ou un fichier CSV (.csv).", file=name))
    if not path.is_file():
        raise InputError(Problem(
            "fichier introuvable. Vérifiez le chemin et le nom du fichier.", file=name))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(f"fichier illisible ({exc.strerror}).", file=name)) from exc
    if suffix in EXCEL_SUFFIXES:
        rows = _excel_rows(data, name)
    else:
        text = decode(data)
        if "\x00" in text:
            raise InputError(Problem(
                "fichier illisible : ce n'est pas un texte CSV (contenu binaire). Enregistrez vos "
                "données au format .xlsx ou « CSV (séparateur : point-virgule) ».", file=name))
        rows = _text_rows(text)
    kept = [(i, cells) for i, cells in rows if any(not _blank(c) for c in cells)]
    return RawTable(name, kept)


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def decode(data: bytes) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), else Windows-1252 (Excel's French default)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return data.decode("latin-1")


def sniff_separator(text: str) -> str:
    """The field separator: whichever of ``;``, tab or ``,`` splits the header line most.

    The header is used rather than the data lines because data lines carry decimal commas.
    On a tie ``;`` wins, then tab: French Excel writes ``;``.
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: len(next(csv.reader([first], delimiter=sep), [])) for sep in (";", "\t", ",")}
    return max(counts, key=lambda sep: counts[sep])  # max keeps the first of equal counts


def _text_rows(text: str) -> list[tuple[int, list[object]]]:
    hint = re.match(r"^\s*sep=(.)\s*?(\r\n|\n|\r|$)", text, flags=re.IGNORECASE)
    if hint:  # Excel's "sep=;" first line: Excel hides it, so rows count from the next line
        sep, text = hint.group(1), text[hint.end():]
    else:
        sep = sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    # Excel shows one row per record (a quoted cell may span lines): count records, not lines.
    return [(i, list(cells)) for i, cells in enumerate(reader, start=1)]


def _excel_rows(data: bytes, name: str) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: an .xls saved under .xlsx, or encrypted
        raise InputError(Problem(
            "ce fichier n'est pas un classeur .xlsx (ancien format .xls renommé, ou classeur "
            "protégé par mot de passe). Ouvrez-le dans Excel, retirez la protection et faites "
            "« Enregistrer sous » au format « Classeur Excel (.xlsx) ».", file=name))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputError(Problem(
            "classeur Excel illisible ou endommagé. Ouvrez-le dans Excel et enregistrez-le de "
            "nouveau au format .xlsx, ou exportez-le en CSV.", file=name)) from exc
    try:
        names = {normalise(s): s for s in workbook.sheetnames}
        sheet = workbook[names.get(normalise(SHEET_NAME), workbook.sheetnames[0])]
        return [(i, list(cells))
                for i, cells in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


# --------------------------------------------------------------------------------------------
# Step 2: headers
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Header:
    """Where the header is and which canonical field each recognised column holds."""

    row: int  # the header's row number
    columns: dict[str, int]  # canonical field -> position in the row
    labels: dict[str, str]  # canonical field -> the header as written in the file


def match_headers(table: RawTable, problems: list[Problem]) -> Header | None:
    """Find the header row and map its cells to canonical fields; unknown columns are ignored.

    A cell reading ``commune`` names the INSEE code when no other column does and its values
    look like codes; otherwise it is the commune's name (the template's « Commune »).
    """
    if not table.rows:
        return None
    candidates = table.rows[:HEADER_SEARCH_ROWS]
    row, cells = next(
        ((r, c) for r, c in candidates if INDEX in _fields_of(c)), candidates[0])
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    commune_positions = []
    for pos, cell in enumerate(cells):
        if _blank(cell):
            continue
        label = str(cell).strip()
        key = header_key(label)
        if key == _COMMUNE_KEY:
            commune_positions.append(pos)
            continue
        field = _KEYS.get(key)
        if field is None:
            _check_unit_header(key, label, table.file, row, problems)
            continue
        if field in columns:
            problems.append(Problem(
                f"deux colonnes donnent « {LABELS_FR.get(field, field)} » (« {labels[field]} » "
                f"et « {label} »). Gardez-en une seule et supprimez ou renommez l'autre.",
                file=table.file, row=row, column=label))
            continue
        columns[field] = pos
        labels[field] = label
    for pos in commune_positions:
        field = _commune_role(table, row, pos, columns)
        if field in columns:
            continue
        columns[field] = pos
        labels[field] = str(cells[pos]).strip()
    return Header(row, columns, labels)


def _fields_of(cells: list[object]) -> set[str]:
    keys = {header_key(c) for c in cells if not _blank(c)}
    fields = {_KEYS[k] for k in keys if k in _KEYS}
    if _COMMUNE_KEY in keys and INDEX not in fields:
        fields.add(INDEX)
    return fields


def _commune_role(table: RawTable, header_row: int, pos: int, columns: dict[str, int]) -> str:
    if INDEX in columns:
        return "name"
    if "name" in columns:
        return INDEX
    values = [c[pos] for r, c in table.rows if r > header_row and pos < len(c)]
    values = [v for v in values if not _blank(v)]
    codes = sum(parse_insee(v) is not None for v in values)
    return INDEX if values and codes * 2 >= len(values) else "name"


def _check_unit_header(key: str, label: str, file: str, row: int,
                       problems: list[Problem]) -> None:
    """Report a money column given in thousands of euros or per inhabitant (another unit)."""
    for marker, hint in (("keur", "en milliers d'euros"), ("k", "en milliers d'euros"),
                         ("milliers", "en milliers d'euros"), ("habitant", "par habitant"),
                         ("hab", "par habitant")):
        for stem in (key.removesuffix(marker), key.removeprefix(marker)):
            if stem != key and _KEYS.get(stem) in MONEY:
                field = _KEYS[stem]
                problems.append(Problem(
                    f"la colonne semble exprimée {hint} ; le modèle attend « "
                    f"{LABELS_FR[field]} » en euros, montant total de la commune. Convertissez "
                    "les valeurs et renommez la colonne.", file=file, row=row, column=label))
                return


# --------------------------------------------------------------------------------------------
# Step 3: values
# --------------------------------------------------------------------------------------------

def parse_insee(cell: object) -> str | None:
    """A 5-character INSEE code from a cell, restoring the leading zero Excel drops; else None."""
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, int | float | np.integer | np.floating):
        if not math.isfinite(cell) or cell != int(cell) or not 1000 <= cell <= 99999:
            return None
        text = str(int(cell))
    else:
        text = _SPACES.sub("", str(cell)).upper()
        text = re.sub(r"^(\d+)\.0+$", r"\1", text)  # 1001.0 from a float column
    if len(text) == 4 and text.isdigit():
        text = "0" + text
    return text if _INSEE.match(text) else None


def parse_number(cell: object) -> float:
    """A float from a cell as French users write it; ``nan`` for a blank; ``ValueError`` else.

    Accepts numbers from Excel, ``1234,56``, ``1 234 567,89`` (space, U+00A0 or U+202F between
    thousands), ``1.234.567,89``, ``1,234,567.89``, ``1234.5``, ``1,5E+06`` and a trailing
    ``€`` or ``%``. A single ``,`` or ``.`` is a decimal mark; groups after a thousands
    separator must have three digits, so ``12 34`` is refused rather than guessed.
    """
    if cell is None:
        return math.nan
    if isinstance(cell, bool) or isinstance(cell, datetime | date | time):
        raise ValueError(cell)
    if isinstance(cell, int | float | np.integer | np.floating):
        value = float(cell)
    else:
        value = _parse_text(str(cell))
    if not math.isfinite(value) and not math.isnan(value):
        raise ValueError(cell)
    return value


def _parse_text(text: str) -> float:
    text = text.strip().replace("\u2212", "-")
    lowered = text.lower()
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix):
            text = text[: -len(suffix)].rstrip()
            break
    if not text:
        return math.nan
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:].lstrip()
    mantissa, exponent = text, ""
    match = re.match(r"^(.*?)([eE][+-]?\d+)$", text)
    if match:
        mantissa, exponent = match.groups()
    has_space = bool(_SPACES.search(mantissa))
    commas, dots = mantissa.count(","), mantissa.count(".")
    if commas and dots:
        decimal = "," if mantissa.rfind(",") > mantissa.rfind(".") else "."
    elif commas == 1 or dots == 1:
        decimal = "," if commas else "."
    else:
        decimal = None
    grouped = commas > 1 or dots > 1 or bool(commas and dots)  # a mark used for thousands
    if decimal and mantissa.count(decimal) > 1:
        raise ValueError(text)
    whole, _, fraction = mantissa.partition(decimal) if decimal else (mantissa, "", "")
    if has_space or grouped:
        groups = re.split(r"[\s\u00a0\u202f\u2009\u2007,.]+", whole)
        seps = re.findall(r"[\s\u00a0\u202f\u2009\u2007,.]+", whole)
        if (len({s if s in ",." else " " for s in seps}) > 1 or not 1 <= len(groups[0]) <= 3
                or any(len(g) != 3 for g in groups[1:]) or _SPACES.search(fraction)):
            raise ValueError(text)
        whole = "".join(groups)
    plain = f"{sign}{whole}{'.' + fraction if decimal else ''}{exponent}"
    if not _NUMBER.match(plain):
        raise ValueError(text)
    return float(plain)


def _show(cell: object) -> str:
    text = str(cell).strip()
    return text if len(text) <= 40 else text[:37] + "..."


# --------------------------------------------------------------------------------------------
# Checks: each appends French problems; none raises
# --------------------------------------------------------------------------------------------

def check_required_columns(header: Header, file: str, epci: Epci | None,
                           problems: list[Problem]) -> None:
    """The INSEE code column always; population only when no EPCI provides it."""
    if INDEX not in header.columns:
        problems.append(Problem(
            "colonne du code INSEE introuvable. Ajoutez une colonne « Code INSEE » (5 caractères, "
            "par exemple 41018) en première ligne, ou partez du modèle fourni "
            "(data/templates/modele_communes.xlsx).", file=file, row=header.row))
    if epci is None and "population" not in header.columns:
        problems.append(Problem(
            "colonne « Population municipale » introuvable. Elle est obligatoire quand aucun EPCI "
            "n'est choisi : ajoutez-la, ou choisissez l'EPCI pour reprendre les populations "
            "INSEE.", file=file, row=header.row))


def check_codes(codes: pd.Series, raw: pd.Series, label: str, file: str,
                problems: list[Problem]) -> None:
    """Every row has a well-formed INSEE code (5 digits, or 2A/2B and 3 digits for Corsica)."""
    for row, code in codes.items():
        if code is not None:
            continue
        cell = raw[row]
        if _blank(cell):
            message = ("code INSEE manquant. Renseignez le code de la commune (5 caractères, "
                       "par exemple 41018) ou supprimez la ligne.")
        else:
            message = (f"code INSEE « {_show(cell)} » invalide : un code INSEE a 5 caractères, "
                       "des chiffres (41018) ou 2A/2B et 3 chiffres pour la Corse (2A004). "
                       "Corrigez-le, ou supprimez la ligne s'il s'agit d'un total ou d'un "
                       "commentaire.")
        problems.append(Problem(message, file=file, row=int(row), column=label))


def check_duplicates(codes: pd.Series, label: str, file: str,
                     problems: list[Problem]) -> None:
    """Each INSEE code appears once; a repeat names both rows."""
    first: dict[str, int] = {}
    for row, code in codes.items():
        if code is None:
            continue
        if code in first:
            problems.append(Problem(
                f"code INSEE {code} en double : il figure déjà ligne {first[code]}. "
                f"Gardez une seule ligne par commune (lignes {first[code]} et {row}).",
                file=file, row=int(row), column=label))
        else:
            first[code] = int(row)


def check_membership(codes: pd.Series, epci: Epci, label: str, file: str,
                     problems: list[Problem]) -> None:
    """Each code belongs to the chosen EPCI (perimeter of 1 January 2025)."""
    members = set(epci.communes.index)
    for row, code in codes.items():
        if code is not None and code not in members:
            problems.append(Problem(
                f"la commune {code} n'est pas membre de l'EPCI {epci.name} (SIREN {epci.siren}, "
                f"{len(members)} communes au 1er janvier 2025). Vérifiez le code INSEE, "
                "supprimez la ligne ou choisissez un autre EPCI.",
                file=file, row=int(row), column=label))


def check_populations_given(raw: pd.Series, labels: dict[str, str], file: str,
                            problems: list[Problem]) -> None:
    """Without an EPCI there is no bundled population to fall back on: no blank allowed."""
    for row in raw.index[raw.map(_blank)]:
        problems.append(Problem(
            "population manquante. Sans EPCI choisi, la population de chaque commune est "
            "obligatoire : renseignez la population municipale INSEE.",
            file=file, row=int(row), column=labels["population"]))


def _positive(s: pd.Series) -> pd.Series:
    return s.isna() | (s > 0)


def _non_negative(s: pd.Series) -> pd.Series:
    return s.isna() | (s >= 0)


def _whole(s: pd.Series) -> pd.Series:
    return s.isna() | (s == s.round())


#: French message for each named value check (failure cases of the pandera schema).
VALUE_MESSAGES = {
    "positive": "valeur {value} refusée : ce montant doit être strictement positif (en euros). "
                "Corrigez-le, ou laissez la cellule vide pour que le modèle l'estime.",
    "non_negative": "valeur {value} refusée : elle ne peut pas être négative. Corrigez-la, ou "
                    "laissez la cellule vide pour que le modèle l'estime.",
    "whole": "population {value} refusée : une population est un nombre entier d'habitants. "
             "Donnez la population municipale INSEE sans décimales.",
}
_FIELD_CHECKS = {
    "population": (("non_negative", _non_negative), ("whole", _whole)),
    **{f: (("positive", _positive),) for f in MONEY},
    **{f: (("non_negative", _non_negative),)
       for f in NUMERIC if f not in MONEY and f != "population"},
}

#: Column types and value ranges of the parsed table (index: the user's row number).
VALUES_SCHEMA = pa.DataFrameSchema(
    {
        field: pa.Column(
            float, [pa.Check(fn, name=name) for name, fn in _FIELD_CHECKS[field]],
            nullable=True, required=False)
        for field in NUMERIC
    },
    strict=False,
)


def check_values(values: pd.DataFrame, labels: dict[str, str], file: str,
                 problems: list[Problem]) -> None:
    """Ranges and integrality through :data:`VALUES_SCHEMA`, translated into French problems."""
    try:
        VALUES_SCHEMA.validate(values, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        order = {f: i for i, f in enumerate(NUMERIC)}
        cases = cases.assign(_o=cases["column"].map(order)).sort_values(["index", "_o"])
        for case in cases.itertuples():
            template = VALUE_MESSAGES.get(case.check)
            if template is None:  # a type failure would be a bug in the parsing above
                raise
            problems.append(Problem(
                template.format(value=_french(case.failure_case)),
                file=file, row=int(case.index), column=labels[case.column]))


def _french(value: float) -> str:
    text = f"{value:.12g}"
    return text.replace(".", ",")


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------

def read_user_table(path: str | Path, epci: Epci | None = None) -> pd.DataFrame:
    """Per-commune figures from a user's CSV or XLSX, validated; every problem raised at once.

    Returns a frame indexed by ``commune`` (INSEE code, 5-character string) with ``name`` if
    the file gives it and the :data:`~model.data.schema.NUMERIC` fields the file has, as floats
    (``NaN`` for a blank cell, which the caller estimates). Columns the file lacks are absent.
    With ``epci`` given, codes must be members and population may be missing (the caller takes
    the bundled figure); without it the population column and every population are required.

    Raises:
        InputError: listing every problem, each with file, row (header = row 1) and column.
    """
    path = Path(path)
    file = path.name
    table = read_cells(path)
    problems: list[Problem] = []
    header = match_headers(table, problems)
    if header is None:
        raise InputError(Problem(
            "le fichier est vide. Remplissez une ligne par commune sous la ligne d'en-tête "
            "(partez du modèle data/templates/modele_communes.xlsx).", file=file))
    data = [(r, c) for r, c in table.rows if r > header.row]
    check_required_columns(header, file, epci, problems)
    if not data:
        problems.append(Problem(
            "aucune ligne de données sous l'en-tête. Remplissez une ligne par commune à partir "
            "de la ligne suivante.", file=file, row=header.row))
    if problems and (INDEX not in header.columns or not data):
        raise InputError(problems)

    rows = pd.Index([r for r, _ in data], name="row")

    def column(field: str) -> pd.Series:
        pos = header.columns[field]
        return pd.Series([c[pos] if pos < len(c) else None for _, c in data],
                         index=rows, dtype=object)

    raw_codes = column(INDEX)
    codes = pd.Series([parse_insee(c) for c in raw_codes], index=rows, dtype=object)
    code_label = header.labels[INDEX]
    check_codes(codes, raw_codes, code_label, file, problems)
    check_duplicates(codes, code_label, file, problems)
    if epci is not None:
        check_membership(codes, epci, code_label, file, problems)

    numeric = [f for f in NUMERIC if f in header.columns]
    values = pd.DataFrame(index=rows)
    for field in numeric:
        parsed = []
        for row, cell in column(field).items():
            try:
                parsed.append(parse_number(cell))
            except ValueError:
                parsed.append(math.nan)
                problems.append(Problem(
                    f"valeur « {_show(cell)} » non numérique. Écrivez un nombre (par exemple "
                    "1 234,56 ou 1234.56), sans texte ni unité autre que €, ou laissez la cellule "
                    "vide pour que le modèle l'estime.",
                    file=file, row=int(row), column=header.labels[field]))
        values[field] = np.array(parsed, dtype=float)
    check_values(values, header.labels, file, problems)
    if epci is None and "population" in header.columns:
        check_populations_given(column("population"), header.labels, file, problems)

    if problems:
        problems.sort(key=lambda p: (p.row is not None, p.row or 0,
                                     _position(header, p.column)))
        raise InputError(problems)

    result = values.copy()
    if "name" in header.columns:
        names = column("name").map(lambda c: None if _blank(c) else str(c).strip())
        result.insert(0, "name", pd.Series(names, dtype="str"))
    result.index = pd.Index(codes.to_numpy(dtype=str), name=INDEX, dtype="str")
    result.attrs["file"] = file
    return result


def _position(header: Header, label: str | None) -> int:
    for field, written in header.labels.items():
        if written == label:
            return header.columns[field]
    return -1
