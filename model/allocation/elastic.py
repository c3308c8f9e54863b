"""Elastic allocation LP: penalised slack on every constraint group, to explain infeasibility.

Each row of groups balance, usage_lower, usage_upper, standalone and incremental gets a
nonnegative slack (balance gets two) in the direction that relaxes it. Phase 1 minimises the
weighted slack (balance weighs ``BALANCE_WEIGHT`` times more, so pools still balance whenever
the other groups can give way, which is always possible). Phase 2 keeps that slack and minimises
t. The burden group needs no slack: t is free. Money in millions of euros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from model.allocation.build import pulp_solver
from model.allocation.explain import MEANING_FR, eur_fr
from model.allocation.inputs import SCALE_EUR, TIGHT_EUR, AllocationInputs, Arrays
from model.costs import POOL_LABELS_FR
from model.errors import ModelError

BALANCE_WEIGHT = 1000.0
DIAGNOSIS_COLUMNS = ["group", "commune", "pool", "slack_eur", "explanation_fr"]

VIOLATION_FR = {
    "balance": "le pool ne s'équilibre pas",
    "usage_lower": "paie moins que le plancher de la bande d'usage",
    "usage_upper": "paie plus que le plafond de la bande d'usage",
    "standalone": "paie plus que son coût isolé",
    "incremental": "paie moins que son coût incrémental",
    "burden": "dépasse le plafond de charge",
}


@dataclass
class ElasticSolution:
    """The elastic point (x in M€, t) and the slack of every relaxed row (M€)."""

    x: np.ndarray
    t: float
    slack: list[tuple[str, int, int, float]]  # (group, commune index or -1, pool index or -1, M€)


def solve_elastic(arr: Arrays, solver: str = "pulp-highs") -> ElasticSolution:
    """Solve the elastic LP in two phases with a PuLP solver (``pulp-cbc`` or ``pulp-highs``)."""
    n, n_pools = arr.lower.shape
    prob = pulp.LpProblem("allocation_elastic", pulp.LpMinimize)
    x = {(i, p): prob.add_variable(f"pay__{pool}__{c}", lowBound=0)
         for i, c in enumerate(arr.communes) for p, pool in enumerate(arr.pools)}
    t = prob.add_variable("t_max_burden")
    slacks: dict[tuple[str, int, int], pulp.LpVariable] = {}
    penalty = []

    def slack(group: str, i: int, p: int, suffix: str = "") -> pulp.LpVariable:
        pool = arr.pools[p] if p >= 0 else ""
        commune = arr.communes[i] if i >= 0 else ""
        var = prob.add_variable(f"slack_{group}{suffix}__{pool}__{commune}", lowBound=0)
        weight = BALANCE_WEIGHT if group == "balance" else 1.0
        penalty.append((var, weight))
        return var

    for p, pool in enumerate(arr.pools):
        up, down = slack("balance", -1, p, "_plus"), slack("balance", -1, p, "_minus")
        slacks[("balance", -1, p)] = up
        slacks[("balance_minus", -1, p)] = down
        expr = pulp.lpSum(x[i, p] for i in range(n)) + up - down
        prob += expr == float(arr.total[p]), f"balance__{pool}__"
    for i, commune in enumerate(arr.communes):
        total = pulp.lpSum(x[i, p] for p in range(n_pools))
        for p, pool in enumerate(arr.pools):
            s_lo, s_hi = slack("usage_lower", i, p), slack("usage_upper", i, p)
            slacks[("usage_lower", i, p)], slacks[("usage_upper", i, p)] = s_lo, s_hi
            prob += x[i, p] + s_lo >= float(arr.lower[i, p]), f"usage_lower__{pool}__{commune}"
            prob += x[i, p] - s_hi <= float(arr.upper[i, p]), f"usage_upper__{pool}__{commune}"
        s_sa, s_inc = slack("standalone", i, -1), slack("incremental", i, -1)
        slacks[("standalone", i, -1)], slacks[("incremental", i, -1)] = s_sa, s_inc
        prob += total - s_sa <= float(arr.standalone[i]), f"standalone____{commune}"
        prob += total + s_inc >= float(arr.incremental[i]), f"incremental____{commune}"
        prob += total - float(arr.capacity[i]) * t <= 0, f"burden____{commune}"
        if np.isfinite(arr.burden_cap):
            s_cap = slack("burden", i, -1)
            slacks[("burden", i, -1)] = s_cap
            cap_eur = float(arr.burden_cap * arr.capacity[i])
            prob += total - s_cap <= cap_eur, f"burden_cap____{commune}"
    weighted = pulp.LpAffineExpression(penalty)
    prob.setObjective(weighted)
    prob.solve(pulp_solver(solver))
    if pulp.LpStatus[prob.status] != "Optimal":
        raise ModelError("Le diagnostic d'infaisabilité (problème élastique) n'a pas abouti.")
    best = pulp.value(weighted)
    prob += weighted <= best * (1 + 1e-9) + 1e-12, "elastic_penalty_cap"
    prob.setObjective(pulp.LpAffineExpression([(t, 1.0)]))
    prob.solve(pulp_solver(solver))
    if pulp.LpStatus[prob.status] != "Optimal":
        raise ModelError("Le diagnostic d'infaisabilité (phase 2) n'a pas abouti.")
    xs = np.array([[x[i, p].value() or 0.0 for p in range(n_pools)] for i in range(n)])
    out = []
    for (group, i, p), var in slacks.items():
        value = var.value() or 0.0
        if value * SCALE_EUR > TIGHT_EUR:
            sign = -1.0 if group == "balance_minus" else 1.0
            out.append(("balance" if group.startswith("balance") else group, i, p, sign * value))
    return ElasticSolution(xs, float(t.value() or 0.0), out)


def _tight_groups(arr: Arrays, x: np.ndarray, i: int) -> list[tuple[str, str]]:
    """Groups tight for commune `i` at the elastic point (the other side of each conflict)."""
    tol = TIGHT_EUR / SCALE_EUR
    total = x[i].sum()
    groups = []
    lower_pools = [arr.pools[p] for p in range(len(arr.pools))
                   if arr.lower[i, p] > 0 and x[i, p] <= arr.lower[i, p] + tol]
    upper_pools = [arr.pools[p] for p in range(len(arr.pools))
                   if x[i, p] >= arr.upper[i, p] - tol and arr.upper[i, p] > arr.lower[i, p]]
    groups += [("usage_lower", pool) for pool in lower_pools]
    groups += [("usage_upper", pool) for pool in upper_pools]
    if total >= arr.standalone[i] - tol:
        groups.append(("standalone", ""))
    if arr.incremental[i] > 0 and total <= arr.incremental[i] + tol:
        groups.append(("incremental", ""))
    if np.isfinite(arr.burden_cap) and total >= arr.burden_cap * arr.capacity[i] - tol:
        groups.append(("burden", ""))
    return groups


def diagnose(inputs: AllocationInputs, arr: Arrays, sol: ElasticSolution) -> pd.DataFrame:
    """One row per relaxed constraint, plus a row (slack 0) per constraint it conflicts with."""
    rows = []
    seen = set()
    for group, i, p, value in sol.slack:
        commune = arr.communes[i] if i >= 0 else ""
        pool = arr.pools[p] if p >= 0 else ""
        pool_fr = POOL_LABELS_FR.get(pool, pool)
        who = inputs.label(commune) if commune else f"Service « {pool_fr} »"
        where = f" pour « {pool_fr} »" if pool and commune else ""
        partners = [(g, pl) for g, pl in _tight_groups(arr, sol.x, i) if g != group] if i >= 0 else []
        against = "; ".join(
            MEANING_FR[g] + (f" ({POOL_LABELS_FR.get(pl, pl)})" if pl else "")
            for g, pl in partners
        )
        text = f"{who} : {VIOLATION_FR[group]}{where} de {eur_fr(abs(value) * SCALE_EUR)}"
        text += f", en conflit avec : {against}." if against else "."
        rows.append({"group": group, "commune": commune, "pool": pool,
                     "slack_eur": abs(value) * SCALE_EUR, "explanation_fr": text})
        for g, pl in partners:
            key = (g, commune, pl)
            if key in seen:
                continue
            seen.add(key)
            rows.append({
                "group": g, "commune": commune, "pool": pl, "slack_eur": 0.0,
                "explanation_fr": f"{who} : {MEANING_FR[g]}"
                + (f" ({POOL_LABELS_FR.get(pl, pl)})" if pl else "")
                + f", en conflit avec « {VIOLATION_FR[group]} ».",
            })
    return pd.DataFrame(rows, columns=DIAGNOSIS_COLUMNS)
