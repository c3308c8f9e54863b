"""Benchmark of the least core and the nucleolus (sequential LPs with row generation) per pool.

Drivers are the projection's estimates for real EPCIs (10, 18, 43 and 158 communes), costs the
bundled assumptions. For each pool and amount to split (the pooled cost, and 80 % of it when the
EPCI pays a fifth itself), prints the median wall time (ms) of `least_core` and `nucleolus`, the LPs
of the sequence, the HiGHS runs, whether the result is exact (enumeration up to 18 communes, a
completed branch and bound above) and the least-core value with its proven lower bound.
Run: ``.venv/bin/python bench/bench_nucleolus.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.allocation.games import PoolGame  # noqa: E402
from model.allocation.nucleolus import least_core, nucleolus  # noqa: E402
from model.costs import pool_params  # noqa: E402
from model.scenario import Scenario  # noqa: E402

CASES = [
    ("200006930", "CC du Haut Allier Margeride"),  # 10 communes
    ("200027076", "CC Arnon Boischaut Cher"),  # 18
    ("200030385", "CA de Blois Agglopolys"),  # 43
    ("200067106", "CA du Pays Basque"),  # 158
]
SHARES = (1.0, 0.8)


def median_ms(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    header = (f"{'n':>4} {'EPCI':<28} {'pool':<9} {'T/C(N)':>6} {'least core':>10} {'nucleolus':>10} "
              f"{'LPs':>4} {'runs':>5} {'exact':>5} {'eps* (EUR)':>12} {'lower':>12}")
    print("Median wall time in ms per pool")
    print(header)
    print("-" * len(header))
    for siren, label in CASES:
        res = Scenario(epci=siren).resolve()
        for pool, p in pool_params(res.values).items():
            game = PoolGame(pool, res.communes.values[p.driver].to_numpy(dtype=float), p)
            for share in SHARES:
                total = share * game.cost(np.arange(game.n))
                t_lc, _ = median_ms(lambda: least_core(game, total), args.repeats)  # noqa: B023
                t_nuc, nuc = median_ms(lambda: nucleolus(game, total), args.repeats)  # noqa: B023
                print(f"{game.n:>4} {label:<28} {pool:<9} {share:>6.1f} {t_lc:>10.1f} {t_nuc:>10.1f} "
                      f"{nuc.lps:>4} {nuc.solves:>5} {('yes' if nuc.exact else 'no'):>5} "
                      f"{nuc.epsilon_star_eur:>12.2f} {nuc.epsilon_lower_eur:>12.2f}", flush=True)


if __name__ == "__main__":
    main()
