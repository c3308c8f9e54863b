"""Reading the per-commune figures users bring from Excel or CSV, and validating them.

French finance directors produce files from Excel, their accounting software or by hand: UTF-8
or Windows-1252 text, ``;`` separators with decimal commas, thousands separators made of spaces
(including the non-breaking ones Excel writes) or of dots (« 11.905 »), a trailing ``€``, leading
zeros lost from INSEE codes. This module accepts all of that and reports every problem at once,
each with the file, row and column as the user sees them (header on row 1, first data row on row
2), in French and with a hint on how to fix it (style habit 3: validate before building, collect,
raise once).

Reading proceeds in three steps: raw cells (:func:`read_cells`), header matching
(:func:`match_headers`), then parsing and checks (``check_*``, a pandera schema for the value
ranges, and :mod:`model.data.plausibility` for figures that are well formed but implausible).
Nothing is written anywhere.

Nothing the user gave is dropped silently. What cannot be read right is an error: a header
close to a known one (« Recettes réeles de fonctionement »), a merged cell or a formula Excel
never calculated in a column the model reads, a number whose dot may separate thousands or
decimals when the file does not tell which, a CSV row with more values than the header (a comma
separator with decimal commas), a quote that swallows the following lines, an impossible figure.
What is read but deserves a look is a **warning**, a French line starting with « Attention : »:
columns not recognised (ignored), data under no header, unusual figures.

Warnings: :func:`read_user_file` returns ``(table, warnings)``. :func:`read_user_table` (the entry
point of ``model.scenario`` and ``model.ui.panels``) returns the table only; it emits each warning
through the standard ``warnings`` module as a :class:`UserFileWarning` (a ``UserWarning``: catch
them with ``warnings.catch_warnings(record=True)``) and also leaves them in
``table.attrs["warnings"]``.

Limits: files over :data:`MAX_FILE_BYTES`, workbooks over :data:`MAX_UNZIPPED_BYTES` once
unzipped and sheets over :data:`MAX_ROWS` rows are refused with a French message; workbooks are
streamed (openpyxl ``read_only``); when many rows share a problem the report shows the first
:data:`SUMMARY_KEEP` and lists the other rows, and the whole report stays under
:data:`MAX_MESSAGE_CHARS` characters.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from dataclasses import field as _dc_field
from datetime import date, datetime, time
from functools import lru_cache
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
#: Largest file read (an EPCI has at most a few hundred communes; France has 34,900).
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Largest total size of a workbook's parts once unzipped (a 200 KB file can unzip to gigabytes).
MAX_UNZIPPED_BYTES = 40 * 1024 * 1024
#: Most rows read (CSV records, or sheet rows); more is refused.
MAX_ROWS = 40_000
#: Columns of a sheet beyond this one are not read (a non-blank cell there is a warning);
#: a CSV row with more (non-blank) fields is refused.
MAX_COLUMNS = 200
#: A problem shared by more rows than this is summarised: the first SUMMARY_KEEP, then row numbers.
SUMMARY_AFTER = 10
SUMMARY_KEEP = 5
#: Largest error report (characters); the rest is counted, not shown.
MAX_MESSAGE_CHARS = 20_000
#: difflib ratio above which an unknown header is taken for a misspelling of a known one.
NEAR_MISS_CUTOFF = 0.85


class UserFileWarning(UserWarning):
    """A figure or column of a user's file that is used (or ignored) but deserves a look."""


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
#: Every known header form, for near-miss suggestions (only forms long enough to be misspelt).
_NEAR_KEYS = sorted(k for k in _KEYS if len(k) >= 4)


@dataclass
class RawTable:
    """Cells of a file as read, before any interpretation, with their row numbers."""

    file: str
    rows: list[tuple[int, list[object]]]  # (row number as the user sees it, cells)
    kind: str = "csv"  # "csv" or "xlsx"
    sheet: str | None = None  # the sheet read (workbooks)
    separator: str | None = None  # the field separator (CSV)
    #: (row, position) -> formula of a cell Excel never calculated (no cached value).
    formulas: dict[tuple[int, int], str] = _dc_field(default_factory=dict)
    #: Merged ranges: (first row, first position, last row, last position, "B3:B4").
    merged: list[tuple[int, int, int, int, str]] = _dc_field(default_factory=list)
    #: Warnings found while reading (cells beyond the last column read, rows not read).
    notes: list[Problem] = _dc_field(default_factory=list)


def column_letter(pos: int) -> str:
    """Excel's letter of a 0-based column position (0 -> A, 27 -> AB)."""
    letters = ""
    pos += 1
    while pos:
        pos, rest = divmod(pos - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _mo(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".replace(".", ",") + " Mo"


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
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(Problem(
                f"fichier trop volumineux ({_mo(size)} ; au plus {_mo(MAX_FILE_BYTES)}). Le "
                "modèle lit une ligne par commune de l'EPCI : gardez seulement ces communes "
                "(pas un fichier national) et les colonnes du modèle "
                "(data/templates/modele_communes.xlsx).", file=name))
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(f"fichier illisible ({exc.strerror}).", file=name)) from exc
    if suffix in EXCEL_SUFFIXES:
        table = _excel_table(data, name)
    else:
        text = decode(data)
        if "\x00" in text:
            raise InputError(Problem(
                "fichier illisible : ce n'est pas un texte CSV (contenu binaire). Enregistrez vos "
                "données au format .xlsx ou « CSV (séparateur : point-virgule) ».", file=name))
        rows, separator = _text_rows(text, name)
        table = RawTable(name, rows, separator=separator)
    table.rows = [(i, cells) for i, cells in table.rows if any(not _blank(c) for c in cells)]
    return table


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
    counts = {}
    for sep in (";", "\t", ","):
        try:
            counts[sep] = len(next(csv.reader([first], delimiter=sep), []))
        except csv.Error:  # a field over csv's limit: this separator does not split the line
            counts[sep] = 0
    return max(counts, key=lambda sep: counts[sep])  # max keeps the first of equal counts


def _text_rows(text: str, name: str = "") -> tuple[list[tuple[int, list[object]]], str]:
    """Records of a CSV text, numbered as Excel shows them (a quoted cell may span lines).

    A quote that opens a cell and is closed lines later (or never) swallows the rows between
    into one cell: a cell holding a line break and the separator is reported with the lines it
    spans, rather than read as one commune's name.
    """
    hint = re.match(r"^\s*sep=(.)\s*?(\r\n|\n|\r|$)", text, flags=re.IGNORECASE)
    skipped = 0
    if hint:  # Excel's "sep=;" first line: Excel hides it, so rows count from the next line
        sep, text = hint.group(1), text[hint.end():]
        skipped = 1
        if sep in "\"\r\n" or sep.isalnum():
            raise InputError(Problem(
                f"première ligne « sep={sep} » : séparateur non pris en charge. Supprimez cette "
                "ligne ou écrivez « sep=; ».", file=name))
    else:
        sep = sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows: list[tuple[int, list[object]]] = []
    problems: list[Problem] = []
    line = 0
    record = 0
    try:
        for record, cells in enumerate(reader, start=1):
            first, line = line + 1, reader.line_num
            if record > MAX_ROWS:
                raise InputError(_too_many_rows(name))
            while cells and not cells[-1].strip():  # Excel pads rows with empty fields
                cells.pop()
            if len(cells) > MAX_COLUMNS:
                raise InputError(Problem(
                    f"{_fr_int(len(cells))} colonnes (au plus {MAX_COLUMNS}) : ce n'est pas un "
                    "tableau d'une ligne par commune. Gardez les colonnes du modèle "
                    "(data/templates/modele_communes.xlsx).", file=name, row=record))
            if line > first:
                swallowed = next((c for c in cells if ("\n" in c or "\r" in c) and sep in c), None)
                if swallowed is not None and len(problems) < SUMMARY_KEEP:
                    problems.append(Problem(
                        f"un guillemet (\") ouvre une cellule qui s'étend de la ligne "
                        f"{first + skipped} à la ligne {line + skipped} du fichier : ces lignes "
                        f"sont lues comme une seule cellule (« {_show(swallowed)} »). Supprimez ce "
                        "guillemet, ou doublez-le (\"\") s'il fait partie du texte.",
                        file=name, row=record))
            rows.append((record, list(cells)))
    except csv.Error as exc:
        raise InputError(Problem(
            f"texte illisible à partir de la ligne {line + 1 + skipped} du fichier ({exc}) : un "
            "guillemet (\") jamais refermé avale probablement la suite du fichier. Supprimez-le, "
            "ou doublez-le (\"\") s'il fait partie du texte.", file=name, row=record + 1)) from exc
    if problems:
        raise InputError(problems)
    return rows, sep


def _too_many_rows(name: str, where: str = "") -> Problem:
    return Problem(
        f"plus de {_fr_int(MAX_ROWS)} lignes{where} : le modèle lit une ligne par commune de "
        "l'EPCI. Gardez seulement ces communes (pas un fichier national), et supprimez les "
        "lignes vides ou mises en forme en dessous du tableau.", file=name)


def _fr_int(n: int) -> str:
    return f"{n:,}".replace(",", " ")


_READ_ERRORS = (zipfile.BadZipFile, zlib.error, KeyError, OSError, ValueError, TypeError,
                IndexError, AttributeError, SyntaxError, EOFError, NotImplementedError)


def _excel_table(data: bytes, name: str) -> RawTable:
    """The « Communes » sheet (else the first), streamed: values, formulas Excel never
    calculated, merged ranges. Rows past :data:`MAX_ROWS` are refused when not blank."""
    from openpyxl.utils.exceptions import InvalidFileException

    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: an .xls saved under .xlsx, or encrypted
        raise InputError(Problem(
            "ce fichier n'est pas un classeur .xlsx (ancien format .xls renommé, ou classeur "
            "protégé par mot de passe). Ouvrez-le dans Excel, retirez la protection et faites "
            "« Enregistrer sous » au format « Classeur Excel (.xlsx) ».", file=name))
    unreadable = Problem(
        "classeur Excel illisible ou endommagé. Ouvrez-le dans Excel et enregistrez-le de "
        "nouveau au format .xlsx, ou exportez-le en CSV.", file=name)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(unreadable) from exc
    if unzipped > MAX_UNZIPPED_BYTES:
        raise InputError(Problem(
            f"classeur trop volumineux une fois décompressé ({_mo(unzipped)} ; au plus "
            f"{_mo(MAX_UNZIPPED_BYTES)}) : il contient bien plus que le tableau des communes "
            "(mise en forme sur des milliers de lignes, autres feuilles). Copiez le tableau dans "
            "un nouveau classeur, ou enregistrez-le en CSV.", file=name))
    # openpyxl's pieces rather than load_workbook: load_workbook(read_only=True) scans every
    # sheet once for its size before a single row is read.
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, *_READ_ERRORS) as exc:
        raise InputError(unreadable) from exc
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = [(sheet.name, rel.target) for sheet, rel in reader.parser.find_sheets()
                  if rel.target in reader.valid_files and "chartsheet" not in (rel.Type or "")]
        if not sheets:
            raise InputError(unreadable)
        by_name = {normalise(title): (title, target) for title, target in sheets}
        title, target = by_name.get(normalise(SHEET_NAME), sheets[0])
        return _sheet_table(reader, title, target, name)
    except InputError:
        raise
    except (InvalidFileException, *_READ_ERRORS) as exc:
        raise InputError(unreadable) from exc
    finally:
        reader.archive.close()


def _sheet_parser():
    """openpyxl's streaming sheet parser, noting each formula and whether it has a result."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            formula = element.find(FORMULA_TAG)
            if formula is not None:
                cell["formula"] = "=" + (formula.text or "...")
                # a result Excel computed: a value, or an empty text (t="str", =SI(...;"";...))
                cached = element.findtext(VALUE_TAG) or element.get("t") == "str"
                cell["cached"] = bool(cached)
            return cell

    return Parser


def _sheet_table(reader, title: str, target: str, name: str) -> RawTable:
    workbook = reader.wb
    table = RawTable(name, [], kind="xlsx", sheet=title)
    parser = _sheet_parser()(
        reader.archive.open(target), reader.shared_strings, data_only=True,
        epoch=workbook.epoch, date_formats=workbook._date_formats,
        timedelta_formats=workbook._timedelta_formats)
    beyond: tuple[int, int] | None = None
    complete = True
    # Files written by programs (openpyxl, XlsxWriter) ask Excel to recalculate everything on
    # opening (fullCalcOnLoad) and store no result, or 0: their formulas cannot be trusted.
    # (openpyxl's parsed calcPr defaults fullCalcOnLoad to True: read the attribute itself)
    book = reader.archive.read(reader.parser.workbook_part_name)
    recalculate = bool(re.search(rb'fullCalcOnLoad\s*=\s*["\'](1|true)["\']', book))
    try:
        for row, cells in parser.parse():
            if row > MAX_ROWS:
                full = next((c for c in cells if not _blank(c["value"])), None)
                if full is not None:
                    raise InputError(_too_many_rows(
                        name, f" dans la feuille « {title} » (cellule "
                              f"{column_letter(full['column'] - 1)}{row} remplie)"))
                table.notes.append(Problem(
                    f"la feuille « {title} » a des lignes mises en forme au-delà de la ligne "
                    f"{_fr_int(MAX_ROWS)} : elles ne sont pas lues.", file=name, row=row))
                complete = False
                break
            values: dict[int, object] = {}
            for cell in cells:
                col = cell["column"]
                if col > MAX_COLUMNS:
                    if beyond is None and not _blank(cell["value"]):
                        beyond = (row, col)
                    continue
                values[col] = cell["value"]
                if "formula" in cell and (recalculate or not cell["cached"]):
                    table.formulas[(row, col - 1)] = cell["formula"]
            if values:
                line: list[object] = [None] * max(values)
                for col, value in values.items():
                    line[col - 1] = value
                table.rows.append((row, line))
    finally:
        parser.source.close()
    if beyond is not None:
        table.notes.append(Problem(
            f"la cellule {column_letter(beyond[1] - 1)}{beyond[0]} de la feuille « {title} »"
            f" est au-delà de la colonne {column_letter(MAX_COLUMNS - 1)} : elle n'est pas lue.",
            file=name, row=beyond[0]))
    if complete and parser.merged_cells is not None:
        for merged in parser.merged_cells.mergeCell:
            c1, r1, c2, r2 = merged.bounds
            table.merged.append((r1, c1 - 1, r2, c2 - 1, merged.coord))
    return table


# --------------------------------------------------------------------------------------------
# Step 2: headers
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Header:
    """Where the header is and which canonical field each recognised column holds."""

    row: int  # the header's row number
    columns: dict[str, int]  # canonical field -> position in the row
    labels: dict[str, str]  # canonical field -> the header as written in the file
    width: int = 0  # position after the last non-blank header cell
    ignored: tuple[int, ...] = ()  # positions of the headers not recognised (ignored columns)


def _label(cell: object) -> str:
    text = " ".join(str(cell).split())
    return text if len(text) <= 60 else text[:57] + "..."


@lru_cache(maxsize=4096)
def near_miss(key: str) -> str | None:
    """The field a header key seems to misspell (``difflib`` on the known forms, or the key with
    a year or other digits removed: « RRF 2024 »), else None."""
    if not 3 <= len(key) <= 100:  # no header is longer: a long cell is text, not a typo
        return None
    stripped = re.sub(r"\d+", "", key)
    if stripped != key and stripped in _KEYS:
        return _KEYS[stripped]
    hits = difflib.get_close_matches(key, _NEAR_KEYS, n=1, cutoff=NEAR_MISS_CUTOFF)
    return _KEYS[hits[0]] if hits else None


def match_headers(table: RawTable, problems: list[Problem],
                  notes: list[Problem] | None = None) -> Header | None:
    """Find the header row and map its cells to canonical fields.

    A cell reading ``commune`` names the INSEE code when no other column does and its values
    look like codes; otherwise it is the commune's name (the template's « Commune »). A header
    close to a known one (:func:`near_miss`) for a field no other column gives is an error with
    the suggestion; other headers not recognised are listed in a warning (``notes``) and their
    columns ignored.
    """
    if not table.rows:
        return None
    candidates = table.rows[:HEADER_SEARCH_ROWS]
    row, cells = next(((r, c) for r, c in candidates if INDEX in _fields_of(c)), (None, None))
    if row is None:  # no code column: the row that looks most like a header
        row, cells = max(candidates, key=lambda rc: len(_fields_of(rc[1], near=True)))
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    commune_positions = []
    unknown: list[tuple[int, str, str | None]] = []  # (position, label, near-miss field)
    for pos, cell in enumerate(cells):
        if _blank(cell):
            continue
        label = _label(cell)
        key = header_key(cell)
        if key == _COMMUNE_KEY:
            commune_positions.append(pos)
            continue
        fld = _KEYS.get(key)
        if fld is None:
            if not _check_unit_header(key, label, table.file, row, problems):
                unknown.append((pos, label, near_miss(key)))
            continue
        if fld in columns:
            problems.append(Problem(
                f"deux colonnes donnent « {LABELS_FR.get(fld, fld)} » (« {labels[fld]} » "
                f"et « {label} »). Gardez-en une seule et supprimez ou renommez l'autre.",
                file=table.file, row=row, column=label))
            continue
        columns[fld] = pos
        labels[fld] = label
    for pos in commune_positions:
        fld = _commune_role(table, row, pos, columns)
        if fld in columns:
            unknown.append((pos, _label(cells[pos]), None))
            continue
        columns[fld] = pos
        labels[fld] = _label(cells[pos])
    ignored = []
    listed = []
    for pos, label, guess in unknown:
        if guess is not None and guess not in columns:
            problems.append(Problem(
                f"vouliez-vous dire « {LABELS_FR[guess]} » ? Cet en-tête n'est pas reconnu : "
                "corrigez-le comme dans le modèle (data/templates/modele_communes.xlsx), sinon "
                "les valeurs de cette colonne seraient ignorées et estimées.",
                file=table.file, row=row, column=label))
            continue
        ignored.append(pos)
        also = (f", proche de « {LABELS_FR[guess]} » déjà lue colonne "
                f"{column_letter(columns[guess])}") if guess is not None else ""
        listed.append(f"« {label} » (colonne {column_letter(pos)}{also})")
    if listed and notes is not None:
        shown = listed[:10] + ([f"et {len(listed) - 10} autres"] if len(listed) > 10 else [])
        notes.append(Problem(
            f"colonne{'s' if len(listed) > 1 else ''} non reconnue{'s' if len(listed) > 1 else ''}"
            f", ignorée{'s' if len(listed) > 1 else ''} : {', '.join(shown)}. Les en-têtes lus "
            "sont ceux du modèle (data/templates/modele_communes.xlsx) et leurs variantes "
            "usuelles.", file=table.file, row=row))
    width = max((pos + 1 for pos, cell in enumerate(cells) if not _blank(cell)), default=0)
    return Header(row, columns, labels, width, tuple(ignored))


def _fields_of(cells: list[object], near: bool = False) -> set[str]:
    keys = {header_key(c) for c in cells if not _blank(c)}
    fields = {_KEYS[k] for k in keys if k in _KEYS}
    if _COMMUNE_KEY in keys and INDEX not in fields:
        fields.add(INDEX)
    if near:
        fields |= {f for f in map(near_miss, keys - set(_KEYS)) if f is not None}
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
                       problems: list[Problem]) -> bool:
    """Report a money column given in thousands of euros or per inhabitant (another unit)."""
    for marker, hint in (("keur", "en milliers d'euros"), ("k", "en milliers d'euros"),
                         ("milliers", "en milliers d'euros"), ("habitant", "par habitant"),
                         ("hab", "par habitant")):
        for stem in (key.removesuffix(marker), key.removeprefix(marker)):
            if stem != key and _KEYS.get(stem) in MONEY:
                fld = _KEYS[stem]
                problems.append(Problem(
                    f"la colonne semble exprimée {hint} ; le modèle attend « "
                    f"{LABELS_FR[fld]} » en euros, montant total de la commune. Convertissez "
                    "les valeurs et renommez la colonne.", file=file, row=row, column=label))
                return True
    return False


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


def _without_unit(text: str) -> str:
    """The text of a number with its unit suffix (€, %, ...) removed and « − » read as « - »."""
    text = text.strip().replace("\u2212", "-")
    lowered = text.lower()
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix):
            return text[: -len(suffix)].rstrip()
    return text


def _parse_text(text: str) -> float:
    text = _without_unit(text)
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
    text = " ".join(str(cell).split())
    return text if len(text) <= 40 else text[:37] + "..."


# --------------------------------------------------------------------------------------------
# The decimal mark of a file: « 11.905 » is 11 905 in a file with decimal commas
# --------------------------------------------------------------------------------------------

class AmbiguousNumber(ValueError):
    """« 11.905 »: a dot (or comma) before exactly three digits, and the file does not say
    whether it separates thousands or decimals."""


#: One to three digits (not starting with 0), one mark, exactly three digits: 11.905, 1,250.
_AMBIGUOUS = re.compile(r"^([1-9]\d{0,2})([.,])(\d{3})$")
_MARKS_ONLY = re.compile(r"^[\d\s\u00a0\u202f\u2009\u2007.,]*\d[\d\s\u00a0\u202f\u2009\u2007.,]*$")


def _mantissa(text: str) -> str:
    """The digits and marks of a number written as text: sign, unit and exponent removed."""
    text = _without_unit(text)
    if text[:1] in ("+", "-"):
        text = text[1:].lstrip()
    return re.sub(r"[eE][+-]?\d+$", "", text)


def decimal_marks(cell: object) -> set[str]:
    """The marks a number written as text shows to be decimal.

    ``1 234,5`` and ``1.234.567`` (dots group thousands) show ``,``; ``1,234.5``, ``1,234,567``
    and ``1234.5`` show ``.``; ``11.905`` or ``1,250`` show nothing (either reading works), nor
    does a number without a mark or a cell that is not a number.
    """
    if not isinstance(cell, str):
        return set()
    m = _mantissa(cell)
    if not _MARKS_ONLY.match(m):
        return set()
    commas, dots = m.count(","), m.count(".")
    if commas and dots:
        return {"," if m.rfind(",") > m.rfind(".") else "."}
    if commas > 1:
        return {"."}
    if dots > 1:
        return {","}
    if not commas and not dots:
        return set()
    mark = "," if commas else "."
    if _AMBIGUOUS.match(m):
        return set()
    return {mark}


def read_number(cell: object, marks: set[str] | frozenset[str] = frozenset()) -> float:
    """:func:`parse_number`, reading ``11.905`` and ``1,250`` by the file's decimal mark.

    ``marks`` are the decimal marks the file's other numbers show (:func:`decimal_marks`). A
    dot before exactly three digits separates thousands when the file's decimal mark is the
    comma (a French habit: ``11.905`` is 11 905), decimals when it is the dot; a comma before
    three digits likewise. With no evidence a comma is decimal (French) and a dot is
    :class:`AmbiguousNumber`, as is either mark in a file that uses both.
    """
    if isinstance(cell, str):
        hit = _AMBIGUOUS.match(_mantissa(cell))
        if hit:
            mark = hit.group(2)
            other = "." if mark == "," else ","
            if set(marks) == {other}:
                return parse_number(cell.replace(mark, "", 1))
            if set(marks) == {mark} or (mark == "," and not marks):
                return parse_number(cell)
            raise AmbiguousNumber(cell)
    return parse_number(cell)


def _ambiguous_message(cell: object) -> str:
    whole, _mark, frac = _AMBIGUOUS.match(_mantissa(str(cell))).groups()
    return (f"valeur « {_show(cell)} » ambiguë : milliers ({whole} {frac}) ou décimales "
            f"({whole},{frac}) ? Le fichier ne permet pas de trancher. Écrivez {whole}{frac} "
            f"pour {whole} {frac}, ou {whole},{frac} avec une virgule décimale.")


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
    """Each code belongs to the chosen EPCI (perimeter of 1 January 2025). A file that mostly
    describes another EPCI gets one sentence that names it, not a line per commune."""
    members = set(epci.communes.index)
    given = [c for c in codes if c is not None]
    outside = [c for c in given if c not in members]
    if given and len(outside) * 2 >= len(given):
        from model.data.bundled import epci_catalog, epci_of_commune

        owners = pd.Series([epci_of_commune().get(c) for c in outside]).value_counts()
        if len(owners) and owners.iloc[0] * 2 > len(given):
            other = epci_catalog().loc[owners.index[0]]
            problems.append(Problem(
                f"ce fichier décrit les communes de {other['epci_name']} ({owners.iloc[0]} des "
                f"{len(given)} communes du fichier), pas de {epci.name}. Choisissez "
                f"{other['epci_name']} (SIREN {owners.index[0]}) dans la liste des EPCI, ou "
                f"téléchargez le modèle pré-rempli de {epci.name}.", file=file, column=label))
            return
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


def check_layout(table: RawTable, header: Header, data: list[tuple[int, list[object]]],
                 problems: list[Problem], notes: list[Problem]) -> bool:
    """Values the header does not name. In a CSV, a row with more values than the header is an
    error (the columns are shifted: a comma separator with decimal commas, or a separator inside
    a value); in a workbook, and under a blank header cell, the values are ignored with a
    warning. Returns True when the columns cannot be trusted (stop reading)."""
    file = table.file
    if table.kind == "csv":
        bad = [(r, c) for r, c in data if any(not _blank(x) for x in c[header.width:])]
        if bad:
            row, cells = bad[0]
            count = max(i + 1 for i, x in enumerate(cells) if not _blank(x))
            others = (f" (et {_fr_int(len(bad) - 1)} autre{'s' if len(bad) > 2 else ''} "
                      f"ligne{'s' if len(bad) > 2 else ''} dans ce cas)") if len(bad) > 1 else ""
            if table.separator == ",":
                hint = ("Le fichier est séparé par des virgules : une virgule décimale (1234,56) "
                        "y coupe le nombre en deux. Dans Excel, enregistrez-le en « CSV "
                        "(séparateur : point-virgule) », ou écrivez les nombres avec un point "
                        "décimal ou entre guillemets.")
            else:
                sep = "tabulation" if table.separator == "\t" else f"« {table.separator} »"
                hint = (f"Une valeur contient-elle le séparateur {sep} ? Mettez-la entre "
                        "guillemets, ou ajoutez l'en-tête de la colonne qui manque.")
            problems.append(Problem(
                f"{count} valeurs pour {header.width} colonnes d'en-tête{others} : les valeurs "
                f"seraient décalées d'une colonne. {hint}", file=file, row=row))
            return True
    header_cells = next(c for r, c in table.rows if r == header.row)
    orphans: dict[int, int] = {}
    for _row, cells in data:
        for pos, cell in enumerate(cells):
            if not _blank(cell) and (pos >= len(header_cells) or _blank(header_cells[pos])):
                orphans[pos] = orphans.get(pos, 0) + 1
    if orphans:
        listed = [f"{column_letter(pos)} ({n} valeur{'s' if n > 1 else ''})"
                  for pos, n in sorted(orphans.items())]
        plural = "s" if len(listed) > 1 else ""
        notes.append(Problem(
            f"colonne{plural} sans en-tête, ignorée{plural} : {', '.join(listed[:10])}"
            f"{' ...' if len(listed) > 10 else ''}. Donnez-leur un en-tête du modèle si elles "
            "doivent être lues.", file=file, row=header.row))
    return False


def check_cells(table: RawTable, header: Header, problems: list[Problem]) -> None:
    """Workbook cells that would be read blank though they are not: a formula Excel never
    calculated, a cell covered by a merge, in the code column or a numeric column."""
    read = {pos: f for f, pos in header.columns.items() if f == INDEX or f in NUMERIC}
    where = f"de la feuille « {table.sheet} »"
    for (row, pos), formula in sorted(table.formulas.items()):
        if row > header.row and pos in read:
            problems.append(Problem(
                f"la cellule {column_letter(pos)}{row} {where} contient une formule "
                f"({_show(formula)}) dont le résultat n'a jamais été calculé par Excel (fichier "
                "produit par un programme) : le modèle ne calcule pas les formules et lirait une "
                "cellule vide (ou 0). Ouvrez le fichier dans Excel ou LibreOffice et "
                "enregistrez-le, ou remplacez la formule par sa valeur.", file=table.file, row=row, column=header.labels[read[pos]]))
    for r1, c1, r2, c2, ref in table.merged:
        lost = [(r, c) for c in range(c1, c2 + 1) if c in read
                for r in range(max(r1, header.row + 1), r2 + 1) if (r, c) != (r1, c1)]
        if lost:
            row, pos = min(lost)
            problems.append(Problem(
                f"cellules {ref} fusionnées {where} : seule la première cellule d'une fusion "
                f"garde sa valeur, {column_letter(pos)}{row} serait lue vide et estimée. "
                "Défusionnez-les (Accueil > Fusionner et centrer) et écrivez la valeur de chaque "
                "commune dans sa cellule.", file=table.file, row=row,
                column=header.labels[read[pos]]))


# --------------------------------------------------------------------------------------------
# Reports that stay readable: many rows with one problem are summarised
# --------------------------------------------------------------------------------------------

_KIND_LABELS = (
    ("n'est pas membre de l'EPCI", "hors EPCI"),
    ("code INSEE manquant", "sans code INSEE"),
    ("invalide : un code INSEE", "au code INSEE invalide"),
    ("en double", "au code INSEE en double"),
    ("non numérique", "aux valeurs non numériques"),
    ("ambiguë", "aux nombres ambigus"),
    ("jamais été calculé", "aux formules jamais calculées"),
    ("fusionnées", "aux cellules fusionnées"),
    ("population manquante", "sans population"),
    ("refusée", "aux valeurs refusées"),
)


def _kind(problem: Problem, kinds: dict[int, tuple[str, str]]) -> str:
    if id(problem) in kinds:
        return f"{problem.column}|{kinds[id(problem)][0]}"
    text = re.sub(r"«[^»]*»", "«»", problem.message)
    text = re.sub(r"\b2[AB][0-9]{3}\b", "0", text)  # Corsican INSEE codes are numbers too
    return f"{problem.column}|{re.sub(r'[0-9](?:[0-9 .,]*[0-9])?', '#', text)}"


def summarise(problems: list[Problem],
              kinds: dict[int, tuple[str, str]] | None = None) -> list[Problem]:
    """The problems with every group of more than :data:`SUMMARY_AFTER` alike ones (same column
    and message but for codes, figures and quoted values; or same ``kinds`` tag, keyed by
    ``id(problem)``: ``(tag, words for the headline)``) cut to a headline, its first
    :data:`SUMMARY_KEEP` members and the row numbers of the others; then cut to
    :data:`MAX_MESSAGE_CHARS` characters."""
    kinds = kinds or {}
    groups: dict[str, list[Problem]] = {}
    keyed = []
    for problem in problems:
        key = _kind(problem, kinds)
        groups.setdefault(key, []).append(problem)
        keyed.append((key, problem))
    out: list[Problem] = []
    shown: dict[str, int] = {}
    for key, problem in keyed:
        members = groups[key]
        if len(members) <= SUMMARY_AFTER:
            out.append(problem)
            continue
        shown[key] = shown.get(key, 0) + 1
        if shown[key] == 1:
            out.append(_headline(members, kinds.get(id(problem), ("", ""))[1]))
        if shown[key] <= SUMMARY_KEEP:
            out.append(problem)
    return _capped(out)


def _headline(members: list[Problem], what: str = "") -> Problem:
    first = members[0]
    what = what or next((label for marker, label in _KIND_LABELS if marker in first.message),
                        "avec le même problème")
    rows = [p.row for p in members[SUMMARY_KEEP:] if p.row is not None]
    listed = ", ".join(_fr_int(r) for r in rows[:20]) + (", ..." if len(rows) > 20 else "")
    return Problem(
        f"{_fr_int(len(members))} lignes {what} : les {SUMMARY_KEEP} premières ci-dessous ; "
        f"les autres : ligne{'s' if len(rows) > 1 else ''} {listed}.",
        file=first.file, column=first.column)


def _capped(problems: list[Problem]) -> list[Problem]:
    out: list[Problem] = []
    total = 0
    for i, problem in enumerate(problems):
        total += len(str(problem)) + 5
        if total > MAX_MESSAGE_CHARS and out:
            out.append(Problem(
                f"... et {_fr_int(len(problems) - i)} autres problèmes non affichés : corrigez "
                "d'abord ceux-ci.", file=problem.file))
            break
        out.append(problem)
    return out


# --------------------------------------------------------------------------------------------
# The entry points
# --------------------------------------------------------------------------------------------

def read_user_file(path: str | Path, epci: Epci | None = None, *,
                   bounds: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Per-commune figures from a user's CSV or XLSX, validated, and the warnings.

    Returns the table of :func:`read_user_table` and the warnings, French lines starting with
    « Attention : » (columns ignored, unusual figures). ``bounds``: the plausibility bounds
    (default: ``plausibility`` in data/assumptions.yaml, see :mod:`model.data.plausibility`).

    Raises:
        InputError: listing every problem, each with file, row (header = row 1) and column.
    """
    from model.data.plausibility import check_plausibility, national_communes

    path = Path(path)
    file = path.name
    table = read_cells(path)
    problems: list[Problem] = []
    notes: list[Problem] = list(table.notes)
    kinds: dict[int, tuple[str, str]] = {}
    header = match_headers(table, problems, notes)
    if header is None:
        raise InputError(Problem(
            "le fichier est vide. Remplissez une ligne par commune sous la ligne d'en-tête "
            "(partez du modèle data/templates/modele_communes.xlsx).", file=file))
    data = [(r, c) for r, c in table.rows if r > header.row]

    def fail():
        problems.sort(key=lambda p: (p.row is not None, p.row or 0,
                                     _position(header, p.column)))
        return InputError(summarise(problems, kinds))

    check_required_columns(header, file, epci, problems)
    if not data:
        problems.append(Problem(
            "aucune ligne de données sous l'en-tête. Remplissez une ligne par commune à partir "
            "de la ligne suivante.", file=file, row=header.row))
    if check_layout(table, header, data, problems, notes):
        raise fail()
    check_cells(table, header, problems)
    if problems and (INDEX not in header.columns or not data):
        raise fail()

    rows = pd.Index([r for r, _ in data], name="row")

    def column(fld: str) -> pd.Series:
        pos = header.columns[fld]
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
    cells = {f: column(f) for f in numeric}
    marks: set[str] = set()
    for series in cells.values():
        for cell in series:
            if isinstance(cell, str):
                marks |= decimal_marks(cell)
    values = pd.DataFrame(index=rows)
    for fld in numeric:
        parsed = []
        for row, cell in cells[fld].items():
            try:
                parsed.append(read_number(cell, marks))
            except AmbiguousNumber:
                parsed.append(math.nan)
                problems.append(Problem(_ambiguous_message(cell), file=file, row=int(row),
                                        column=header.labels[fld]))
            except ValueError:
                parsed.append(math.nan)
                problems.append(Problem(
                    f"valeur « {_show(cell)} » non numérique. Écrivez un nombre (par exemple "
                    "1 234,56 ou 1234.56), sans texte ni unité autre que €, ou laissez la cellule "
                    "vide pour que le modèle l'estime.",
                    file=file, row=int(row), column=header.labels[fld]))
        values[fld] = np.array(parsed, dtype=float)
    check_values(values, header.labels, file, problems)
    if epci is None and "population" in header.columns:
        check_populations_given(column("population"), header.labels, file, problems)

    names = (column("name").map(lambda c: None if _blank(c) else " ".join(str(c).split()))
             if "name" in header.columns else pd.Series(None, index=rows, dtype=object))
    bundled = epci.communes if epci is not None else national_communes()
    pop_of, name_of = bundled["population"].to_dict(), bundled["name"].to_dict()
    insee = pd.Series([pop_of.get(c, math.nan) if c else math.nan for c in codes],
                      index=rows, dtype=float)
    shown_names = names.where(names.notna(), pd.Series(
        [name_of.get(c) if c else None for c in codes], index=rows, dtype=object))
    given_pop = values["population"] if "population" in values else insee * math.nan
    population = given_pop.where(given_pop.notna(), insee)
    for finding in check_plausibility(values, codes, shown_names, population, insee, bounds):
        problem = Problem(finding.message, file=file, row=finding.row,
                          column=header.labels[finding.field])
        kinds[id(problem)] = (finding.kind, finding.headline)
        (problems if finding.error else notes).append(problem)

    if problems:
        raise fail()

    result = values.copy()
    if "name" in header.columns:
        result.insert(0, "name", pd.Series(
            column("name").map(lambda c: None if _blank(c) else str(c).strip()), dtype="str"))
    result.index = pd.Index(codes.to_numpy(dtype=str), name=INDEX, dtype="str")
    result.attrs["file"] = file
    notes.sort(key=lambda p: (p.row is not None, p.row or 0, _position(header, p.column)))
    return result, [f"Attention : {p}" for p in summarise(notes, kinds)]


def read_user_table(path: str | Path, epci: Epci | None = None) -> pd.DataFrame:
    """Per-commune figures from a user's CSV or XLSX, validated; every problem raised at once.

    Returns a frame indexed by ``commune`` (INSEE code, 5-character string) with ``name`` if
    the file gives it and the :data:`~model.data.schema.NUMERIC` fields the file has, as floats
    (``NaN`` for a blank cell, which the caller estimates). Columns the file lacks are absent.
    With ``epci`` given, codes must be members and population may be missing (the caller takes
    the bundled figure); without it the population column and every population are required.

    Warnings (« Attention : ... », see :func:`read_user_file`) are emitted as
    :class:`UserFileWarning` through the ``warnings`` module and kept in
    ``table.attrs["warnings"]``.

    Raises:
        InputError: listing every problem, each with file, row (header = row 1) and column.
    """
    table, notes = read_user_file(path, epci)
    for text in notes:
        warnings.warn(text, UserFileWarning, stacklevel=2)
    table.attrs["warnings"] = list(notes)
    return table


def _position(header: Header, label: str | None) -> int:
    for field, written in header.labels.items():
        if written == label:
            return header.columns[field]
    return -1
