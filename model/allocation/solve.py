"""`allocate_lp`: min-t LP, leximin refinement, cent rounding, explanations, diagnosis."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from model.allocation.build import PulpBackend
from model.allocation.elastic import DIAGNOSIS_COLUMNS, diagnose, solve_elastic
from model.allocation.explain import BINDING_COLUMNS, binding_table
from model.allocation.fast import HighsBackend, named_duals
from model.allocation.inputs import (
    SCALE_EUR,
    AllocationInputs,
    AllocationResult,
    Arrays,
    to_arrays,
)
from model.allocation.leximin import breakdown, run_leximin
from model.allocation.rounding import round_columns

SOLVERS = ("highs-fast", "pulp-highs", "pulp-cbc")


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
