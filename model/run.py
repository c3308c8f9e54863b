"""Run a scenario end to end: resolve, project, summarise. No file I/O here (see report.export)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model import __version__
from model.allocation.voted import core_report
from model.data.bundled import DATA_VINTAGE
from model.projection import (
    EPCI_ID,
    Projection,
    nucleolus_of_pool,
    project,
    scissor_table,
    shapley_method,
)
from model.scenario import METHODS, Scenario
from model.scissor import attribution, headline_fr, named_crossings


@dataclass
class RunResult:
    """A scenario's projection, its scissor table and its machine-readable summary."""

    projection: Projection
    scissor: pd.DataFrame
    summary: dict

    @property
    def resolved(self):
        return self.projection.resolved


def run(scenario: Scenario, user_table: pd.DataFrame | None = None) -> RunResult:
    """Resolve ``scenario``, project every year with every method, find the scissor years."""
    resolved = scenario.resolve(user_table)
    proj = project(resolved)
    scissor = scissor_table(proj.projection, resolved.values["projection"])
    return RunResult(proj, scissor, build_summary(proj, scissor))


def build_summary(proj: Projection, scissor: pd.DataFrame) -> dict:
    """The summary.json content: per year costs, EPCI share, t*, solver; scissor; scenario."""
    resolved = proj.resolved
    inputs = proj.inputs
    pivots = method_amounts(proj)

    def amounts(method: str, year: int) -> pd.DataFrame:
        found = pivots.get((year, method))
        return proj.amounts(method, year) if found is None else found

    years = []
    for year in proj.years:
        inp = inputs[(inputs["year"] == year) & (inputs["payer_id"] != EPCI_ID)]
        lp = proj.lp[year]
        alloc = proj.allocation
        epci = alloc[(alloc["year"] == year) & (alloc["method"] == "lp")
                     & (alloc["payer_id"] == EPCI_ID)].set_index("pool")["amount_eur"]
        lp_amounts = amounts("lp", year)[list(resolved.scenario.pools)]
        years.append({
            "year": year,
            "pooled_cost_eur": {p: round(float(v), 2) for p, v in
                                (lp_amounts.sum() + epci.reindex(lp_amounts.columns,
                                                                 fill_value=0.0)).items()},
            "standalone_cost_eur": {p: round(float(v), 2) for p, v in
                                    inp.groupby("pool")["standalone_eur"].sum().items()},
            "epci_share_eur": {p: round(float(epci.get(p, 0.0)), 2) for p in lp_amounts.columns},
            "max_burden": float(lp.max_burden),
            "solver_status": lp.status,
            "solver": lp.solver,
            "solve_seconds": round(float(lp.solve_seconds), 4),
            "leximin_rounds": int(lp.leximin_rounds),
            "default_method": voted_summary(proj, year),
            "core": {m: (proj.voted[year].core if m == "voted_key"  # already checked there
                         else core_report(proj.voted_inputs[year], amounts(m, year))
                         ).to_dict() for m in METHODS},
            "diagnosis": diagnosis_records(proj, year),
            "least_core": least_core_record(proj, year),
        })
    epci_rows = scissor[scissor["commune"] == EPCI_ID]
    communes = scissor[scissor["commune"] != EPCI_ID]
    scissor_years = {
        "epci": {r.indicator: {"pooled": _int(r.year_pooled), "standalone": _int(r.year_standalone)}
                 for r in epci_rows.itertuples()},
        "communes": {
            ind: {
                "first_year_pooled": _int(df["year_pooled"].min()),
                "first_year_standalone": _int(df["year_standalone"].min()),
                "communes_crossing_pooled": int(df["year_pooled"].notna().sum()),
                "communes_crossing_standalone": int(df["year_standalone"].notna().sum()),
            }
            for ind, df in communes.groupby("indicator")
        },
    }
    estimated = resolved.communes.estimated
    att = attribution(proj.projection)
    start, end = proj.years[0], proj.years[-1]
    scissor_block = {
        "headline_fr": headline_fr(att.loc[EPCI_ID], start, end, resolved.epci.name),
        "attribution": {c: {k: (_num(v) if k != "name" else v) for k, v in row.items()}
                        for c, row in att.to_dict(orient="index").items()},
        "communes_by_indicator": named_crossings(scissor, proj.projection),
        "communes_with_estimated_finances": int(
            proj.projection.loc[(proj.projection["commune"] != EPCI_ID)
                                & (proj.projection["year"] == start),
                                "finances_estimated"].sum()),
    }
    return {
        "epci": {"siren": resolved.epci.siren, "name": resolved.epci.name,
                 "type": resolved.epci.type, "mode_financement": resolved.epci.mode_financement,
                 "communes": len(resolved.communes.values),
                 "population": int(resolved.communes.values["population"].sum())},
        "years": years,
        "shapley": shapley_method(resolved),
        "tariff_grids": tariff_report(proj),
        "scissor_years": scissor_years,
        "scissor": scissor_block,
        "warnings": list(resolved.warnings),
        "estimated_fields": {c: int(n) for c, n in estimated.sum().items() if n},
        "accounts_year": int(resolved.values["finance"]["accounts_year"]),
        "excluded_communes": [{"commune": c, "name": r["name"], "reason": r["reason"]}
                              for c, r in resolved.excluded.iterrows()],
        "scenario": resolved.scenario.to_dict(),
        "assumptions": resolved.values,
        "version": __version__,
        "data_vintage": DATA_VINTAGE,
    }


def method_amounts(proj: Projection) -> dict[tuple[int, str], pd.DataFrame]:
    """``Projection.amounts(method, year)`` of every year and method, from one grouping of the
    allocation table (one filter per pair costs a pass over the whole table)."""
    a = proj.allocation
    a = a[a["payer_id"] != EPCI_ID]
    return {(int(year), str(method)): g.pivot(index="payer_id", columns="pool", values="amount_eur")
            for (year, method), g in a.groupby(["year", "method"], sort=False)}


def voted_summary(proj: Projection, year: int) -> dict:
    """The default method's year: status, how far it departs from the key, and why."""
    v = proj.voted[year]
    rules = proj.voted_inputs[year].rules
    return {
        "method": "voted_key",
        "status": v.status,
        "reference_key": proj.voted_inputs[year].key_name,
        "rules": {k: (list(val) if isinstance(val, tuple) else val)
                  for k, val in rules.__dict__.items()},
        "key_kept": bool(v.key_kept),
        "max_increase": round(float(v.increase), 6),
        "summary_fr": v.summary_fr,
        "core_rows": int(v.core_rows),
        "leximin_rounds": int(v.rounds),
        "conflict": (v.conflict or {}).get("rules", []),
    }


def tariff_report(proj: Projection) -> dict:
    """Per service with a grid: what the grid bills in the start year against what the service
    costs the communes, the gap, and the stated rule that balances it."""
    from model.tariffs import balance_grid, grid_amounts

    resolved = proj.resolved
    start = proj.years[0]
    out = {}
    for pool, rule in resolved.scenario.tariffs.items():
        if pool not in resolved.scenario.pools:
            continue
        billed = grid_amounts(rule, resolved.communes.values, f"tariffs.{pool}")
        cost = float(proj.voted_inputs[start].to_split[pool])
        out[pool] = balance_grid(billed, cost)[1]
    return out


def least_core_record(proj: Projection, year: int) -> dict:
    """Per pool, the least-core value epsilon* of the year (euros: how much every group could
    still be charged less than its own cost; negative: the core is empty) and its exactness."""
    resolved = proj.resolved
    share = resolved.values["allocation"]["epci_share"]
    out = {}
    for pool in resolved.scenario.pools:
        r = nucleolus_of_pool(resolved, pool, float(share.get(pool, 0.0) or 0.0))
        factor = float(proj.voted_inputs[year].games[pool].factor)
        out[pool] = None if r is None else {
            "epsilon_star_eur": round(float(r.epsilon_star_eur) * factor, 2),
            "epsilon_lower_eur": round(float(r.epsilon_lower_eur) * factor, 2),
            "exact": bool(r.exact),
            "nucleolus_lps": int(r.lps)}
    return out


def diagnosis_records(proj: Projection, year: int) -> list[dict]:
    """Why a year's rules cannot all hold: the default method's diagnosis, then the
    péréquation LP's (each row names a constraint group, commune, pool and euros)."""
    out = []
    for method, diag in (("voted_key", proj.voted[year].diagnosis), ("lp", proj.lp[year].diagnosis)):
        for r in diag.itertuples():
            out.append({"method": method, "group": r.group, "commune": r.commune, "pool": r.pool,
                        "slack_eur": round(float(r.slack_eur), 2),
                        "explanation_fr": r.explanation_fr})
    return out


def _num(v):
    """JSON-safe number: floats rounded (euros to the cent, ratios to 1e-6), NaN as null."""
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if v is None or pd.isna(v):
        return None
    v = float(v)
    return round(v, 2) if abs(v) >= 1 else round(v, 6)


def _int(v) -> int | None:
    return None if pd.isna(v) else int(v)
