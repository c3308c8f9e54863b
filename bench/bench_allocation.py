"""Benchmark of the allocation LP paths on real EPCIs, with their real costs (the first year of
the default scenario: `model.projection.allocation_inputs`) and with synthetic concave costs.

Prints one row per EPCI size: median wall time (ms) of a full `allocate_lp` (build + solve +
leximin + split + rounding) for each solver path, the number of leximin rounds, and, for the
fast path, the input checks + arrays time, the model build time (CSC + passModel) and a raw
cold HiGHS solve of the same matrix (the floor), and the ratio of the full fast allocation to
that floor (issue 15's target: at most 2). Run: ``.venv/bin/python bench/bench_allocation.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.allocation import allocate_lp  # noqa: E402
from model.allocation.examples import synthetic_inputs  # noqa: E402
from model.allocation.fast import build_matrix, new_highs, pass_matrix  # noqa: E402
from model.allocation.inputs import to_arrays  # noqa: E402
from model.data.bundled import load_epci  # noqa: E402

CASES = [
    ("200050532", "CC de Petite-Terre"),  # 2 communes
    ("200006930", "CC du Haut Allier Margeride"),  # 10
    ("200010700", "CA Caux Seine Agglo"),  # 50
    ("200067106", "CA du Pays Basque"),  # 158
]


def real_inputs(siren: str):
    """The péréquation LP's inputs of the first projected year of the EPCI's default scenario."""
    from model.projection import (
        allocation_inputs,
        base_costs,
        price_index,
        resource_index,
        year_costs,
    )
    from model.scenario import Scenario

    resolved = Scenario(epci=siren).resolve()
    year = resolved.years[0]
    yc = year_costs(resolved, base_costs(resolved), price_index(resolved).loc[year], year,
                    resource_index(resolved).loc[year])
    return allocation_inputs(resolved, yc)


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def build_and_raw_solve(inputs, repeats: int) -> tuple[float, float, float]:
    """Median ms of: input checks + arrays, CSC + passModel, cold `run()` (the floor)."""
    checks, builds, solves = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        arr = to_arrays(inputs)
        mid1 = time.perf_counter()
        h = new_highs()
        pass_matrix(h, build_matrix(arr))
        mid2 = time.perf_counter()
        h.run()
        end = time.perf_counter()
        checks.append(mid1 - start)
        builds.append(mid2 - mid1)
        solves.append(end - mid2)
    return tuple(1000 * statistics.median(x) for x in (checks, builds, solves))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--pulp-repeats", type=int, default=3)
    args = parser.parse_args()
    header = (f"{'n':>4} {'EPCI':<28} {'rounds':>6} {'PuLP+CBC':>9} {'PuLP+HiGHS':>10} "
              f"{'highs-fast':>10} {'checks':>7} {'build':>6} {'raw HiGHS':>9} {'fast/raw':>8}")
    for costs, make in (("real costs (first year of the default scenario)", real_inputs),
                        ("synthetic concave costs",
                         lambda siren: synthetic_inputs(load_epci(siren).communes))):
        print(f"\nMedian wall time in ms, {costs} "
              "(full allocation = LP + leximin + split + rounding)")
        print(header)
        print("-" * len(header))
        for siren, label in CASES:
            inputs = make(siren)
            n = len(inputs.communes)
            rounds = allocate_lp(inputs).leximin_rounds
            cbc = median_ms(lambda: allocate_lp(inputs, "pulp-cbc"), args.pulp_repeats)  # noqa: B023
            highs = median_ms(lambda: allocate_lp(inputs, "pulp-highs"), args.pulp_repeats)  # noqa: B023
            fast = median_ms(lambda: allocate_lp(inputs, "highs-fast"), args.repeats)  # noqa: B023
            checks, build, raw = build_and_raw_solve(inputs, args.repeats)
            print(f"{n:>4} {label:<28} {rounds:>6} {cbc:>9.1f} {highs:>10.1f} {fast:>10.1f} "
                  f"{checks:>7.2f} {build:>6.2f} {raw:>9.2f} {fast / raw:>8.1f}")


if __name__ == "__main__":
    main()
