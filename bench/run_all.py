"""Run every ``bench/bench_*.py`` one after the other and print their tables (``make bench``).

Each script runs in its own process (its peak memory is its own); the scripts run one at a time
so they do not compete for the cores. Extra arguments are not passed on: run a script directly
for its options. Exits non-zero if any script fails.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(BENCH.glob("bench_*.py"))
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], cwd=BENCH.parent, check=False,
                              capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines()
                 if not ln.startswith(("Running HiGHS", "Copyright (c)", "Includes third-party",
                                       "Licence ", "HiGHS "))]
        print("\n".join(lines), flush=True)
        if proc.returncode != 0:
            failed.append(script.name)
            print(proc.stderr[-3000:], file=sys.stderr)
        print(f"({script.name}: {time.perf_counter() - start:.0f} s)", flush=True)
    if failed:
        print(f"\nÉchec : {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
