"""Write a run's outputs (CSV, JSON, XLSX) all or nothing, byte for byte reproducible."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from model.costs import POOL_LABELS_FR, POOLS
from model.data.assumptions import load_schema
from model.errors import OutputError, os_error_reason
from model.projection import EPCI_ID
from model.report.charts import BLADE_STYLE, BLADES_SHORT_FR, POOL_COLOURS, blades_data
from model.report.labels import (
    COLUMN_LABELS_FR,
    INDICATOR_LABELS_FR,
    METHOD_LABELS_FR,
    REFERENCE_KEY_LABELS_FR,
    RULE_LABELS_FR,
    TOPIC_LABELS_FR,
    french,
)
from model.report.tables import assumptions_table, commune_table, method_comparison
from model.scissor import attribution
from model.xlsx import (  # noqa: F401  (formats re-exported for the tests and the template)
    EURO_FORMAT,
    INT_FORMAT,
    PCT_FORMAT,
    YEAR_FORMAT,
    Chart,
    SheetLayout,
    number_format,
    sheet_layout,
    write_workbook,
)

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


#: Marker written inside every output folder: a folder holding it was written by this tool and
#: may be replaced by a new run; any other non-empty folder is refused.
MARKER_FILE = ".mutualisation-out"
TOOL_NAME = "mutualisation-cost-modeller"
_STALE = re.compile(r"\.(?P<name>.+)\.mutualisation-(?P<kind>tmp|old)-(?P<pid>\d+)(?:-.*)?")
_ADVICE = "choisissez un dossier absent ou vide ; rien n'a été modifié"


def marker_text() -> str:
    """The marker's content: the tool's name and version (no date: same scenario, same bytes)."""
    from model import __version__

    return (f"{TOOL_NAME} {__version__}\n"
            "Dossier de résultats écrit par « python -m model ». Une nouvelle exécution avec --out "
            "sur ce dossier le remplace en entier : n'y rangez pas d'autres fichiers.\n")


def is_tool_dir(path: str | Path) -> bool:
    """True if ``path`` is a folder holding this tool's marker."""
    marker = Path(path) / MARKER_FILE
    try:
        if marker.is_symlink() or not marker.is_file():
            return False
        with marker.open("rb") as f:
            return f.read(len(TOOL_NAME)).decode("utf-8", "replace") == TOOL_NAME
    except OSError:
        return False


def scenario_inputs(scenario) -> list[tuple[Path, str]]:
    """What an output folder must never equal nor contain: the scenario's folder, its data file."""
    out: list[tuple[Path, str]] = []
    if scenario is None:
        return out
    if getattr(scenario, "base_dir", None) is not None:
        out.append((Path(scenario.base_dir), "le dossier du scénario"))
    data = scenario.data_path() if hasattr(scenario, "data_path") else None
    if data is not None:
        out.append((Path(data), "le fichier de données du scénario"))
    return out


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _describe(entries: list[str], folder: Path) -> str:
    shown = []
    for e in sorted(entries)[:5]:
        shown.append(e + ("/" if (folder / e).is_dir() else ""))
    more = len(entries) - len(shown)
    text = ", ".join(shown)
    if more:
        text += f" et {more} autre{'s' if more > 1 else ''}"
    return text


def check_out_dir(out_dir: str | Path, protect=(), *, adopt: bool = False) -> None:
    """Refuse an output folder that a run would destroy, before anything is written.

    Allowed: a path that does not exist (its parents are created), an empty folder, or a folder
    holding this tool's marker (`MARKER_FILE`), which a run replaces. Refused with an
    `OutputError` (French, naming the path and what is in it): the current folder or a folder
    containing it, a folder equal to or containing one of ``protect`` (pairs ``(path, what)``:
    the scenario's folder, its data file), a symbolic link, a file, a path under a file, and a
    non-empty folder without the marker. ``adopt`` accepts a non-empty folder without the marker
    (a batch folder of an earlier version, recognised by the caller).
    """
    given = Path(out_dir)
    shown = str(out_dir)
    try:
        real = given.resolve()
        cwd = Path.cwd().resolve()
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"dossier de sortie « {shown} » inaccessible : {exc}", shown) from None
    if real == cwd:
        raise OutputError(
            f"le dossier de sortie « {shown} » est le dossier courant ({cwd}) : les résultats le "
            f"remplaceraient en entier ; {_ADVICE}", shown)
    if real in cwd.parents:
        raise OutputError(
            f"le dossier de sortie « {shown} » contient le dossier courant ({cwd}) : les "
            f"résultats le remplaceraient en entier ; {_ADVICE}", shown)
    for path, what in protect:
        p = Path(path).resolve()
        if _within(p, real):
            rel = "est" if p == real else "contient"
            raise OutputError(
                f"le dossier de sortie « {shown} » {rel} {what} ({p}) : les résultats le "
                f"remplaceraient ; {_ADVICE}", shown)
    if given.is_symlink():
        raise OutputError(
            f"le dossier de sortie « {shown} » est un lien symbolique (vers "
            f"« {os.readlink(given)} ») : donnez le chemin du dossier lui-même ; rien n'a été "
            "modifié", shown)
    if not given.exists():
        for parent in given.absolute().parents:
            if parent.exists():
                if not parent.is_dir():
                    raise OutputError(
                        f"dossier de sortie « {shown} » impossible : « {parent} » est un fichier, "
                        "pas un dossier ; rien n'a été modifié", shown)
                break
        return
    if not given.is_dir():
        size = given.stat().st_size
        raise OutputError(
            f"le dossier de sortie « {shown} » est un fichier ({size} octets), pas un dossier : "
            f"il serait remplacé ; {_ADVICE}", shown)
    try:
        entries = os.listdir(given)
    except OSError as exc:
        raise OutputError(f"dossier de sortie « {shown} » illisible : {os_error_reason(exc)}",
                          shown) from None
    if not entries or adopt or is_tool_dir(given):
        return
    raise OutputError(
        f"le dossier de sortie « {shown} » n'est pas vide et n'a pas été écrit par cet outil "
        f"(il contient {len(entries)} élément{'s' if len(entries) > 1 else ''} : "
        f"{_describe(entries, given)}) : les résultats le remplaceraient en entier ; {_ADVICE}",
        shown)


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs (this process counts; on Windows every pid counts as alive,
    since probing it there would terminate it)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill would terminate it: never treat a Windows process as gone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_stale(out_dir: str | Path) -> list[Path]:
    """Remove the temporary folders that killed runs left beside ``out_dir``.

    Only folders named by `atomic_dir` (``.NAME.mutualisation-tmp-PID-*``,
    ``.NAME.mutualisation-old-PID``) whose process is gone, and that are empty or hold the
    marker, are touched. When ``out_dir`` is missing because a run was killed between its two
    renames, the previous outputs (``-old-``) are put back instead of removed.
    Returns the folders removed or restored."""
    out_dir = Path(out_dir)
    parent = out_dir.parent
    done: list[Path] = []
    try:
        names = sorted(os.listdir(parent))
    except OSError:
        return done
    for entry in names:
        m = _STALE.fullmatch(entry)
        if m is None or m["name"] != out_dir.name or pid_alive(int(m["pid"])):
            continue
        path = parent / entry
        if path.is_symlink() or not path.is_dir():
            continue
        try:
            empty = not os.listdir(path)
        except OSError:
            continue
        marker = path / MARKER_FILE
        half_written = marker.is_file() and not marker.is_symlink() and marker.stat().st_size == 0
        if not (empty or half_written or is_tool_dir(path)):
            continue
        if m["kind"] == "old" and not empty and not out_dir.exists() and not out_dir.is_symlink():
            try:
                os.replace(path, out_dir)
                done.append(path)
                continue
            except OSError:
                pass
        shutil.rmtree(path, ignore_errors=True)
        done.append(path)
    return done


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, deepest first."""
    missing = []
    for p in [folder, *folder.absolute().parents]:
        if p.exists() or p.is_symlink():
            break
        missing.append(p)
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_created(created: list[Path]) -> None:
    for p in created:
        try:
            p.rmdir()
        except OSError:
            break


def _write_marker(folder: Path) -> None:
    (folder / MARKER_FILE).write_text(marker_text(), encoding="utf-8")


def claim_dir(out_dir: str | Path, protect=(), *, adopt: bool = False) -> Path:
    """For outputs written in place (a batch, resumable): check ``out_dir`` (`check_out_dir`),
    create it and write the marker. Errors of the system become an `OutputError` naming it."""
    out_dir = Path(out_dir)
    check_out_dir(out_dir, protect, adopt=adopt)
    created: list[Path] = []
    try:
        created = _make_parents(out_dir)
        if not is_tool_dir(out_dir):
            _write_marker(out_dir)
    except OSError as exc:
        _remove_created(created)
        raise OutputError(f"impossible d'écrire dans le dossier de sortie « {out_dir} » : "
                          f"{os_error_reason(exc)}", str(out_dir)) from exc
    return out_dir


@contextmanager
def atomic_dir(out_dir: str | Path, protect=()) -> Iterator[Path]:
    """Yield a temporary folder beside ``out_dir`` and move it into place only when the block
    completes; on any failure the temporary folder is removed and ``out_dir`` is left as it was.

    ``out_dir`` must be absent, empty or a folder this tool wrote (`check_out_dir`; ``protect``
    lists inputs it must not equal nor contain): anything else is refused before anything is
    written. The marker is written in the new folder; stale temporary folders of killed runs are
    cleaned (`clean_stale`). A system error (full disk, permission, a file in the way) becomes an
    `OutputError` naming ``out_dir``; folders created for it are removed."""
    out_dir = Path(out_dir)
    shown = str(out_dir)
    check_out_dir(out_dir, protect)
    created: list[Path] = []
    tmp: Path | None = None

    def fail(exc: OSError) -> OutputError:
        return OutputError(f"impossible d'écrire les résultats dans « {shown} » : "
                           f"{os_error_reason(exc)} ; rien n'a été modifié", shown)

    try:
        created = _make_parents(out_dir.parent)
        clean_stale(out_dir)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.mutualisation-tmp-{os.getpid()}-",
                                    dir=out_dir.parent))
        _write_marker(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; outputs get the usual permissions
    except OSError as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        _remove_created(created)
        raise fail(exc) from exc
    try:
        yield tmp
        check_out_dir(out_dir, protect)  # the folder may have changed during the run
        _swap(tmp, out_dir)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_created(created)
        if isinstance(exc, OSError):
            raise fail(exc) from exc
        raise


def _swap(tmp: Path, out_dir: Path) -> None:
    """Put ``tmp`` in place of ``out_dir`` (absent, empty, or this tool's outputs)."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    old = out_dir.with_name(f".{out_dir.name}.mutualisation-old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        os.replace(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_outputs(result, out_dir: str | Path, protect=None, *, csv_fr: bool = False) -> Path:
    """Write inputs.csv, allocation.csv, projection.csv, summary.json, report.xlsx and the
    convention's financial annex (annexe_financiere.docx) into
    ``out_dir``, all or nothing (see `atomic_dir`). ``protect`` defaults to the scenario's folder
    and data file, which ``out_dir`` may not equal nor contain. ``csv_fr`` writes the CSV files
    in French Excel's dialect (:func:`write_csv_fr`) instead of the documented machine one."""
    if protect is None:
        protect = scenario_inputs(getattr(result.projection.resolved, "scenario", None))
    with atomic_dir(out_dir, protect) as tmp:
        proj = result.projection
        for frame, name in ((proj.inputs[INPUT_COLUMNS], "inputs.csv"),
                            (proj.allocation[ALLOCATION_COLUMNS], "allocation.csv"),
                            (proj.projection, "projection.csv")):
            (write_csv_fr if csv_fr else _csv)(escape_frame(money(frame)), tmp / name)
        (tmp / "summary.json").write_text(
            json.dumps(result.summary, ensure_ascii=False, indent=2, sort_keys=False,
                       default=_json_default) + "\n", encoding="utf-8")
        write_report(result, tmp / "report.xlsx")
        from model.report.annex import write_annex

        write_annex(result, tmp / "annexe_financiere.docx")
    return Path(out_dir)


def _csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_csv_fr(df: pd.DataFrame, path: str | Path) -> Path:
    """A CSV that French Excel opens right by double-click: ``;`` between fields, a decimal
    comma, UTF-8 with its byte-order mark (accents), numbers left as numbers."""
    df.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig",
              lineterminator="\r\n")
    return Path(path)


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    return str(value)


# --- XLSX report -------------------------------------------------------------------------------
BOOL_WORDS = {True: "oui", False: ""}
ESTIMATED_WORDS = {True: "estimé", False: ""}


def _fr_number(v) -> str:
    """A number as a French reader writes it (1 500 000 ; 0,25)."""
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e15):
        n = int(v)
        return str(n) if 1900 <= n <= 2100 else f"{n:,}".replace(",", "\u202f")
    text = f"{v:,.6f}".rstrip("0").rstrip(".")
    return text.replace(",", "\u202f").replace(".", ",")


def readable(value) -> str | float | int | None:
    """An assumption's value as text a reader understands (no JSON braces)."""
    if value is None:
        return "aucune"
    if isinstance(value, dict):
        return " ; ".join(f"{_code_word(k)} : {readable(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ; ".join(str(readable(v)) for v in value)
    if isinstance(value, bool | int | float):
        return _fr_number(value)
    return _code_word(str(value))


def _code_word(code) -> str:
    """An internal code (pool, key, column) in French; any other text unchanged."""
    if not isinstance(code, str):
        return str(code)
    for mapping in (POOL_LABELS_FR, METHOD_LABELS_FR, REFERENCE_KEY_LABELS_FR, COLUMN_LABELS_FR):
        if code in mapping:
            return mapping[code]
    return code


def _percent(v: float) -> str:
    return _fr_number(round(v * 100, 4)) + " %"


def rules_in_words(rules: dict) -> str:
    """The voted rules of the default split in words; « aucune » when none was voted."""
    words = []
    for key, value in (rules or {}).items():
        if value is None:
            continue
        label = RULE_LABELS_FR.get(key, key)
        if key == "usage_band" and isinstance(value, list | tuple) and len(value) == 2:
            words.append(f"{label} de {_fr_number(value[0])} à {_fr_number(value[1])} fois "
                         "la clé d'usage")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            words.append(f"{label} : {_percent(value)}")
        else:
            words.append(f"{label} : {readable(value)}")
    return " ; ".join(words) if words else "aucune"


def cover_rows(result, year: int | None = None) -> list[tuple[str, object]]:
    """The cover sheet: who, which scenario, which method and rules, which year, which data."""
    s = result.summary
    proj = result.projection
    scenario = proj.resolved.scenario
    epci = s.get("epci", {})
    year = shown_year(result, year)
    first = next((y for y in s.get("years", []) if y["year"] == year), {})
    default = first.get("default_method", {}) if first else {}
    ref = default.get("reference_key")
    method = getattr(scenario, "method", None) or s.get("scenario", {}).get("method")
    scissor = s.get("scissor", {})
    rows: list[tuple[str, object]] = [
        ("Territoire", epci.get("name", "")),
        ("SIREN", epci.get("siren", "")),
        ("Type d'EPCI", epci.get("type", "")),
        ("Communes membres", epci.get("communes")),
        ("Population", epci.get("population")),
        ("Scénario", getattr(scenario, "name", None) or s.get("scenario", {}).get("name") or ""),
        ("Méthode de répartition", METHOD_LABELS_FR.get(method, method or "")),
    ]
    if method == "voted_key":
        rows += [("Clé de référence",
                  REFERENCE_KEY_LABELS_FR.get(ref, METHOD_LABELS_FR.get(ref, ref or ""))),
                 ("Règles votées", rules_in_words(default.get("rules", {})))]
    rows += [("Année présentée", year),
             ("Années projetées", f"{proj.years[0]} à {proj.years[-1]}")]
    if s.get("run_date"):
        rows.append(("Date du calcul", s["run_date"]))
    rows += [("Version de l'outil", s.get("version", "")),
             ("Données", s.get("data_vintage", "")),
             ("Communes aux finances estimées",
              scissor.get("communes_with_estimated_finances", 0)),
             ("En bref", scissor.get("headline_fr", ""))]
    return rows


#: Counts estimated from ratios (agents, workstations, licence seats, archive volume): shown
#: whole, their decimals being the ratio's, not a measure.
ESTIMATED_COUNTS = ("agents", "workstations", "licence_seats", "archive_gb")


def _present(df: pd.DataFrame) -> pd.DataFrame:
    """Booleans in words, euros rounded to the cent, French headers everywhere."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        name = str(col)
        if pd.api.types.is_bool_dtype(series) or (
                series.dtype == object and len(series.dropna())
                and series.dropna().map(lambda v: isinstance(v, bool)).all()):
            words = ESTIMATED_WORDS if "estim" in name.lower() or "Estim" in name else BOOL_WORDS
            out[col] = series.map(lambda v, w=words: w.get(v, "") if isinstance(v, bool) else v)
        elif "€" in name and pd.api.types.is_numeric_dtype(series):
            out[col] = series.astype(float).round(2)
    return out


def _schema_label(schema: dict, topic: str, name: str) -> str:
    entry = schema.get(topic, {}).get(name)
    return entry.get("label", name) if isinstance(entry, dict) else name


def shown_year(result, year: int | None = None) -> int:
    """The year a report shows: ``year`` when projected, else the first projected year."""
    years = result.projection.years
    return year if year in years else years[0]


def synthesis_frame(result) -> pd.DataFrame:
    """The Synthèse: per year, the pooled cost per service and in all, the stand-alone cost, the
    saving, the EPCI's share, the largest burden under the method shown (share of a commune's
    capacity), whether the voted rules hold, and the scissor in euros for the
    whole territory (each blade's change since the first year, signed by its effect on the
    épargne brute, as in the Effet ciseau panel)."""
    proj = result.projection
    start = proj.years[0]
    blades = blades_data(proj.projection).pivot(index="year", columns="key",
                                                 values="amount_eur")
    alloc = proj.allocation
    paid = alloc[(alloc["method"] == proj.resolved.scenario.method)
                 & (alloc["payer_id"] != EPCI_ID)].groupby(["year", "payer_id"])["amount_eur"].sum()
    capacity = proj.inputs[proj.inputs["payer_id"] != EPCI_ID].groupby(
        ["year", "payer_id"])["capacity_eur"].first()
    largest = (paid / capacity.reindex(paid.index)).groupby(level="year").max()
    rows = []
    for y in result.summary["years"]:
        pooled = sum(y["pooled_cost_eur"].values())
        alone = sum(y["standalone_cost_eur"].values())
        status = y.get("default_method", {}).get("status", y["solver_status"])
        row = {"Année": y["year"], "Coût mutualisé (€)": pooled}
        row |= {f"{POOL_LABELS_FR.get(p, p)} (€)": v for p, v in y["pooled_cost_eur"].items()}
        row |= {"Coût isolé cumulé (€)": alone, "Économie (€)": alone - pooled,
                "Part EPCI (€)": sum(y["epci_share_eur"].values()),
                "Charge la plus lourde (part de la capacité contributive)":
                    float(largest.get(y["year"], float("nan"))),
                "Règles votées tenues": "oui" if status == "optimal" else "non : voir Diagnostic"}
        row |= {f"{label}, écart à {start} (€)": float(blades.loc[y["year"], key])
                for key, label in BLADES_SHORT_FR.items() if key in blades.columns}
        rows.append(row)
    return _present(pd.DataFrame(rows))


def synthesis_sheet(synthesis: pd.DataFrame) -> pd.DataFrame:
    """The Synthèse as printed: one row per indicator, the years across (one page)."""
    table = synthesis.set_index("Année").T.astype(object)
    table.columns = [str(y) for y in table.columns]
    return table.rename_axis("Indicateur").reset_index()


def synthesis_charts(sheet: pd.DataFrame, result) -> list[Chart]:
    """The Synthèse's native charts (from its rows): the scissor in euros over the years (the
    blades) and the pooled cost split by service, year by year."""
    start = result.projection.years[0]
    labels = list(sheet["Indicateur"])
    blades = {f"{label}, écart à {start} (€)": BLADE_STYLE[key][0]
              for key, label in BLADES_SHORT_FR.items()}
    blades = {label: colour for label, colour in blades.items() if label in labels}
    pools = {f"{POOL_LABELS_FR.get(p, p)} (€)": colour
             for p, colour in zip(POOLS, POOL_COLOURS, strict=False)}
    pools = {label: colour for label, colour in pools.items() if label in labels}
    return [
        Chart(title=f"L'effet ciseau en euros : écarts à {start}, tout le territoire",
              kind="line", category="Indicateur", series=list(blades),
              colours=list(blades.values()), size=(620, 330)),
        Chart(title="Coût mutualisé par service", kind="stacked", category="Indicateur",
              series=list(pools), colours=list(pools.values()), size=(500, 330)),
    ]


def report_sheets(result, year: int | None = None) -> dict[str, pd.DataFrame]:
    """The report's views as French DataFrames, one per sheet; ``year`` is the year shown by
    the per-commune sheets and the annex (the first projected year by default)."""
    proj = result.projection
    resolved = proj.resolved
    start = proj.years[0]
    year = shown_year(result, year)
    table = commune_table(result, year).rename(
        columns={p: f"{label} (€)" for p, label in POOL_LABELS_FR.items()})
    table = table.rename(columns={"burden": "Charge (part de la capacité)",
                                  "binding": "Contrainte qui joue"})
    table["estimated"] = table["estimated"].map({True: "estimé", False: ""})
    methods = method_comparison(result, year).rename(
        columns=lambda m: f"{METHOD_LABELS_FR.get(m, m)} (€)")
    methods.index = methods.index.map(
        lambda c: resolved.communes.names.get(c, "Budget propre de l'EPCI" if c == EPCI_ID else c))
    communes = resolved.communes.values.copy()
    for col in ESTIMATED_COUNTS:  # an estimate of staff or seats is shown in whole units; the
        if col in communes.columns and col in resolved.communes.estimated.columns:  # user's own
            est = resolved.communes.estimated[col].reindex(communes.index, fill_value=False)
            communes[col] = communes[col].where(~est, communes[col].round(0))  # as written
    for col, est in resolved.communes.estimated.items():
        label = COLUMN_LABELS_FR.get(col, col).replace(" (€)", "")
        communes[f"{label} : estimé"] = est.map({True: "estimé", False: ""})
    tree = assumptions_table(resolved.assumptions)
    schema = load_schema().get("assumptions", {})
    tree["name"] = [_schema_label(schema, t, n)
                    for t, n in zip(tree["topic"], tree["name"], strict=True)]
    tree["topic"] = tree["topic"].map(lambda t: TOPIC_LABELS_FR.get(t, t))
    tree["value"] = tree["value"].map(readable)
    voted = proj.voted[year]
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
    inputs = french(proj.inputs[INPUT_COLUMNS])
    inputs["Unité d'œuvre"] = inputs["Unité d'œuvre"].map(
        lambda d: COLUMN_LABELS_FR.get(d, d))
    sheets = {}
    if result.summary.get("warnings"):
        sheets["Avertissements"] = pd.DataFrame({"Avertissement": result.summary["warnings"]})
    sheets["Couverture"] = pd.DataFrame(cover_rows(result, year),
                                        columns=["Rubrique", "Valeur"])
    sheets |= {
        "Synthèse": synthesis_sheet(synthesis_frame(result)),
        f"Annexe financière {year}": financial_annex(result, year),
        "Épargne brute": pd.concat([headline, att_sheet], ignore_index=True),
        "Communes au seuil": pd.DataFrame(named_rows, columns=[
            "Indicateur", "Commune", "Code INSEE", "Année, mutualisé", "Année, si seule",
            "Finances"]),
        f"Clé votée {year}": pd.concat([pd.DataFrame([{"Commune": voted.summary_fr}]),
                                         key_sheet], ignore_index=True),
        "Cœur": pd.DataFrame(core_rows),
        "Diagnostic": pd.DataFrame(diag_rows, columns=["Année", "Méthode", "Diagnostic",
                                                       "Montant (€)"]),
        f"Répartition {year}": french(table.reset_index()),
        f"Méthodes {year}": methods.rename_axis("Payeur").reset_index(),
        "Projection": french(proj.projection),
        "Ciseau": french(result.scissor),
        "Entrées": inputs,
        "Communes": french(communes.reset_index()),
        "Hypothèses": tree.rename(columns={"topic": "Rubrique", "name": "Hypothèse",
                                           "value": "Valeur", "unit": "Unité",
                                           "source": "Source", "note": "Justification"}),
    }
    return {title: _present(df) for title, df in sheets.items()}


def financial_annex(result, year: int) -> pd.DataFrame:
    """The financial annex of the convention de service commun (CGCT L5211-4-2, D5211-16): per
    commune and service, the reference key, the amount of the year under the method shown, the
    rule that adjusts it and how it is settled; a total per service."""
    proj = result.projection
    resolved = proj.resolved
    method = resolved.scenario.method
    amounts = proj.amounts(method, year)
    vi = proj.voted_inputs[year]
    key = vi.key.reindex(index=amounts.index, columns=amounts.columns)
    reasons = (proj.voted[year].explanation.set_index("commune")["reason_fr"]
               if method == "voted_key" else pd.Series(dtype=str))
    frame = proj.projection
    frame = frame[frame["year"] == year].set_index("commune")
    names = resolved.communes.names
    ac = resolved.scenario.settlement == "ac"
    rows = []
    for pool in amounts.columns:
        label = POOL_LABELS_FR.get(pool, pool)
        for commune in amounts.index:
            if ac:
                settle = (f"imputation sur l'attribution de compensation "
                          f"({frame.loc[commune, 'ac_deduction_eur']:,.2f} € fixés pour "
                          f"l'ensemble des services), régularisation en fin d'exercice"
                          ).replace(",", "\u202f").replace(".", ",")
            else:
                settle = "facture annuelle sur état des unités consommées (D5211-16)"
            rows.append({"Service": label, "Commune": names.get(commune, commune),
                         "Code INSEE": commune, "Clé de référence (€)": float(key.loc[commune, pool]),
                         f"Montant {year} (€)": float(amounts.loc[commune, pool]),
                         "Règle qui l'ajuste": str(reasons.get(commune, "")),
                         "Règlement": settle})
        rows.append({"Service": label, "Commune": "Total du service", "Code INSEE": "",
                     "Clé de référence (€)": float(key[pool].sum()),
                     f"Montant {year} (€)": float(amounts[pool].sum()), "Règle qui l'ajuste": "",
                     "Règlement": ""})
    head = pd.DataFrame([{"Service": (
        f"Annexe financière de la convention de service commun (CGCT L5211-4-2 ; remboursement "
        f"au coût unitaire x unités de fonctionnement, D5211-16) — {resolved.epci.name}, "
        f"{year}, méthode : {METHOD_LABELS_FR.get(method, method)}")}])
    return pd.concat([head, pd.DataFrame(rows)], ignore_index=True)


def report_layouts(result, year: int | None = None) -> list[SheetLayout]:
    """The report's sheets laid out (formats, widths), with the Synthèse's native charts."""
    sheets = report_sheets(result, year)
    return [sheet_layout(title, escape_frame(df), synthesis_charts(df, result), by_row=True)
            if title == "Synthèse" else sheet_layout(title, escape_frame(df))
            for title, df in sheets.items()]


def write_report(result, path: Path, year: int | None = None) -> None:
    """The XLSX report for finance directors: a cover sheet, French headers, euros to the cent,
    percentages, widths from content, frozen header rows, printable on pages one sheet wide,
    native charts on the Synthèse; ``year`` is the year shown (the first by default)."""
    Path(path).write_bytes(write_workbook(report_layouts(result, year)))
