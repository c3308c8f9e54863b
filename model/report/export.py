"""Write a run's outputs (CSV, JSON, XLSX) all or nothing, byte for byte reproducible."""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from model.costs import POOL_LABELS_FR
from model.projection import EPCI_ID
from model.report.labels import INDICATOR_LABELS_FR, METHOD_LABELS_FR, french
from model.report.tables import assumptions_table, commune_table, method_comparison
from model.scissor import attribution
from model.xlsx import reproducible_xlsx

INPUT_COLUMNS = ["year", "payer_id", "payer_name", "pool", "usage_share", "standalone_eur",
                 "incremental_eur", "band_lo_eur", "band_hi_eur", "capacity_eur", "estimated",
                 "driver", "volume"]
ALLOCATION_COLUMNS = ["year", "method", "payer_id", "payer_name", "pool", "amount_eur", "status"]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """Prefix text a spreadsheet would read as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(escape_formula)
    return out


def money(df: pd.DataFrame) -> pd.DataFrame:
    """Round euro columns to the cent for output."""
    out = df.copy()
    for col in out.columns:
        if col.endswith("_eur"):
            out[col] = out[col].astype(float).round(2)
    return out


@contextmanager
def atomic_dir(out_dir: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out_dir`` and move it into place only when the block
    completes; on any failure the temporary folder is removed and ``out_dir`` is left as it was."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; outputs get the usual permissions
    try:
        yield tmp
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_outputs(result, out_dir: str | Path) -> Path:
    """Write inputs.csv, allocation.csv, projection.csv, summary.json and report.xlsx into
    ``out_dir``, all or nothing (see `atomic_dir`)."""
    with atomic_dir(out_dir) as tmp:
        proj = result.projection
        _csv(proj.inputs[INPUT_COLUMNS], tmp / "inputs.csv")
        _csv(proj.allocation[ALLOCATION_COLUMNS], tmp / "allocation.csv")
        _csv(proj.projection, tmp / "projection.csv")
        (tmp / "summary.json").write_text(
            json.dumps(result.summary, ensure_ascii=False, indent=2, sort_keys=False,
                       default=_json_default) + "\n", encoding="utf-8")
        write_report(result, tmp / "report.xlsx")
    return Path(out_dir)


def _csv(df: pd.DataFrame, path: Path) -> None:
    escape_frame(money(df)).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    return str(value)


# --- XLSX report -------------------------------------------------------------------------------
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
EURO_FORMAT = '#,##0.00 "€"'
PCT_FORMAT = "0.00 %"


def report_sheets(result) -> dict[str, pd.DataFrame]:
    """The report's views as French DataFrames, one per sheet."""
    proj = result.projection
    resolved = proj.resolved
    start = proj.years[0]
    summary_rows = []
    for y in result.summary["years"]:
        pooled = sum(y["pooled_cost_eur"].values())
        alone = sum(y["standalone_cost_eur"].values())
        summary_rows.append({
            "Année": y["year"], "Coût mutualisé (€)": pooled, "Coût isolé cumulé (€)": alone,
            "Économie (€)": alone - pooled, "Part EPCI (€)": sum(y["epci_share_eur"].values()),
            "Charge maximale t* (part de la capacité)": y["max_burden"],
            "Statut du solveur": "optimal" if y["solver_status"] == "optimal" else "infaisable",
        })
    table = commune_table(result, start).rename(columns=POOL_LABELS_FR)
    table = table.rename(columns={"burden": "Charge (part de la capacité)",
                                  "binding": "Contrainte qui joue"})
    table["estimated"] = table["estimated"].map({True: "estimé", False: ""})
    methods = method_comparison(result, start).rename(columns=METHOD_LABELS_FR)
    methods.index = methods.index.map(
        lambda c: resolved.communes.names.get(c, "Budget propre de l'EPCI" if c == EPCI_ID else c))
    communes = resolved.communes.values.copy()
    for col, est in resolved.communes.estimated.items():
        communes[f"{col} (estimé)"] = est.map({True: "estimé", False: ""})
    tree = assumptions_table(resolved.assumptions)
    tree["value"] = tree["value"].map(lambda v: json.dumps(v, ensure_ascii=False)
                                      if isinstance(v, dict | list) else v)
    voted = proj.voted[start]
    key_sheet = voted.explanation.drop(columns=["commune", "rule"]).rename(columns={
        "name": "Commune", "key_eur": "Clé de référence (€)", "amount_eur": "Montant payé (€)",
        "change_eur": "Écart à la clé (€)", "change_ratio": "Écart à la clé (%)",
        "standalone_eur": "Coût isolé (€)", "saving_eur": "Économie (€)",
        "saving_ratio": "Économie (%)", "reason_fr": "Pourquoi"})
    core_rows = [{"Année": y["year"], "Méthode": METHOD_LABELS_FR.get(m, m),
                  "Dans le cœur": {True: "oui", False: "non", None: "non prouvé"}[c["in_core"]],
                  "Groupe le plus surtaxé": c["most_overcharged_names"] or "",
                  "Service": POOL_LABELS_FR.get(c["most_overcharged_pool"] or "", ""),
                  "Surcoût du groupe (€)": c["overcharge_eur"],
                  "Borne prouvée (€)": c["bound_eur"]}
                 for y in result.summary["years"] for m, c in y["core"].items()]
    diag_rows = [{"Année": y["year"], "Méthode": METHOD_LABELS_FR.get(d["method"], d["method"]),
                  "Diagnostic": d["explanation_fr"], "Montant (€)": d["slack_eur"]}
                 for y in result.summary["years"]
                 for d in ([{"method": "voted_key", "explanation_fr": c["message_fr"],
                             "slack_eur": None} for c in y["default_method"]["conflict"]]
                           + y["diagnosis"])]
    att = attribution(proj.projection)
    att_sheet = att.reset_index().rename(columns={
        "commune": "Code INSEE", "name": "Commune", "eb_start_eur": f"Épargne brute {start} (€)",
        "eb_end_eur": f"Épargne brute {proj.years[-1]} (€)", "eb_change_eur": "Variation (€)",
        "eb_from_resources_eur": "dont ressources (€)", "eb_from_other_eur": "dont autres dépenses (€)",
        "eb_from_digital_eur": "dont coût numérique (€)", "teb_start": f"TEB {start}",
        "teb_end": f"TEB {proj.years[-1]}", "teb_change": "Variation du TEB (points)",
        "teb_from_resources": "dont ressources (points)", "teb_from_other": "dont autres dépenses (points)",
        "teb_from_digital": "dont coût numérique (points)",
        "digital_absorbs_eb": "Hausse du numérique / épargne brute de départ",
        "gap_cum_eur": "Écart cumulé numérique / ressources (€)",
        "finances_estimated": "Finances estimées"})
    if "Finances estimées" in att_sheet.columns:
        att_sheet["Finances estimées"] = att_sheet["Finances estimées"].map(
            {True: "estimé", False: ""})
    named = result.summary["scissor"]["communes_by_indicator"]
    named_rows = [{"Indicateur": INDICATOR_LABELS_FR.get(ind, ind), "Commune": c["name"],
                   "Code INSEE": c["commune"], "Année, mutualisé": c["year_pooled"],
                   "Année, si seule": c["year_standalone"],
                   "Finances": "estimées" if c["estimated"] else "fournies"}
                  for ind in ("eb_negative", "teb_degraded", "teb_alert", "digital_burden")
                  for c in named.get(ind, [])]
    headline = pd.DataFrame([{"Code INSEE": result.summary["scissor"]["headline_fr"]}])
    return {
        "Synthèse": pd.DataFrame(summary_rows),
        "Épargne brute": pd.concat([headline, att_sheet], ignore_index=True),
        "Communes au seuil": pd.DataFrame(named_rows, columns=[
            "Indicateur", "Commune", "Code INSEE", "Année, mutualisé", "Année, si seule",
            "Finances"]),
        f"Clé votée {start}": pd.concat([pd.DataFrame([{"Commune": voted.summary_fr}]),
                                         key_sheet], ignore_index=True),
        "Cœur": pd.DataFrame(core_rows),
        "Diagnostic": pd.DataFrame(diag_rows, columns=["Année", "Méthode", "Diagnostic",
                                                       "Montant (€)"]),
        f"Répartition {start}": french(table.reset_index()),
        f"Méthodes {start}": methods.rename_axis("Payeur").reset_index(),
        "Projection": french(proj.projection),
        "Ciseau": french(result.scissor),
        "Entrées": french(proj.inputs[INPUT_COLUMNS]),
        "Communes": french(communes.reset_index()),
        "Hypothèses": tree.rename(columns={"topic": "Rubrique", "name": "Hypothèse",
                                           "value": "Valeur", "unit": "Unité",
                                           "source": "Source", "note": "Justification"}),
    }


def write_report(result, path: Path) -> None:
    """The XLSX report for finance directors: French headers, formats, frozen header rows."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, df in report_sheets(result).items():
        ws = wb.create_sheet(title[:31])
        df = escape_frame(df)
        ws.append([str(c) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([None if _isna(v) else (v.item() if hasattr(v, "item") else v)
                       for v in row])
        _format_sheet(ws, list(df.columns))
    wb.properties.creator = "mutualisation-cost-modeller"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(reproducible_xlsx(buf.getvalue()))


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _format_sheet(ws, columns: list[str]) -> None:
    for cell in ws[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    for i, col in enumerate(columns, start=1):
        letter = get_column_letter(i)
        name = str(col)
        fmt = None
        if "€" in name:
            fmt = EURO_FORMAT
        elif any(k in name for k in ("Taux", "Charge", "Part d'usage", "Seuil")):
            fmt = PCT_FORMAT
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
        ws.column_dimensions[letter].width = min(45, max(10, len(name) * 0.9))
