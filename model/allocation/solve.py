"""`allocate_lp`: min-t LP, leximin refinement, cent rounding, explanations, diagnosis."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from model.allocation.build import PulpBackend
from model.allocation.elastic import DIAGNOSIS_COLUMNS, diagnose, solve_elastic
from model.allocation.explain import BINDING_COLUMNS, binding_table
from model.allocation.fast import HighsBackend, RoundSolution, named_duals
from model.allocation.inputs import (
    SCALE_EUR,
    AllocationInputs,
    AllocationResult,
    Arrays,
    to_arrays,
)
from model.allocation.leximin import DUAL_TOL, LeximinOutcome, breakdown, run_leximin
from model.allocation.rounding import round_columns
from model.allocation.waterfill import fast_leximin

SOLVERS = ("highs-fast", "pulp-highs", "pulp-cbc")
#: Relative gap under which two burden levels count as the same leximin round.
LEVEL_TOL = 1e-9


def waterfill_leximin(backend: HighsBackend, arr: Arrays) -> LeximinOutcome:
    """Leximin with one LP solve: the first min-t round (t* and its duals), then the
    water-filling split (`waterfill.py`) when it is feasible and reaches the same t*; otherwise
    the LP rounds. Round 1 holds the communes whose burden row has a positive dual, as in the LP
    rounds; the others are numbered by decreasing burden level."""
    first = backend.solve()
    n = len(arr.communes)
    fast = fast_leximin(arr) if first.optimal else None
    if fast is None or abs(fast[1] - first.t) > LEVEL_TOL * max(1.0, abs(first.t)):
        return run_leximin(HighsBackend(arr), n, True)  # fresh model: same path as before
    x = fast[0]
    level = x.sum(axis=1) / arr.capacity
    round_fixed = np.ones(n, dtype=int)
    rest = ~(first.burden_weight > DUAL_TOL)
    if rest.any():
        ordered = np.sort(level[rest])[::-1]
        breaks = np.diff(ordered) < -LEVEL_TOL * np.maximum(1e-12, np.abs(ordered[:-1]))
        distinct = ordered[np.concatenate([[True], breaks])]
        # rank of each remaining commune among the distinct levels, from the top, after round 1
        gaps = np.abs(level[rest][:, None] - distinct[None, :])
        round_fixed[rest] = 2 + np.argmin(gaps, axis=1)
    final = RoundSolution(True, first.t, x, first.burden_weight, first.duals)
    return LeximinOutcome(first, final, level, round_fixed, int(round_fixed.max()))


def _frame(arr: Arrays, x: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(x * SCALE_EUR, index=arr.communes.copy(), columns=arr.pools.copy())
    df.index.name, df.columns.name = "commune", "pool"
    return df


def _burden(amounts: pd.DataFrame, inputs: AllocationInputs) -> pd.Series:
    burden = amounts.sum(axis=1) / inputs.capacity.reindex(amounts.index).astype(float)
    return burden.rename("burden_ratio")


def allocate_lp(
    inputs: AllocationInputs, solver: str = "highs-fast", leximin: bool = True
) -> AllocationResult:
    """Split each pool between the communes: minimise the largest burden, then leximin.

    Parameters
    ----------
    inputs : the year's pools, stand-alone and incremental costs, usage shares and capacities.
    solver : ``"highs-fast"`` (numpy + highspy, warm re-solves), ``"pulp-highs"`` or
        ``"pulp-cbc"`` (the PuLP formulation in `build.py`). All give the same split.
    leximin : refine the min-t optimum into the unique egalitarian split (default). Without
        it the result is one optimum of the first LP, chosen by the solver.

    Returns
    -------
    AllocationResult with status ``"optimal"``, or ``"infeasible"`` and a French diagnosis
    from the elastic LP (the amounts are then the elastic point, still balancing each pool).
    """
    if solver not in SOLVERS:
        raise ValueError(f"Solveur inconnu « {solver} » ; choix : {', '.join(SOLVERS)}.")
    start = time.perf_counter()
    arr = to_arrays(inputs)
    n = len(arr.communes)
    backend = HighsBackend(arr) if solver == "highs-fast" else PulpBackend(arr, solver)
    if solver == "highs-fast" and leximin:
        out = waterfill_leximin(backend, arr)
    else:
        out = run_leximin(backend, n, leximin)
    if not out.first.optimal:
        elastic = solve_elastic(arr, "pulp-cbc" if solver == "pulp-cbc" else "pulp-highs")
        amounts = round_columns(_frame(arr, elastic.x), inputs.to_split)
        burden = _burden(amounts, inputs)
        return AllocationResult(
            amounts=amounts,
            status="infeasible",
            max_burden=float(burden.max()),
            burden=burden,
            binding=pd.DataFrame(columns=BINDING_COLUMNS),
            diagnosis=diagnose(inputs, arr, elastic),
            solver=solver,
            solve_seconds=time.perf_counter() - start,
            leximin_rounds=0,
            raw=_frame(arr, elastic.x),
        )
    x = out.final.x
    if leximin:
        x = breakdown(arr, x.sum(axis=1), fallback=x)
    duals = (
        named_duals(arr, backend.m, out.first) if isinstance(backend, HighsBackend)
        else out.first.duals
    )
    raw = _frame(arr, x)
    amounts = round_columns(raw, inputs.to_split)
    levels = pd.DataFrame(
        {"level": out.level, "round": out.round_fixed}, index=raw.index.copy()
    )
    return AllocationResult(
        amounts=amounts,
        status="optimal",
        max_burden=float(out.first.t),
        burden=_burden(amounts, inputs),
        binding=binding_table(inputs, arr, x, out.level, out.round_fixed, duals),
        diagnosis=pd.DataFrame(columns=DIAGNOSIS_COLUMNS),
        solver=solver,
        solve_seconds=time.perf_counter() - start,
        leximin_rounds=out.rounds,
        raw=raw,
        levels=levels,
    )
