"""Territories beyond one EPCI (issue #15 target: a full run with every output file for a
2,000-commune territory under 10 s and 1 GB), measured, never asserted.

Rows: the département of Loir-et-Cher (267 communes), the région Centre-Val de Loire (1,754,
the GIP RECIA case) and a 2,000-commune territory given as a file of INSEE codes (the first 2,000
EPCI member communes of Hauts-de-France by code). Each runs in its own process (its peak
resident memory is its own), as ``python -m model run`` does: resolve the scenario, project
2026-2032 with every method, build summary.json, write every output file. Columns:

* resolve: ``Scenario.from_yaml`` and ``resolve()`` (territory, user data, estimates);
* allocation: the split methods (default voted key, péréquation LP, nucleolus, Shapley) and the
  core check of every method and year, wherever they are called (project() and the summary);
* projection: the rest of ``project()`` (costs, keys, long frames, scissor columns);
* summary: the rest of ``build_summary()``;
* writing: ``write_outputs()`` (CSV, summary.json and report.xlsx; report.xlsx alone beside).

Run: ``.venv/bin/python bench/bench_territory.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = [
    ("Loir-et-Cher (département 41)", "territory: {departement: \"41\"}"),
    ("Centre-Val de Loire (région 24)", "territory: {region: \"24\"}"),
    ("2 000 communes des Hauts-de-France (fichier)", "territory: {communes: communes.csv}"),
]


class Clock:
    """Seconds spent in wrapped functions (outermost calls only)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.depth = 0

    def wrap(self, module, name: str, label: str) -> None:
        inner = getattr(module, name)

        def timed(*args, **kwargs):
            if self.depth:
                return inner(*args, **kwargs)
            self.depth += 1
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.depth -= 1
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start

        setattr(module, name, timed)


def one(folder: Path) -> dict:
    """One territory's timings (in this process)."""
    import model.projection as projection
    import model.report.export as export
    import model.run as run_module
    from model.scenario import Scenario

    clock = Clock()
    for name in ("allocate_lp", "allocate_voted", "nucleolus", "shapley_values"):
        clock.wrap(projection, name, "allocation")
    clock.wrap(run_module, "core_report", "allocation")
    clock.wrap(export, "write_report", "report_xlsx")

    t0 = time.perf_counter()
    scenario = Scenario.from_yaml(folder / "scenario.yaml")
    resolved = scenario.resolve()
    t1 = time.perf_counter()
    proj = projection.project(resolved)
    scissor = projection.scissor_table(proj.projection, resolved.values["projection"])
    t2 = time.perf_counter()
    alloc_in_project = clock.seconds.get("allocation", 0.0)
    summary = run_module.build_summary(proj, scissor)
    t3 = time.perf_counter()
    alloc_in_summary = clock.seconds.get("allocation", 0.0) - alloc_in_project
    result = run_module.RunResult(proj, scissor, summary)
    export.write_outputs(result, folder / "out")
    t4 = time.perf_counter()
    core = summary["years"][0]["core"]
    return {
        "communes": len(resolved.communes.values),
        "resolve": t1 - t0,
        "allocation": alloc_in_project + alloc_in_summary,
        "projection": (t2 - t1) - alloc_in_project,
        "summary": (t3 - t2) - alloc_in_summary,
        "writing": t4 - t3,
        "report_xlsx": clock.seconds.get("report_xlsx", 0.0),
        "total": t4 - t0,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "nucleolus_exact": {p: (r or {}).get("exact") for p, r in
                            summary["years"][0]["least_core"].items()},
        "core_exact": sorted(m for m, c in core.items() if not c["exact"]),
        "in_core": {m: c["in_core"] for m, c in core.items()},
        "shapley": {p: m["method"] for p, m in summary["shapley"].items()},
    }


def prepare(folder: Path, territory: str) -> None:
    """A scenario with the model's defaults (and the communes file of the third case)."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    members = pd.read_csv(ROOT / "data" / "epci_communes.csv", dtype=str)
    codes = sorted(members.loc[members["region"] == "32", "commune_insee"])[:2000]
    (folder / "communes.csv").write_text("commune\n" + "\n".join(codes) + "\n", encoding="utf-8")
    (folder / "scenario.yaml").write_text(f"name: bench\n{territory}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (label, territory) in enumerate(CASES):
            folder = Path(tmp) / f"case{k}"
            prepare(folder, territory)
            out = subprocess.run([sys.executable, __file__, "--one", str(folder)], check=True,
                                 capture_output=True, text=True, cwd=ROOT)
            rows.append((label, json.loads(out.stdout.strip().splitlines()[-1])))
    print(f"Territories, full run with every output file (wall seconds; {platform.node()}, "
          f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()})")
    cols = ["communes", "resolve", "allocation", "projection", "summary", "writing",
            "report_xlsx", "total", "peak_mb"]
    heads = ["communes", "resolve", "allocation", "projection", "summary", "writing",
             "(xlsx)", "total", "peak MB"]
    width = max(len(label) for label, _ in rows)
    header = f"{'territory':<{width}} " + " ".join(f"{h:>10}" for h in heads)
    print(header)
    print("-" * len(header))
    for label, r in rows:
        cells = [f"{r['communes']:>10d}"] + [f"{r[c]:>10.2f}" for c in cols[1:-1]]
        cells.append(f"{r['peak_mb']:>10.0f}")
        print(f"{label:<{width}} " + " ".join(cells))
    print("Target: total under 10 s and peak under 1 GB at about 2,000 communes.")
    for label, r in rows:
        print(f"  {label}: Shapley {r['shapley']}; nucleolus exact {r['nucleolus_exact']}; "
              f"core checks of the start year stopped at a bound: {r['core_exact'] or 'none'}")


if __name__ == "__main__":
    main()
