"""Batch reruns for the analysis notebook (papermill): scenarios and EPCIs -> output folders.

Each run writes the machine contract of ``python -m model run`` (``write_outputs``) into its own
folder, plus the scissor chart as PNG and SVG in ``graphiques/``; a French summary table of all
runs is returned and written as ``synthese.csv``. A run that fails is reported in the table
(column « Statut ») and the others go on.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from model.data.bundled import load_epci
from model.errors import ModelError
from model.report import charts
from model.report.export import write_csv_fr, write_outputs
from model.scenario import Scenario
from model.ui.panels import _slug, as_scenario
from model.ui.views import Simulation, key_numbers


def batch_scenarios(scenarios: list[str] | tuple[str, ...] = (),
                    epcis: list[str] | tuple[str, ...] = ()) -> list[Scenario]:
    """Scenarios from YAML paths or bundled scenario names, plus the default scenario of each
    EPCI (SIREN or name)."""
    out = [as_scenario(s) for s in scenarios]
    for query in epcis:
        epci = load_epci(str(query))
        out.append(Scenario(epci=epci.siren, name=f"{epci.name} — hypothèses par défaut"))
    return out


def run_batch(scenarios: list[str] | tuple[str, ...] = (), epcis: list[str] | tuple[str, ...] = (),
              out_dir: str | Path = "sorties/analyse", save_charts: bool = True) -> pd.DataFrame:
    """Run every scenario, write its outputs under ``out_dir/<name>/``; return the summary."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        todo = batch_scenarios(scenarios, epcis)
    except ModelError as exc:
        raise SystemExit(f"Paramètres invalides : {exc}") from None
    sim = Simulation(max_cached=1)
    for scenario in todo:
        folder = out_dir / (_slug(scenario.name or scenario.epci) or scenario.epci)
        row = {"Scénario": scenario.name or scenario.epci, "Dossier": str(folder)}
        try:
            view = sim.view(scenario)
            result = view.result()  # the same as model.run.run(scenario)
            write_outputs(result, folder)
            if save_charts:
                graphs = folder / "graphiques"
                graphs.mkdir(exist_ok=True)
                proj = result.projection
                for name, chart in (("ciseau_euros", charts.blades_chart(proj.projection)),
                                    ("epargne_brute_cascade",
                                     charts.attribution_chart(proj.projection))):
                    charts.save_chart(chart, graphs / f"{name}.png")
                    charts.save_chart(chart, graphs / f"{name}.svg")
                scissor = charts.scissor_chart(proj.projection, result.scissor)
                charts.save_chart(scissor, graphs / "effet_ciseau.png")
                charts.save_chart(scissor, graphs / "effet_ciseau.svg")
                burden = charts.burden_chart(
                    proj.projection, proj.resolved.values["projection"],
                    highlight=list(charts.first_crossings(result.scissor, n=5)["commune"]))
                charts.save_chart(burden, graphs / "epargne_brute.png")
            row.update(key_numbers(view))
            row["Statut"] = "infaisable : voir summary.json" if view.infeasible_years else "ok"
        except ModelError as exc:
            row["Statut"] = f"erreur : {exc}"
        rows.append(row)
    summary = pd.DataFrame(rows)
    write_csv_fr(summary, out_dir / "synthese.csv")  # opened in French Excel by double-click
    return summary
