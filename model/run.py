"""Run a scenario end to end: resolve, project, summarise. No file I/O here (see report.export)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from model import __version__
from model.data.bundled import DATA_VINTAGE
from model.projection import EPCI_ID, Projection, project, scissor_table
from model.scenario import Scenario


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
    years = []
    for year in proj.years:
        inp = inputs[(inputs["year"] == year) & (inputs["payer_id"] != EPCI_ID)]
        lp = proj.lp[year]
        alloc = proj.allocation
        epci = alloc[(alloc["year"] == year) & (alloc["method"] == "lp")
                     & (alloc["payer_id"] == EPCI_ID)].set_index("pool")["amount_eur"]
        lp_amounts = proj.amounts("lp", year)[list(resolved.scenario.pools)]
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
    return {
        "epci": {"siren": resolved.epci.siren, "name": resolved.epci.name,
                 "type": resolved.epci.type, "mode_financement": resolved.epci.mode_financement,
                 "communes": len(resolved.communes.values),
                 "population": int(resolved.communes.values["population"].sum())},
        "years": years,
        "scissor_years": scissor_years,
        "estimated_fields": {c: int(n) for c, n in estimated.sum().items() if n},
        "excluded_communes": [{"commune": c, "name": r["name"], "reason": r["reason"]}
                              for c, r in resolved.excluded.iterrows()],
        "scenario": resolved.scenario.to_dict(),
        "assumptions": resolved.values,
        "version": __version__,
        "data_vintage": DATA_VINTAGE,
    }


def _int(v) -> int | None:
    return None if pd.isna(v) else int(v)
