"""Blank and pre-filled templates users fill with their own per-commune figures.

The XLSX template has a « Communes » sheet (French headers that :mod:`model.data.userfile`
reads back, codes stored as text so Excel keeps leading zeros) and a « Notice » sheet explaining
each column. A CSV variant (UTF-8 with BOM, ``;``) serves users without Excel. The files are
byte-for-byte reproducible so that regenerating them leaves no diff.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from model.data.bundled import DATA_VINTAGE, Epci
from model.data.schema import INDEX, LABELS_FR, NUMERIC
from model.errors import InputError, Problem
from model.xlsx import reproducible_xlsx

#: Column order of the template: code, name, then every numeric field.
COLUMNS = (INDEX, "name", *NUMERIC)
HEADERS = tuple(LABELS_FR[c] for c in COLUMNS)
SHEET = "Communes"
NOTICE = "Notice"
#: Rows formatted and validated below the header of a blank template.
BLANK_ROWS = 300

#: Unit (French), Excel number format and explanation of each column, for the « Notice » sheet.
COLUMN_NOTES: dict[str, tuple[str, str, str]] = {
    INDEX: ("texte, 5 caractères", "@",
            "Code officiel géographique INSEE de la commune (par exemple 41018 pour Blois, "
            "2A004 pour Ajaccio). Obligatoire. Saisi en texte pour garder le zéro initial "
            "(01001) ; un zéro perdu par Excel est de toute façon rétabli."),
    "name": ("texte", "@", "Nom de la commune. Facultatif : sert seulement à l'affichage."),
    "population": ("habitants", "#,##0",
                   "Population municipale INSEE (nombre entier). Obligatoire si aucun EPCI n'est "
                   "choisi ; sinon, une cellule vide reprend la population légale fournie avec le "
                   "modèle."),
    "rrf_eur": ("€ par an", '#,##0.00 "€"',
                "Recettes réelles de fonctionnement du budget principal, dernier compte "
                "administratif ou compte financier unique, en euros (montant total, pas par "
                "habitant). Strictement positif. Exercice : 2024 par défaut (dernier compte "
                "arrêté au vote du budget 2026) ; le modèle vieillit recettes et dépenses jusqu'à "
                "l'année de départ. Autre exercice : indiquez-le dans le scénario "
                "(assumptions: {finance: {accounts_year: 2025}})."),
    "drf_eur": ("€ par an", '#,##0.00 "€"',
                "Dépenses réelles de fonctionnement du budget principal, même exercice que les "
                "recettes, en euros. Strictement positif."),
    "potentiel_financier_eur": ("€", '#,##0 "€"',
                                "Potentiel financier de la commune (fiche DGF de l'année), montant "
                                "total en euros, pas par habitant. Strictement positif."),
    "agents": ("ETP", "#,##0.0",
               "Agents de la commune en équivalents temps plein (tous statuts). Positif ou nul."),
    "workstations": ("postes", "#,##0",
                     "Postes de travail informatiques (fixes et portables) à gérer. Positif ou "
                     "nul."),
    "archive_gb": ("Go", "#,##0.0",
                   "Volume d'archives électroniques à verser au service d'archivage, en "
                   "gigaoctets. Positif ou nul."),
    "licence_seats": ("sièges", "#,##0",
                      "Nombre de licences logicielles (sièges) concernées par l'achat groupé. "
                      "Positif ou nul."),
}
WIDTHS = {INDEX: 13, "name": 30}

#: Fixed timestamp written into the XLSX so that regenerated templates are identical.


def write_template(path: str | Path, epci: Epci | None = None) -> Path:
    """Write a template (``.xlsx`` or ``.csv``), pre-filled with the EPCI's communes if given.

    Pre-filled: INSEE code, name and municipal population (INSEE, DGCL); other columns are
    left empty for the user. Returns the path written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        data = _xlsx_bytes(epci)
    elif suffix == ".csv":
        data = _csv_bytes(epci)
    else:
        raise InputError(Problem(
            f"extension « {path.suffix or '(aucune)'} » non prise en charge pour le modèle : "
            "choisissez .xlsx ou .csv.", file=path.name))
    _write(path, data)
    return path


def _rows(epci: Epci | None) -> list[list[object]]:
    if epci is None:
        return []
    communes = epci.communes.sort_index()
    return [[code, str(row["name"]), int(row["population"])]
            + [None] * (len(COLUMNS) - 3)
            for code, row in communes.iterrows()]


def template_bytes(epci: Epci | None = None) -> bytes:
    """The xlsx template, pre-filled with the EPCI's communes if given (for a download)."""
    return _xlsx_bytes(epci)


def _csv_bytes(epci: Epci | None) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in _rows(epci):
        writer.writerow(["" if v is None else v for v in row])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _xlsx_bytes(epci: Epci | None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E79")
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.row_dimensions[1].height = 45
    sheet.freeze_panes = "A2"
    rows = _rows(epci)
    for row in rows:
        sheet.append(row)
    last = max(len(rows), BLANK_ROWS) + 1
    for pos, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(pos)
        sheet.column_dimensions[letter].width = WIDTHS.get(column, 18)
        number_format = COLUMN_NOTES[column][1]
        for (cell,) in sheet.iter_rows(min_row=2, max_row=last, min_col=pos, max_col=pos):
            cell.number_format = number_format
        if column in NUMERIC:
            strict = column in ("rrf_eur", "drf_eur", "potentiel_financier_eur")
            check = DataValidation(
                type="decimal", operator="greaterThan" if strict else "greaterThanOrEqual",
                formula1="0", allow_blank=True, showErrorMessage=True,
                errorTitle="Valeur refusée",
                error=("Saisissez un nombre strictement positif, ou laissez la cellule vide."
                       if strict else
                       "Saisissez un nombre positif ou nul, ou laissez la cellule vide."))
            check.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(check)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(len(rows), 1) + 1}"
    _add_notice(workbook.create_sheet(NOTICE), epci)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return reproducible_xlsx(buffer.getvalue())


def _add_notice(sheet, epci: Epci | None) -> None:
    from openpyxl.styles import Alignment, Font

    title = "Modèle de saisie des données par commune"
    if epci is not None:
        title += f" — {epci.name} (SIREN {epci.siren}, {len(epci.communes)} communes)"
    lines: list[list[object]] = [
        [title],
        [],
        ["Une ligne par commune membre, sous la ligne d'en-tête de la feuille « Communes ». "
         "Ne renommez pas les en-têtes ; les colonnes supplémentaires sont ignorées."],
        ["Les cellules laissées vides sont estimées par le modèle à partir de la population et "
         "de ratios nationaux documentés (data/assumptions.yaml, data/strata.csv), et les "
         "valeurs ainsi obtenues sont marquées « estimé » dans tous les résultats."],
        ["Les nombres peuvent être saisis avec une virgule décimale et des espaces entre les "
         "milliers (1 234 567,89). N'ajoutez pas de ligne de total."],
        ["Le fichier peut aussi être enregistré en CSV (séparateur point-virgule ou virgule, "
         "UTF-8 ou Windows-1252)."],
        [],
        ["Colonne", "Unité", "Obligatoire", "Description"],
    ]
    for column in COLUMNS:
        unit, _, text = COLUMN_NOTES[column]
        required = "oui" if column == INDEX else (
            "si aucun EPCI n'est choisi" if column == "population" else "non")
        lines.append([LABELS_FR[column], unit, required, text])
    lines += [
        [],
        ["Source des populations pré-remplies"],
        [f"Populations municipales et périmètres : {DATA_VINTAGE}. "
         "Mention : « Sources : INSEE, DGCL — via @etalab/decoupage-administratif 6.0.0 », "
         "Licence Ouverte / Open Licence (Etalab)."],
    ]
    for line in lines:
        sheet.append(line)
    sheet["A1"].font = Font(bold=True, size=14)
    header_row = 8
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    sheet.cell(row=header_row + len(COLUMNS) + 2, column=1).font = Font(bold=True)
    widths = {"A": 42, "B": 20, "C": 24, "D": 100}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=header_row + 1, max_row=header_row + len(COLUMNS)):
        for cell in row:
            cell.alignment = wrap
    # Free-text lines span the sheet's width rather than stretching column A.
    for row in (3, 4, 5, 6, header_row + len(COLUMNS) + 3):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
        sheet.cell(row=row, column=1).alignment = wrap
        sheet.row_dimensions[row].height = 32


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
