"""Benchmark of the Shapley values on real EPCIs: time per pool and error of each method.

Drivers are estimated as the projection does (``Scenario(epci=...).resolve()``), costs are the
four real pools (``data/assumptions.yaml``). One row per EPCI and method:

* ``ms/pool``: median wall time of one pool with nothing cached (``cold``), and within a run of
  the four pools in a row as ``key_shares`` does (``4 pools``: pools whose drivers are all
  estimated from population share the dp's laws, so only the first pays for them);
* ``max |err|`` and ``max rel``: worst error over the communes and the 4 pools against the
  exact value (full enumeration up to 20 communes; above, the dp on a 16,384-point grid, whose
  own error is ~1e-6 of a value);
* ``err/stated``: for the dp, the largest error over its stated error ``attrs["stderr_eur"]``
  (0.2 % of each value; below 1 means every value is within what is stated); ``within 2 se``:
  for the sampler, the share of values within 2 stated standard errors (10 seeds; ~95 %
  expected);
* ``plain 2000 perm.`` is the former sampler (2,000 random permutations), for comparison.

Run: ``.venv/bin/python bench/bench_shapley.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import model.allocation.shapley as shapley  # noqa: E402
from model.costs import pool_params  # noqa: E402
from model.data.bundled import load_epci  # noqa: E402
from model.scenario import Scenario  # noqa: E402

CASES = [
    ("200011773", 12),  # CA Annemasse-Les Voirons-Agglomération
    ("200023794", 20),  # CC de Blaye
    ("200030385", 43),  # CA de Blois « Agglopolys »
    ("200067106", 158),  # CA du Pays Basque, the largest EPCI
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def plain_permutations(drivers: pd.Series, cost, samples: int = 2000, seed: int = 0) -> np.ndarray:
    """The former estimator: mean marginal cost over random permutations."""
    d = drivers.to_numpy(dtype=float)
    n = len(d)
    perms = np.random.default_rng(seed).permuted(np.tile(np.arange(n), (samples, 1)), axis=1)
    totals = np.cumsum(d[perms], axis=1)
    sizes = np.broadcast_to(np.arange(1, n + 1), perms.shape)
    cost_ = np.asarray(cost(totals.ravel(), sizes.ravel())).reshape(perms.shape)
    out = np.zeros(n)
    np.add.at(out, perms.ravel(), np.diff(cost_, axis=1, prepend=0.0).ravel())
    return out / samples


def timed(fn, repeats: int, cold: bool) -> float:
    times = []
    for _ in range(repeats):
        if cold:
            shapley._laws.cache_clear()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"Shapley values per pool, real drivers and costs ({machine()}; shared machine, "
          "read +-30 %)")
    header = (f"{'n':>4} {'EPCI':<28} {'method':<17} {'cold ms':>8} {'4 pools':>8} "
              f"{'max |err| €':>11} {'max rel':>8} {'err/stated':>10} {'within 2 se':>11}")
    print(header)
    print("-" * len(header))
    for siren, n_expected in CASES:
        resolved = Scenario(epci=siren).resolve()
        communes = resolved.communes.values
        name = load_epci(siren).name[:28]
        games = [(communes[pp.driver], pp.cost) for pp in pool_params(resolved.values).values()]
        n = len(games[0][0])
        assert n == n_expected, (siren, n)
        if n <= 20:
            truths = [shapley.shapley_values(d, c, exact_max=20) for d, c in games]
        else:
            truths = [shapley.shapley_values(d, c, exact_max=0, grid=16384) for d, c in games]
        default = shapley.shapley_values(*games[0]).attrs["method"]
        rows = [("exact", {"exact_max": 20})] if n <= 20 else []
        rows += [("dp", {"exact_max": 0}),
                 ("sampled (2000)", {"exact_max": 0, "dp_max": 0, "samples": 2000}),
                 ("plain 2000 perm.", None)]
        for label, kw in rows:
            if kw is None:
                run = [lambda d=d, c=c: plain_permutations(d, c) for d, c in games]
            else:
                run = [lambda d=d, c=c, kw=kw: shapley.shapley_values(d, c, **kw) for d, c in games]
            cold = statistics.median(timed(f, args.repeats, True) for f in run)
            warm = timed(lambda run=run: [f() for f in run], args.repeats, True) / len(run)
            errs, rels, ratio, inside = [], [], [], []
            for f, truth, (d, c) in zip(run, truths, games, strict=True):
                got = f()
                err = np.abs(np.asarray(got) - truth.to_numpy())
                errs.append(err.max())
                rels.append((err / truth.abs().to_numpy()).max())
                if kw is None:
                    continue
                se = got.attrs["stderr_eur"].to_numpy()
                if got.attrs["method"] == "dp":
                    ratio.append((err / se).max())
                if got.attrs["method"] == "sampled":  # coverage over 10 seeds
                    for seed in range(10):
                        other = shapley.shapley_values(d, c, **{**kw, "seed": seed})
                        e = np.abs(other.to_numpy() - truth.to_numpy())
                        inside.append(np.mean(e <= 2 * other.attrs["stderr_eur"].to_numpy()))
            mark = " *" if label.split()[0] == default else ""
            print(f"{n:>4} {name:<28} {label + mark:<17} {cold:>8.1f} {warm:>8.1f} "
                  f"{max(errs):>11.4f} {max(rels):>8.1e} "
                  f"{(f'{max(ratio):.3f}' if ratio else '-'):>10} "
                  f"{(f'{100 * np.mean(inside):.0f} %' if inside else '-'):>11}")
    print("* the method chosen by default. Reference: enumeration up to 20 communes, the dp on a "
          "16,384-point grid above.")


if __name__ == "__main__":
    main()
