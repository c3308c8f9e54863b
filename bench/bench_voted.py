"""Benchmark of the default split (voted key, corrected as little as possible).

Real communes (drivers of the bundled data, made heterogeneous with a fixed seed as user figures
would be), the usage key as reference. Per case: wall time (ms) of `allocate_voted` with no rule
(the key is kept: only the core check runs), with a burden cap that binds (3 % under the key's
largest burden), with and without the lazily generated core rows; leximin rounds and group rows.
Run: ``.venv/bin/python bench/bench_voted.py``.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.allocation.games import PoolGame  # noqa: E402
from model.allocation.voted import VotedInputs, VotedRules, allocate_voted  # noqa: E402
from model.costs import pool_params  # noqa: E402
from model.data.assumptions import assumption_values, load_assumptions  # noqa: E402
from model.data.bundled import load_epci  # noqa: E402

DRIVER_PER_HAB = {"dsi": 0.0073, "dpo": 0.0146, "archivage": 0.0292, "licences": 0.0073}


def inputs(populations: pd.Series, seed: int = 0) -> VotedInputs:
    rng = np.random.default_rng(seed)
    params = pool_params(assumption_values(load_assumptions()))
    n = len(populations)
    pop = populations.to_numpy(dtype=float)
    games = {p: PoolGame(p, pop * DRIVER_PER_HAB[p] * rng.lognormal(0, 0.5, n), pp, 1.0)
             for p, pp in params.items()}
    to_split = pd.Series({p: g.cost(np.ones(n, bool)) for p, g in games.items()})
    usage = pd.DataFrame({p: g.drivers / g.drivers.sum() for p, g in games.items()},
                         index=populations.index) * to_split
    capacity = pd.Series(pop * 1200 * rng.lognormal(0, 0.4, n), index=populations.index)
    return VotedInputs(key=usage, to_split=to_split, games=games, capacity=capacity, usage=usage)


def ms(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return 1000 * (time.perf_counter() - start), out


def main() -> None:
    pays_basque = load_epci("200067106").communes["population"]
    from model.data.bundled import epci_catalog

    cat = epci_catalog()
    frames, total = [], 0
    for siren in cat.sort_values("nb_communes", ascending=False).index:
        c = load_epci(siren).communes["population"]
        frames.append(c)
        total += len(c)
        if total >= 2000:
            break
    big = pd.concat(frames)
    big = big[~big.index.duplicated()].head(2000)
    print(f"Machine : {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{'pool':<32}{'n':>6}{'no rule ms':>12}{'cap -3% ms':>12}{'status':>12}"
          f"{'cap limit':>11}{'at limit ms':>13}{'rounds':>8}{'group rows':>12}"
          f"{'no core ms':>12}{'in core w/o rows':>18}")
    for name, pops in (("CA du Pays Basque", pays_basque), ("2 000 communes (plus grands EPCI)", big)):
        pops = pops[pops > 0]
        inp = inputs(pops)
        t0, _ = ms(lambda inp=inp: allocate_voted(inp))
        burden = inp.key.sum(axis=1) / inp.capacity

        def capped(cap, inp=inp):
            return VotedInputs(**{**inp.__dict__, "rules": VotedRules(burden_cap=cap)})

        first_cap = float(burden.max() * 0.97)
        t1, r1 = ms(lambda c=first_cap: allocate_voted(capped(c)))
        limit = r1.conflict["rules"][0]["limit"] if r1.conflict else float(burden.max() * 0.97)
        t2, r2 = ms(lambda limit=limit: allocate_voted(capped(limit * (1 + 1e-4))))
        t3, r3 = ms(lambda limit=limit: allocate_voted(capped(limit * (1 + 1e-4)), core=False))
        print(f"{name:<32}{len(pops):>6}{t0:>12.0f}{t1:>12.0f}{r1.status:>12}"
              f"{limit / burden.max():>10.1%} {t2:>12.0f}{r2.rounds:>8}{r2.core_rows:>12}"
              f"{t3:>12.0f}{str(r3.core.in_core):>18}")
    print("cap limit: the smallest feasible cap as a share of the key's largest burden; "
          "'at limit': a cap 0.01 % above it.")


if __name__ == "__main__":
    main()
