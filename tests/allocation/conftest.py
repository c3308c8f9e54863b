"""Fixtures for the allocation tests: real EPCIs with synthetic concave costs."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from model.allocation import AllocationInputs
from model.allocation.examples import synthetic_inputs
from model.data.bundled import load_epci

BEAUCE = "200035764"  # CC de la Beauce Loirétaine, 23 communes
BLOIS = "200030385"  # CA de Blois « Agglopolys », 43 communes
PAYS_BASQUE = "200067106"  # CA du Pays Basque, 158 communes
PETITE_TERRE = "200050532"  # CC de Petite-Terre (Mayotte), 2 communes


@cache
def epci_inputs(siren: str, vary: bool = True) -> AllocationInputs:
    return synthetic_inputs(load_epci(siren).communes, vary=vary)


@pytest.fixture(scope="session")
def beauce() -> AllocationInputs:
    return epci_inputs(BEAUCE)


@pytest.fixture(scope="session")
def blois() -> AllocationInputs:
    return epci_inputs(BLOIS)


@pytest.fixture(scope="session")
def pays_basque() -> AllocationInputs:
    return epci_inputs(PAYS_BASQUE)


@pytest.fixture(scope="session")
def petite_terre() -> AllocationInputs:
    return epci_inputs(PETITE_TERRE)


def permute(inputs: AllocationInputs, order) -> AllocationInputs:
    """The same inputs with communes in another row order."""
    idx = inputs.communes[list(order)]
    return AllocationInputs(
        to_split=inputs.to_split,
        standalone=inputs.standalone.loc[idx],
        incremental=inputs.incremental.loc[idx],
        usage_share=inputs.usage_share.loc[idx],
        capacity=inputs.capacity.loc[idx],
        band=inputs.band,
        names=inputs.names,
    )


def linprog_t(inputs: AllocationInputs) -> float:
    """Independent min-t solve with scipy linprog (dense, band as bounds, money in M€)."""
    pools = list(inputs.to_split.index)
    communes = list(inputs.standalone.index)
    n, m = len(communes), len(pools)
    total = inputs.to_split[pools].to_numpy(float) / 1e6
    k = inputs.usage_share.loc[communes, pools].to_numpy(float)
    lo, hi = inputs.band
    bounds = [(lo * k[i, p] * total[p], hi * k[i, p] * total[p])
              for i in range(n) for p in range(m)] + [(None, None)]
    a_eq = np.zeros((m, n * m + 1))
    for p in range(m):
        a_eq[p, p:n * m:m] = 1
    a_ub, b_ub = [], []
    sa = inputs.standalone.loc[communes, pools].to_numpy(float).sum(axis=1) / 1e6
    inc = inputs.incremental.loc[communes, pools].to_numpy(float).sum(axis=1) / 1e6
    cap = inputs.capacity[communes].to_numpy(float) / 1e6
    for i in range(n):
        row = np.zeros(n * m + 1)
        row[i * m:(i + 1) * m] = 1
        a_ub += [row, -row]
        b_ub += [sa[i], -inc[i]]
        burden = row.copy()
        burden[-1] = -cap[i]
        a_ub.append(burden)
        b_ub.append(0.0)
    c = np.zeros(n * m + 1)
    c[-1] = 1
    res = linprog(c, A_ub=np.array(a_ub), b_ub=b_ub, A_eq=a_eq, b_eq=total, bounds=bounds,
                  method="highs")
    assert res.status == 0, res.message
    return float(res.x[-1])


def cents(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float) * 100).astype(np.int64)


def assert_feasible(inputs: AllocationInputs, amounts: pd.DataFrame, tol_eur: float = 0.01) -> None:
    """Balance to the exact cent; band within `tol_eur`, stand-alone/incremental within P x that."""
    pools = list(inputs.to_split.index)
    amounts = amounts.loc[inputs.communes, pools]
    for pool in pools:
        assert cents(amounts[pool]).sum() == cents([inputs.to_split[pool]])[0], pool
    usage = inputs.usage_share[pools].mul(inputs.to_split[pools], axis=1)
    lo, hi = inputs.band
    assert (amounts >= lo * usage - tol_eur).all().all(), "usage_lower"
    assert (amounts <= hi * usage + tol_eur).all().all(), "usage_upper"
    totals = amounts.sum(axis=1)
    tol_total = tol_eur * len(pools)  # each rounded entry moves by less than a cent
    assert (totals <= inputs.standalone[pools].sum(axis=1) + tol_total).all(), "standalone"
    assert (totals >= inputs.incremental[pools].sum(axis=1) - tol_total).all(), "incremental"
    assert (amounts >= 0).all().all()
