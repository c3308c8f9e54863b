"""Benchmark of one widget-style update of the Simulateur on the largest EPCI (158 communes).

For each kind of widget change, prints the median wall time (ms) split into: allocation (the LP
of every year and every method, only when an input of the LP changed), indicators (the
projection frame re-derived for the method and thresholds, scissor table), tables (the French
per-commune table and the crossings table as HTML) and chart spec (the Altair specs the
JupyterCharts receive), then the total measured through the panel itself (widget value set ->
everything on screen up to date). The panel shows its heaviest tab, « Effet ciseau » (two charts
and the crossings table); charts of hidden tabs are drawn when their tab is opened, so the
« chart spec » column (all four charts) is an upper bound. Target: under 150 ms for the changes
that do not touch the LP.
Run: ``.venv/bin/python bench/bench_ui.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.data.bundled import epci_catalog  # noqa: E402
from model.report import charts  # noqa: E402
from model.scenario import Scenario  # noqa: E402
from model.ui.panels import SimulatorPanel  # noqa: E402
from model.ui.views import (  # noqa: E402
    Simulation,
    display_commune_table,
    display_crossings,
    html_table,
)

TARGET_MS = 150


def largest_epci() -> str:
    cat = epci_catalog()
    return cat[cat["epci_type"].isin(["CC", "CA"])]["nb_communes"].idxmax()


def ms(seconds: float) -> float:
    return round(1000 * seconds, 1)


def split(sim: Simulation, scenario: Scenario, year: int, fresh: bool) -> dict[str, float]:
    """Time each stage of an update for ``scenario`` (``fresh``: the LP must be solved)."""
    if fresh:
        sim._cache.clear()
    view = sim.view(scenario)
    out = {"allocation": sim.timings["allocation"], "indicators": sim.timings["indicators"]}
    t = time.perf_counter()
    html_table(display_commune_table(view, year, scenario.method))
    html_table(display_crossings(view))
    out["tables"] = time.perf_counter() - t
    t = time.perf_counter()
    proj = view.projection
    first = list(charts.first_crossings(view.scissor, n=5)["commune"])
    for chart in (charts.scissor_chart(proj.projection, view.scissor),
                  charts.burden_chart(proj.projection, view.thresholds, highlight=first),
                  charts.allocation_chart(proj.allocation, proj.inputs, year, scenario.method),
                  charts.method_comparison_chart(proj.allocation, proj.inputs, year,
                                                 chosen=scenario.method)):
        chart.to_dict()
    out["chart spec"] = time.perf_counter() - t
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    siren = largest_epci()
    base = Scenario(epci=siren)
    sim = Simulation()
    panel = SimulatorPanel(base, simulation=Simulation(), offline=False)
    years = panel.year.options
    panel.tabs.selected_index = 1  # « Effet ciseau »: the heaviest tab
    n = len(panel.view.projection.resolved.communes.values)
    name = panel.view.projection.resolved.epci.name

    cases = [
        ("méthode affichée", lambda i: dataclasses.replace(
            base, method=["population", "equal", "shapley"][i % 3]), False,
         lambda i: setattr(panel.method, "value", ["population", "equal", "shapley"][i % 3])),
        ("seuil d'alerte", lambda i: dataclasses.replace(
            base, assumptions={"projection": {"teb_alert": 0.11 + 0.01 * i}}), False,
         lambda i: setattr(panel.teb_alert, "value", 0.11 + 0.01 * i)),
        ("hausse des licences (LP)", lambda i: dataclasses.replace(
            base, assumptions={"licences": {"growth": 0.06 + 0.01 * i}}), True,
         lambda i: setattr(panel.licences_growth, "value", 0.06 + 0.01 * i)),
    ]
    sim.view(base)  # warm the cache as the panel is after its first display
    rows = []
    for label, make, fresh, widget_change in cases:
        parts: dict[str, list[float]] = {}
        totals = []
        for i in range(args.repeats):
            for key, value in split(sim, make(i), years[-1], fresh).items():
                parts.setdefault(key, []).append(value)
            t = time.perf_counter()
            widget_change(i)
            totals.append(time.perf_counter() - t)
            assert "calcul à jour" in panel.message, panel.message
        row = {"update": label}
        row.update({k: ms(statistics.median(v)) for k, v in parts.items()})
        row["panel total"] = ms(statistics.median(totals))
        row["target"] = "ok" if fresh or row["panel total"] < TARGET_MS else "SLOW"
        if fresh:
            row["target"] = "LP: " + ("ok" if row["panel total"] < 1000 else "SLOW") + " (<1 s)"
        rows.append(row)

    print(f"UI update benchmark: {name} ({siren}), {n} communes, {len(years)} years, "
          f"median of {args.repeats} (ms); target {TARGET_MS} ms without LP")
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)))


if __name__ == "__main__":
    main()
