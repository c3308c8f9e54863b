"""Run one scenario template over many EPCIs (or all 1,255) and write one tidy table.

``run_batch`` applies a scenario template (any scenario YAML: its ``epci`` is replaced by each
EPCI in turn) to a list of EPCIs and writes ``batch.csv``: one row per EPCI and year with the
pooled and stand-alone costs, the LP's optimal burden ``t*``, the largest commune burden under
every method, the EPCI-level indicators, the scissor years and the infeasible / failed flags.

* Speed: `epci_rows` computes those aggregates without building the long frames of `run()`
  (the LP is the same `allocate_lp` call; the classic keys are split and cent-rounded by a
  vectorised twin of `largest_remainder`). `rows_from_run` derives the same rows from a full
  `run()` and the tests check that both agree.
* Resume: every finished EPCI is appended as one JSON line to ``OUT/.batch/parts.jsonl`` as soon
  as it is done; a restart skips the EPCIs found there. ``batch.csv`` is written atomically at
  the end, from the parts of the EPCIs asked for.
* Parallel: a `ProcessPoolExecutor` (one process per core by default), or Dask distributed
  (``dask="local"`` for a `LocalCluster`, or a scheduler address) for larger runs.
* Failures: an EPCI whose run fails (bad data, settlement impossible, ...) gets one row with
  ``status = "erreur"`` and the French message in ``error``; the batch goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from model.allocation import allocate_lp
from model.allocation.fast import HighsBackend
from model.allocation.inputs import SCALE_EUR
from model.allocation.leximin import breakdown
from model.allocation.rounding import label_rank, largest_remainder_columns
from model.allocation.solve import waterfill_leximin
from model.allocation.voted import allocate_voted
from model.costs import POOLS
from model.errors import InputError, ModelError, Problem
from model.projection import (
    EPCI_ID,
    INDICATORS,
    YearArrays,
    allocation_inputs,
    base_costs,
    key_shares,
    price_index,
    resource_index,
    voted_inputs,
    year_costs,
)
from model.report.export import claim_dir, escape_frame, pid_alive, scenario_inputs
from model.scenario import METHODS, ResolvedScenario, Scenario

#: Columns of batch.csv, in order (see the README for each one).
BATCH_COLUMNS = [
    "epci_siren", "epci_name", "epci_type", "communes", "population", "year", "status", "error",
    "lp_status", "voted_key_status", "infeasible",
    "pooled_cost_eur", "standalone_cost_eur", "saving_eur", "epci_share_eur",
    *[f"pooled_{p}_eur" for p in POOLS],
    "rrf_eur", "digital_burden_pooled", "digital_burden_standalone", "teb_pooled", "teb_standalone",
    "max_burden", *[f"max_burden_{m}" for m in METHODS],
    *[f"scissor_{ind}_{case}" for ind in INDICATORS for case in ("pooled", "standalone")],
    *[f"first_commune_{ind}_{case}" for ind in INDICATORS for case in ("pooled", "standalone")],
]
INT_COLUMNS = ["year", "communes", "population",
               *[c for c in BATCH_COLUMNS if c.startswith(("scissor_", "first_commune_"))]]
WORK_DIR = ".batch"
PARTS_FILE = "parts.jsonl"
TEMPLATE_FILE = "template.json"
TABLE_FILE = "batch.csv"


# --------------------------------------------------------------------------------------------
# Template and EPCI list


def load_template(path: str | Path) -> Scenario:
    """A scenario YAML used as a template; its ``epci`` (if any) is replaced per EPCI.

    A template may omit ``epci``. It may not name a ``data_file``: user figures belong to one
    EPCI, not to a batch.
    """
    path = Path(path)
    scenario = Scenario.from_yaml(path, require_epci=False)
    if scenario.data_file:
        raise InputError(Problem(
            "un modèle de lot ne peut pas contenir « data_file » : les données propres "
            "appartiennent à un seul EPCI (lancez `python -m model run` pour celui-ci)",
            file=path.name, column="data_file"))
    if scenario.territory is not None:
        raise InputError(Problem(
            "un modèle de lot ne peut pas contenir « territory » : le lot calcule chaque EPCI "
            "séparément (lancez `python -m model run` pour un territoire de plusieurs EPCI)",
            file=path.name, column="territory"))
    return scenario


def all_sirens() -> list[str]:
    """SIREN of every bundled EPCI (1,255), in catalogue order."""
    from model.data.bundled import epci_catalog

    return [str(s) for s in epci_catalog().index]


def resolve_sirens(queries: Iterable[str]) -> list[str]:
    """SIREN or names -> SIREN (unknown ones are kept: their run fails and is flagged)."""
    from model.data.bundled import find_epci

    out = []
    for q in queries:
        try:
            siren = find_epci(str(q))
        except ModelError:
            siren = str(q)
        if siren not in out:
            out.append(siren)
    return out


def for_epci(template: Scenario, siren: str) -> Scenario:
    """The template applied to one EPCI."""
    d = template.to_dict()
    d["epci"] = siren
    d["name"] = d.get("name") or ""
    return Scenario(**d, base_dir=template.base_dir)


def template_fingerprint(template: Scenario) -> str:
    """Stable hash of what the template computes (not its file name)."""
    d = template.to_dict()
    d.pop("epci", None)
    d.pop("name", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Rows of one EPCI: fast path and reference




@dataclass
class _Lp:
    amounts: np.ndarray  # (n, P) euros, cent-rounded
    status: str
    max_burden: float


def _solve_lp(ym: YearArrays, f: np.ndarray, cap_index: float, ranks: np.ndarray,
              official_inputs: Callable[[], object], solver: str = "highs-fast") -> _Lp:
    """The year's LP split, equal to ``allocate_lp(allocation_inputs(...))``.

    The optimal case mirrors `allocate_lp`'s steps (same arrays, backend, leximin, breakdown and
    rounding) without its explanations (binding constraints, duals), which the batch table does
    not show. Anything else (another solver, inputs that fail the checks, an infeasible LP)
    goes through `allocate_lp` itself, so its errors and diagnosis are the official ones.
    """
    arr = ym.arrays(f, cap_index) if solver == "highs-fast" else None
    if arr is not None:
        out = waterfill_leximin(HighsBackend(arr), arr)
        if out.first.optimal:
            x = breakdown(arr, out.final.x.sum(axis=1), fallback=out.final.x)
            to_split = ym.year(f, cap_index)[1]
            cents = np.array([int(round(float(v) * 100)) for v in to_split])
            amounts = largest_remainder_columns(x * SCALE_EUR, cents, ranks)
            return _Lp(amounts, "optimal", float(out.first.t))
    result = allocate_lp(official_inputs(), solver=solver)
    amounts = result.amounts.reindex(index=ym.communes, columns=ym.pools).to_numpy()
    return _Lp(amounts, result.status, float(result.max_burden))


def _first_year(hit: np.ndarray, years: np.ndarray) -> np.ndarray:
    """First year where ``hit`` (years x items) is true, per item; -1 when never."""
    any_hit = hit.any(axis=0)
    return np.where(any_hit, years[hit.argmax(axis=0)], -1)


def _scissor_fields(years: np.ndarray, series: dict[str, np.ndarray],
                    thresholds: dict) -> dict[str, int | None]:
    """Scissor years of the EPCI total (column 0) and first commune crossing (columns 1..).

    ``series[f"{col}_{case}"]`` is a (years x (1 + n)) array, column 0 the EPCI total.
    """
    out: dict[str, int | None] = {}
    for ind, (col, direction, key) in INDICATORS.items():
        thr = thresholds[key]
        for case in ("pooled", "standalone"):
            s = series[f"{col}_{case}"]
            hit = s < thr if direction == "below" else s > thr
            first = _first_year(hit, years)
            out[f"scissor_{ind}_{case}"] = int(first[0]) if first[0] >= 0 else None
            communes = first[1:]
            communes = communes[communes >= 0]
            out[f"first_commune_{ind}_{case}"] = int(communes.min()) if len(communes) else None
    return out


def epci_rows(resolved: ResolvedScenario) -> pd.DataFrame:
    """The batch rows (one per year) of a resolved scenario, as a typed frame."""
    return _frame(epci_records(resolved))


def epci_records(resolved: ResolvedScenario) -> list[dict]:
    """The batch rows (one per year) of a resolved scenario, without the long frames of `run()`.

    Same numbers as ``rows_from_run(run(scenario))``: the LP is the same `allocate_lp` call, the
    classic keys are split with the same shares and the same cent rounding.
    """
    scenario = resolved.scenario
    years = resolved.years
    communes = resolved.communes.values
    values = resolved.values
    base = base_costs(resolved)
    pools = list(base.pooled.index)
    prices = price_index(resolved)
    cap_index = resource_index(resolved)
    shares = key_shares(resolved, base)
    key_methods = [m for m in METHODS if m not in ("lp", "voted_key")]
    reference = shares[values["allocation"]["reference_key"]]
    share_arr = np.stack([shares[m][pools].reindex(communes.index).to_numpy(dtype=float)
                          for m in key_methods])  # (M, n, P)
    ranks = label_rank(communes.index)

    n, n_years = len(communes), len(years)
    y_arr = np.array(years)
    rrf_idx = resource_index(resolved, "rrf_growth").to_numpy()
    drf_idx = resource_index(resolved, "other_drf_growth").to_numpy()
    rrf0 = communes["rrf_eur"].to_numpy(dtype=float)
    chosen = scenario.method
    ym = YearArrays(resolved, base, pools)
    price_arr = prices[pools].to_numpy(dtype=float)
    cap_arr = cap_index.to_numpy(dtype=float)
    # per year: commune totals of the chosen method, stand-alone totals
    pooled_c = np.empty((n_years, n))
    alone_c = np.empty((n_years, n))
    epci_paid = np.zeros(n_years)
    rows = []
    for k, year in enumerate(years):
        f = price_arr[k]
        standalone_y, to_split, epci_amount, capacity = ym.year(f, cap_arr[k])
        lp = _solve_lp(ym, f, cap_arr[k], ranks, lambda year=year: allocation_inputs(
            resolved, year_costs(resolved, base, prices.loc[year], year, cap_index.loc[year])),
            scenario.solver)
        total_cents = np.array([int(round(float(v) * 100)) for v in to_split])
        raw = share_arr * to_split  # (M, n, P)
        flat = raw.transpose(1, 0, 2).reshape(n, -1)
        rounded = largest_remainder_columns(flat, np.tile(total_cents, len(key_methods)), ranks)
        amounts = {m: rounded[:, i * len(pools):(i + 1) * len(pools)]
                   for i, m in enumerate(key_methods)}
        amounts["lp"] = lp.amounts
        yc = year_costs(resolved, base, prices.loc[year], year, cap_index.loc[year])
        voted = allocate_voted(voted_inputs(resolved, yc, prices.loc[year], reference))
        amounts["voted_key"] = voted.amounts.reindex(index=communes.index,
                                                     columns=pools).to_numpy()
        epci = {p: round(float(v), 2) for p, v in zip(pools, epci_amount, strict=True) if v > 0}
        epci_paid[k] = float(sum(epci.values()))
        totals = {m: a.sum(axis=1) for m, a in amounts.items()}
        pooled_c[k] = totals[chosen]
        alone_c[k] = standalone_y.sum(axis=1)
        lp_pool = amounts["lp"].sum(axis=0)
        pooled_pool = {p: round(float(lp_pool[j] + epci.get(p, 0.0)), 2)
                       for j, p in enumerate(pools)}
        standalone = {p: round(float(v), 2) for p, v in zip(pools, standalone_y.sum(axis=0),
                                                             strict=True)}
        result = lp
        row = {
            "year": year,
            "lp_status": result.status,
            "voted_key_status": voted.status,
            "infeasible": result.status != "optimal",
            "pooled_cost_eur": round(sum(pooled_pool.values()), 2),
            "standalone_cost_eur": round(sum(standalone.values()), 2),
            "epci_share_eur": round(epci_paid[k], 2),
            **{f"pooled_{p}_eur": pooled_pool.get(p, np.nan) for p in POOLS},
            "max_burden": float(result.max_burden),
            **{f"max_burden_{m}": float(np.max(totals[m] / capacity)) for m in METHODS},
        }
        rows.append(row)

    # indicators, EPCI total (column 0) and communes
    other0 = np.clip(communes["drf_eur"].to_numpy(dtype=float) - alone_c[0], 0.0, None)
    rrf = rrf0[None, :] * rrf_idx[:, None]
    other = other0[None, :] * drf_idx[:, None]
    series = {}
    tot_rrf = rrf.sum(axis=1)
    tot_other = other.sum(axis=1)
    digital = {"pooled": (pooled_c, pooled_c.sum(axis=1) + epci_paid),
               "standalone": (alone_c, alone_c.sum(axis=1))}
    for case, (per_commune, total) in digital.items():
        d = np.column_stack([total, per_commune])
        r = np.column_stack([tot_rrf, rrf])
        o = np.column_stack([tot_other, other])
        series[f"teb_{case}"] = (r - o - d) / r
        series[f"epargne_brute_{case}"] = r - o - d
        series[f"digital_burden_{case}"] = d / r
    scissor = _scissor_fields(y_arr, series, values["projection"])
    for k, row in enumerate(rows):
        row["rrf_eur"] = float(tot_rrf[k])
        for case in ("pooled", "standalone"):
            row[f"digital_burden_{case}"] = float(series[f"digital_burden_{case}"][k, 0])
            row[f"teb_{case}"] = float(series[f"teb_{case}"][k, 0])
        row["saving_eur"] = round(row["standalone_cost_eur"] - row["pooled_cost_eur"], 2)
        row.update(scissor)
    identity = _identity(resolved)
    return [{**identity, **r} for r in rows]


def rows_from_run(result) -> pd.DataFrame:
    """The batch rows of a full `run()` result (the reference `epci_rows` must match)."""
    return _frame(run_records(result))


def run_records(result) -> list[dict]:
    """The batch rows of a full `run()` result, as plain records."""
    summary, proj = result.summary, result.projection
    pools = list(proj.resolved.scenario.pools)
    frame = proj.projection
    total = frame[frame["commune"] == EPCI_ID].set_index("year")
    alloc = proj.allocation[proj.allocation["payer_id"] != EPCI_ID]
    paid = alloc.groupby(["year", "method", "payer_id"])["amount_eur"].sum()
    capacity = frame[frame["commune"] != EPCI_ID].set_index(["year", "commune"])["capacity_eur"]
    scissor = result.scissor
    fields: dict[str, int | None] = {}
    for ind in INDICATORS:
        sc = scissor[scissor["indicator"] == ind]
        epci = sc[sc["commune"] == EPCI_ID].iloc[0]
        com = sc[sc["commune"] != EPCI_ID]
        for case in ("pooled", "standalone"):
            v = epci[f"year_{case}"]
            fields[f"scissor_{ind}_{case}"] = None if pd.isna(v) else int(v)
            first = com[f"year_{case}"].min()
            fields[f"first_commune_{ind}_{case}"] = None if pd.isna(first) else int(first)
    rows = []
    for y in summary["years"]:
        year = y["year"]
        pooled = y["pooled_cost_eur"]
        row = {
            "year": year,
            "lp_status": y["solver_status"],
            "voted_key_status": y["default_method"]["status"],
            "infeasible": y["solver_status"] != "optimal",
            "pooled_cost_eur": round(sum(pooled.values()), 2),
            "standalone_cost_eur": round(sum(y["standalone_cost_eur"].values()), 2),
            "epci_share_eur": round(sum(y["epci_share_eur"].values()), 2),
            **{f"pooled_{p}_eur": pooled.get(p, np.nan) if p in pools else np.nan
               for p in POOLS},
            "max_burden": y["max_burden"],
        }
        for m in METHODS:
            burden = paid.loc[(year, m)] / capacity.loc[year].reindex(paid.loc[(year, m)].index)
            row[f"max_burden_{m}"] = float(burden.max())
        t = total.loc[year]
        row["rrf_eur"] = float(t["rrf_eur"])
        for case in ("pooled", "standalone"):
            row[f"digital_burden_{case}"] = float(t[f"digital_burden_{case}"])
            row[f"teb_{case}"] = float(t[f"teb_{case}"])
        row["saving_eur"] = round(row["standalone_cost_eur"] - row["pooled_cost_eur"], 2)
        row.update(fields)
        rows.append(row)
    identity = _identity(proj.resolved)
    return [{**identity, **r} for r in rows]


def _identity(resolved: ResolvedScenario) -> dict:
    return {"epci_siren": resolved.epci.siren, "epci_name": resolved.epci.name,
            "epci_type": resolved.epci.type, "communes": len(resolved.communes.values),
            "population": int(resolved.communes.values["population"].sum()),
            "status": "ok", "error": ""}


def _frame(records: list[dict]) -> pd.DataFrame:
    return _typed(pd.DataFrame(records).reindex(columns=BATCH_COLUMNS))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.astype({c: "Int64" for c in INT_COLUMNS})
    df = df.astype({"epci_siren": str, "error": str})
    df["infeasible"] = df["infeasible"].astype("boolean")
    return df


def error_records(siren: str, message: str) -> list[dict]:
    """The single row of an EPCI whose run failed."""
    from model.data.bundled import epci_catalog

    catalog = epci_catalog()
    ident = {"epci_siren": siren, "status": "erreur", "error": message}
    if siren in catalog.index:
        row = catalog.loc[siren]
        ident.update({"epci_name": row["epci_name"], "epci_type": row["epci_type"],
                      "communes": int(row["nb_communes"]), "population": int(row["population"])})
    return [ident]


# --------------------------------------------------------------------------------------------
# One unit of work (runs in a worker process or a Dask worker)


@dataclass
class EpciOutcome:
    siren: str
    rows: list[dict]
    seconds: float
    ok: bool


def work(siren: str, template: dict, base_dir: str | None, out_dir: str | None = None,
         per_epci: bool = False) -> EpciOutcome:
    """Compute one EPCI's rows (and write its outputs when ``per_epci``); never raises."""
    start = time.perf_counter()
    try:
        scenario = Scenario(**{**template, "epci": siren},
                            base_dir=Path(base_dir) if base_dir else None)
        if per_epci:
            from model.report.export import write_outputs
            from model.run import run

            result = run(scenario)
            write_outputs(result, Path(out_dir) / "epci" / siren)
            records = run_records(result)
        else:
            records = epci_records(scenario.resolve())
        ok = True
    except ModelError as exc:
        records, ok = error_records(siren, str(exc)), False
    except Exception as exc:  # noqa: BLE001 - one bad EPCI must not stop the batch
        records = error_records(siren, f"erreur inattendue ({type(exc).__name__}) : {exc}")
        ok = False
    return EpciOutcome(siren, records, time.perf_counter() - start, ok)


# --------------------------------------------------------------------------------------------
# The work folder: finished EPCIs, resumable


class Parts:
    """``OUT/.batch/parts.jsonl``: one JSON line per finished EPCI, appended as they finish."""

    def __init__(self, out_dir: Path, template: Scenario):
        self.dir = out_dir / WORK_DIR
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / PARTS_FILE
        fingerprint = template_fingerprint(template)
        meta = self.dir / TEMPLATE_FILE
        if meta.exists():
            known = json.loads(meta.read_text(encoding="utf-8"))
            if known.get("fingerprint") != fingerprint:
                raise InputError(Problem(
                    f"le dossier {out_dir} contient déjà un lot calculé avec un autre scénario : "
                    "choisissez un autre dossier --out (ou supprimez-le pour recommencer)"))
        else:
            tmp = meta.with_suffix(".tmp")
            tmp.write_text(json.dumps({"fingerprint": fingerprint, "template": template.to_dict()},
                                      ensure_ascii=False, indent=1, default=str), encoding="utf-8")
            os.replace(tmp, meta)
        self.done: dict[str, list[dict]] = {}
        if self.path.exists():
            with self.path.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        part = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut by an interruption: that EPCI is redone
                    self.done[part["siren"]] = part["rows"]
        self._fh = None

    def add(self, outcome: EpciOutcome) -> None:
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
            if self._fh.tell() > 0:
                self._fh.write("\n")  # make sure a cut last line cannot swallow this one
        self._fh.write(json.dumps({"siren": outcome.siren, "rows": outcome.rows,
                                   "seconds": round(outcome.seconds, 4)}, ensure_ascii=False))
        self._fh.write("\n")
        self._fh.flush()
        self.done[outcome.siren] = outcome.rows

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def write_table(rows: list[dict], path: Path) -> Path:
    """Write the batch table atomically (temporary file, then rename); text a spreadsheet would
    read as a formula (an EPCI name, an error message) is escaped like `run`'s CSVs."""
    df = _typed(pd.DataFrame(rows).reindex(columns=BATCH_COLUMNS))
    df = df.sort_values(["epci_siren", "year"], kind="stable", na_position="first")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        escape_frame(df).to_csv(tmp, index=False, float_format="%.10g")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a batch.csv back with its types."""
    df = pd.read_csv(path, dtype={"epci_siren": str, "error": str, "lp_status": str},
                     keep_default_na=True)
    df["error"] = df["error"].fillna("")
    return _typed(df)


# --------------------------------------------------------------------------------------------
# The batch


@dataclass
class BatchResult:
    table: Path
    computed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _size(siren: str) -> int:
    from model.data.bundled import epci_catalog

    catalog = epci_catalog()
    return int(catalog.loc[siren, "nb_communes"]) if siren in catalog.index else 0


def run_batch(template: Scenario, sirens: list[str], out_dir: str | Path, *,
              workers: int | None = None, per_epci: bool = False, dask: str | None = None,
              dask_processes: bool = True, progress: bool = True) -> BatchResult:
    """Run ``template`` over ``sirens``; write ``out_dir/batch.csv`` (and per-EPCI outputs).

    Parameters
    ----------
    workers : processes (or Dask workers of a local cluster); default one per core. ``1``
        computes in this process.
    per_epci : also write each EPCI's full outputs (`python -m model run` files) into
        ``out_dir/epci/SIREN/`` (slower: the full run and its XLSX report).
    dask : ``None`` for a local process pool; ``"local"`` for a Dask `LocalCluster`; otherwise
        the address of a running Dask scheduler (``tcp://host:8786``), whose workers must have
        this package installed.
    dask_processes : local cluster with worker processes (``False``: threads, for tests).
    progress : show a progress bar on stderr.
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    template.check()
    # an earlier version's batch folder (no marker yet) is recognised by its work folder
    earlier = (out_dir / WORK_DIR / TEMPLATE_FILE).is_file() and not out_dir.is_symlink()
    claim_dir(out_dir, scenario_inputs(template), adopt=earlier)
    parts = Parts(out_dir, template)
    wanted = list(dict.fromkeys(sirens))

    def finished(s: str) -> bool:
        if s not in parts.done:
            return False
        return not per_epci or (out_dir / "epci" / s / "summary.json").exists() or (
            parts.done[s][0].get("status") == "erreur")

    todo = [s for s in wanted if not finished(s)]
    skipped = [s for s in wanted if s not in todo]
    todo.sort(key=_size, reverse=True)  # largest first: better balance between workers
    tpl = template.to_dict()
    base_dir = str(template.base_dir) if template.base_dir else None
    args = (tpl, base_dir, str(out_dir), per_epci)
    computed, failed = [], []

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(wanted), initial=len(skipped), unit="EPCI", file=sys.stderr,
                   desc="Lot", dynamic_ncols=True, mininterval=0.5)

    def record(outcome: EpciOutcome) -> None:
        parts.add(outcome)
        computed.append(outcome.siren)
        if not outcome.ok:
            failed.append(outcome.siren)
        if bar is not None:
            bar.update(1)

    try:
        if todo:
            if dask is not None:
                _run_dask(todo, args, record, dask, workers, dask_processes)
            elif (workers or os.cpu_count() or 1) <= 1 or len(todo) == 1:
                for s in todo:
                    record(work(s, *args))
            else:
                _run_pool(todo, args, record, workers or os.cpu_count() or 1)
    finally:
        parts.close()
        if bar is not None:
            bar.close()
    rows = [r for s in wanted for r in parts.done[s]]
    failed_all = [s for s in wanted if parts.done[s][0].get("status") == "erreur"]
    table = write_table(rows, out_dir / TABLE_FILE)
    return BatchResult(table, computed, skipped, failed_all, time.perf_counter() - start)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _parent_watch(parent_pid: int) -> None:
    """Initializer of the pool's workers: a worker dies with the batch's process.

    A `kill -9` of the parent must not leave workers computing (and writing per-EPCI outputs)
    forever. On Linux the kernel sends SIGKILL to the worker when its parent dies
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere, or if that call fails, a daemon thread polls
    ``os.getppid()`` every half second and exits when the worker has been re-parented. The
    parent's death before this call is caught by checking that it is still alive.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    ppid = os.getppid()
    if not pid_alive(parent_pid):
        os._exit(1)
    if not armed:
        import threading

        def watch() -> None:
            while True:
                time.sleep(0.5)
                if os.getppid() != ppid:
                    os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run_pool(todo: list[str], args: tuple, record: Callable[[EpciOutcome], None],
              workers: int) -> None:
    with cf.ProcessPoolExecutor(max_workers=min(workers, len(todo)), initializer=_parent_watch,
                                initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(work, s, *args) for s in todo]
        try:
            for fut in cf.as_completed(futures):
                record(fut.result())
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _run_dask(todo: list[str], args: tuple, record: Callable[[EpciOutcome], None],
              address: str, workers: int | None, processes: bool) -> None:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=processes, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        futures = client.map(work, todo, *[[a] * len(todo) for a in args], pure=False)
        for fut in as_completed(futures):
            record(fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def summarise(table: pd.DataFrame) -> dict:
    """A few figures for the end-of-batch message."""
    ok = table[table["status"] == "ok"]
    n_epci = table["epci_siren"].nunique()
    return {
        "epci": n_epci,
        "failed": int(table.loc[table["status"] != "ok", "epci_siren"].nunique()),
        "infeasible_years": int(ok["infeasible"].sum()),
        "scissor_teb_alert": int(ok.groupby("epci_siren")["scissor_teb_alert_pooled"].first()
                                 .notna().sum()) if len(ok) else 0,
        "mean_saving_share": float(ok["saving_eur"].sum() / ok["standalone_cost_eur"].sum())
        if len(ok) and ok["standalone_cost_eur"].sum() > 0 else math.nan,
    }
