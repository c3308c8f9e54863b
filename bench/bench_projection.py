"""France-scale and sensitivity benchmarks (issue #7 targets, measured, never asserted).

Rows:

* one EPCI, full `run()` (every frame, every method) and the batch fast path, for reference;
* the projection 2026-2032 of all 1,255 EPCIs with every method (`model.batch.run_batch`,
  one process per core), with the peak memory of the parent and of the largest worker;
* the same through `run()` per EPCI, extrapolated from a sample (what the batch path saves);
* sensitivity: 1,000 draws for one 50-commune EPCI (CA Caux Seine Agglo), with its peak
  Python allocation (tracemalloc), and the same draws with an LP solve per draw and year
  (extrapolated from a sample: what the solver-free leximin saves).

Run: ``.venv/bin/python bench/bench_projection.py [--limit N] [--workers N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import model.sensitivity as sens  # noqa: E402
from model.batch import all_sirens, epci_rows, run_batch  # noqa: E402
from model.data.bundled import epci_catalog  # noqa: E402
from model.run import run  # noqa: E402
from model.scenario import Scenario  # noqa: E402

FIFTY = "200010700"  # CA Caux Seine Agglo, 50 communes
MID = "200030385"  # CA de Blois "Agglopolys", 43 communes


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes


def timed(fn, repeats: int = 1) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N EPCIs")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    workers = args.workers or os.cpu_count() or 1
    rows = []

    # France scale first, so that the children's peak RSS is the batch workers'.
    sirens = all_sirens()[: args.limit] if args.limit else all_sirens()
    with tempfile.TemporaryDirectory() as tmp:
        batch = run_batch(Scenario(epci=""), sirens, Path(tmp) / "lot", workers=workers,
                          progress=False)
    parent, child = rss_mb(resource.RUSAGE_SELF), rss_mb(resource.RUSAGE_CHILDREN)
    rows.append((f"{len(sirens)} EPCI x 7 years x 9 methods, batch ({workers} processes)",
                 batch.seconds, "< 60 s",
                 f"parent {parent:.0f} MB, worker {child:.0f} MB, "
                 f"sum <= {parent + workers * child:.0f} MB",
                 f"{len(batch.failed)} EPCI flagged"))

    # Single EPCI: full run and fast path.
    scenario = Scenario(epci=MID)
    t_run = timed(lambda: run(scenario), 3)
    resolved = scenario.resolve()
    t_fast = timed(lambda: epci_rows(resolved), 3)
    rows.append(("1 EPCI (43 communes), full run()", t_run, "", "", "all frames"))
    rows.append(("1 EPCI (43 communes), batch fast path", t_fast, "", "", "same numbers"))

    # run() per EPCI, extrapolated from every 25th EPCI.
    sample = sirens[::25]
    start = time.perf_counter()
    for s in sample:
        try:
            run(Scenario(epci=s))
        except Exception:  # noqa: BLE001, S112 - flagged EPCIs are part of the sample
            continue
    per = (time.perf_counter() - start) / len(sample)
    rows.append((f"{len(sirens)} EPCI through run() (extrapolated from {len(sample)})",
                 per * len(sirens) / workers, "", "", f"{1000 * per:.0f} ms per EPCI"))

    # Sensitivity.
    n = int(epci_catalog().loc[FIFTY, "nb_communes"])
    fifty = Scenario(epci=FIFTY).resolve()
    result = sens.sensitivity(fifty, draws=args.draws, seed=0)
    tracemalloc.start()  # a second run for the memory: tracemalloc slows allocations down
    sens.sensitivity(fifty, draws=args.draws, seed=0)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rows.append((f"sensitivity {args.draws} draws, {n} communes", result.seconds, "< 30 s",
                 f"Python peak {peak:.0f} MB", f"{result.lp_fallbacks} LP fallbacks"))
    sample_draws = 30
    real = sens.fast_leximin
    sens.fast_leximin = lambda arr: None  # every draw and year through allocate_lp
    try:
        slow = sens.sensitivity(fifty, draws=sample_draws, seed=0)
    finally:
        sens.fast_leximin = real
    rows.append((f"sensitivity {args.draws} draws, LP per draw-year (extrapolated)",
                 slow.seconds * args.draws / sample_draws, "", "",
                 f"{slow.lp_fallbacks} LP solves for {sample_draws} draws"))

    width = max(len(r[0]) for r in rows)
    print("France-scale projection and sensitivity (wall time; 2-core machine is shared, "
          "read +-30 %)")
    header = f"{'row':<{width}} {'seconds':>9} {'target':>8}  {'memory':<44} note"
    print(header)
    print("-" * len(header))
    for label, seconds, target, memory, note in rows:
        print(f"{label:<{width}} {seconds:>9.2f} {target:>8}  {memory:<44} {note}")


if __name__ == "__main__":
    main()
