"""The convention de service commun's financial annex as a Word document (python-docx), in the
form a délibération annexes: per service, each commune's reference key, its amount for the
year, the voted rule that adjusts it, and how it is settled; a total per service that equals
the service's pooled cost to the cent. Same figures as the « Annexe financière » sheet of
report.xlsx (:func:`model.report.export.financial_annex`)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd

from model.report.export import financial_annex, shown_year
from model.report.labels import METHOD_LABELS_FR

FIXED_DATE = datetime(2026, 1, 1)


def _eur(value: float) -> str:
    return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"


def annex_document(result, year: int | None = None):
    """The annex as a ``docx.Document`` (A4 landscape, one table per service)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    year = shown_year(result, year)
    resolved = result.projection.resolved
    method = resolved.scenario.method
    table = financial_annex(result, year).iloc[1:]  # the first row is the sheet's title
    amount = f"Montant {year} (€)"
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading(f"Annexe financière — convention de service commun, {year}", level=1)
    doc.add_paragraph(
        f"{resolved.epci.name} et ses communes membres. Remboursement des frais de "
        "fonctionnement du service commun au coût unitaire de fonctionnement multiplié par le "
        "nombre d'unités de fonctionnement (CGCT, articles L5211-4-2 et D5211-16). Méthode de "
        f"répartition : {METHOD_LABELS_FR.get(method, method)}.")
    settlement = ("Règlement : imputation sur l'attribution de compensation au montant fixé en "
                  "début d'exercice, puis régularisation en fin d'exercice sur les montants "
                  "réels." if resolved.scenario.settlement == "ac" else
                  "Règlement : facture annuelle sur état des unités de fonctionnement "
                  "consommées.")
    doc.add_paragraph(settlement)
    columns = ["Commune", "Code INSEE", "Clé de référence (€)", amount, "Règle qui l'ajuste"]
    for service, rows in table.groupby("Service", sort=False):
        doc.add_heading(str(service), level=2)
        grid = doc.add_table(rows=1, cols=len(columns))
        grid.style = "Table Grid"
        for cell, title in zip(grid.rows[0].cells, columns, strict=True):
            cell.text = title
            cell.paragraphs[0].runs[0].bold = True
        for _, row in rows.iterrows():
            cells = grid.add_row().cells
            total = row["Commune"] == "Total du service"
            values = [row["Commune"], row["Code INSEE"], _eur(row["Clé de référence (€)"]),
                      _eur(row[amount]), row["Règle qui l'ajuste"] or ""]
            for cell, value in zip(cells, values, strict=True):
                cell.text = "" if pd.isna(value) else str(value)
                if total and cell.text:
                    cell.paragraphs[0].runs[0].bold = True
    doc.add_paragraph("Montants arrondis au centime ; chaque total est égal au coût mutualisé "
                      "du service pris en charge par les communes.")
    # same scenario, same bytes (DESIGN.md): no date of the day in the file
    props = doc.core_properties
    props.created = props.modified = props.last_printed = FIXED_DATE
    props.author = props.last_modified_by = "mutualisation-cost-modeller"
    props.revision = 1
    return doc


def write_annex(result, path: str | Path, year: int | None = None) -> Path:
    """Write the annex as a .docx file."""
    path = Path(path)
    buffer = io.BytesIO()
    annex_document(result, year).save(buffer)
    # the zip entries carry the time of writing: fixed, for the same bytes on every run
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info.filename))
    return path
