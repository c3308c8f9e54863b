"""Benchmark of the finance deliverables: report.xlsx (XlsxWriter), the financial annex
(.docx) and the dossier de plénière's HTML page, for territories of growing size.

Prints the median wall time (s) of each file over a few repeats, with the machine named.
Run: ``.venv/bin/python bench/bench_report.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.report.annex import write_annex  # noqa: E402
from model.report.dossier import dossier_html  # noqa: E402
from model.report.export import write_report  # noqa: E402
from model.run import run  # noqa: E402
from model.scenario import Scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    ("CA de Blois « Agglopolys »", Scenario.from_yaml, ROOT / "data/scenarios/agglopolys.yaml"),
    ("CA du Pays Basque", lambda s: Scenario(epci=s), "200067106"),
    ("Département du Loir-et-Cher", Scenario.from_yaml, ROOT / "data/scenarios/loir_et_cher.yaml"),
]


def median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"Machine: {platform.node()} ({os.cpu_count()} cores), median of {args.repeats} (s)")
    print(f"{'territory':<30} {'communes':>8} {'report.xlsx':>11} {'annex.docx':>10} "
          f"{'dossier.html':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, make, arg in CASES:
            result = run(make(arg))
            n = len(result.projection.resolved.communes.values)
            xlsx = median_s(lambda r=result: write_report(r, Path(tmp) / "r.xlsx"), args.repeats)
            docx = median_s(lambda r=result: write_annex(r, Path(tmp) / "a.docx"), args.repeats)
            html = median_s(lambda r=result: dossier_html(r), args.repeats)
            print(f"{label:<30} {n:>8} {xlsx:>11.2f} {docx:>10.2f} {html:>12.2f}")


if __name__ == "__main__":
    main()
