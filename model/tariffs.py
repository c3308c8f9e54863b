"""Tariff grids: the published pricing rules of real pooling bodies, declared as data.

A grid is a mapping (from a scenario's YAML or a workbook) with a ``type`` and its parameters;
`grid_amounts` returns what each commune would be billed. Supported rules (domain.md §7):

* ``per_unit``: ``unit_price x quantity`` (Inforoutes: 1,10 € per inhabitant; CIG: 16 € per agent);
* ``unit_bands``: ``unit_price x quantity x coefficient of the band the whole quantity falls in``
  (Territoire d'énergie 90: 574,88 € per poste, coefficient 1 for 1-2 postes, 0,9 for 3-5, 0,7 for
  6-15, 0,65 from 16);
* ``tranches``: marginal rates by tranche, like a tax schedule (proposed RGPD dotation: 5 € for the
  1st to 999th inhabitant, 2 € from the 1,000th to the 4,999th...);
* ``fixed_plus_unit``: ``fixed + unit_price x quantity_per_driver x driver`` (CDG 34 DPO: 200 € a
  year plus 250 € per day, days = 0,1 per agent);
* ``stratum_volume``: ``rate of the stratum x volume`` (backups: rate by population stratum times
  the Go quota);
* ``mixed``: the sum of several parts (SYDER: overheads by population + a part per driver).

Every rule takes ``driver`` (a column of the commune table: population, agents, workstations,
archive_gb, licence_seats...) and an optional ``rounding`` (``cent``, the default, or ``up``: the
next cent, as Territoire d'énergie 90's published examples do). A grid rarely collects exactly what
the service costs: `balance_grid` says by how much and scales it by a stated rule.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from model.errors import InputError, Problem

RULES = ("per_unit", "unit_bands", "tranches", "fixed_plus_unit", "stratum_volume", "mixed")
RULE_LABELS_FR = {
    "per_unit": "prix unitaire",
    "unit_bands": "prix unitaire avec coefficient dégressif par tranche",
    "tranches": "barème marginal par tranches",
    "fixed_plus_unit": "part fixe + prix unitaire",
    "stratum_volume": "taux de la strate x volume",
    "mixed": "somme de plusieurs parts",
}


def _number(rule: Mapping, key: str, where: str, problems: list, minimum: float = 0.0):
    value = rule.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value) \
            or value < minimum:
        problems.append(Problem(f"« {key} » doit être un nombre ≥ {minimum:g} (reçu : {value!r})",
                                column=f"{where}.{key}"))
        return None
    return float(value)


def _steps(rule: Mapping, key: str, where: str, problems: list) -> list[tuple[float, float]] | None:
    """A list of ``[threshold, value]`` pairs with strictly increasing thresholds."""
    raw = rule.get(key)
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(f"« {key} » doit être une liste de paires [seuil, valeur]",
                                column=f"{where}.{key}"))
        return None
    out = []
    for k, pair in enumerate(raw):
        if (not isinstance(pair, list | tuple) or len(pair) != 2
                or any(isinstance(v, bool) or not isinstance(v, int | float) for v in pair)
                or pair[0] < 0 or pair[1] < 0):
            problems.append(Problem(f"élément {k + 1} de « {key} » : il faut [seuil, valeur] "
                                    f"positifs (reçu : {pair!r})", column=f"{where}.{key}"))
            return None
        out.append((float(pair[0]), float(pair[1])))
    if any(b[0] <= a[0] for a, b in zip(out, out[1:], strict=False)):
        problems.append(Problem(f"les seuils de « {key} » doivent croître strictement",
                                column=f"{where}.{key}"))
        return None
    return out


def check_grid(rule: Mapping, columns: list[str], where: str = "tarif") -> list[Problem]:
    """Every problem of a grid declaration, in French, naming its key path."""
    problems: list[Problem] = []
    if not isinstance(rule, Mapping):
        return [Problem("une grille tarifaire doit être un dictionnaire", column=where)]
    kind = rule.get("type")
    if kind not in RULES:
        return [Problem(f"type de grille « {kind} » inconnu (possibles : {', '.join(RULES)})",
                        column=f"{where}.type")]
    if kind == "mixed":
        parts = rule.get("parts")
        if not isinstance(parts, list) or not parts:
            return [Problem("« parts » doit être une liste de grilles", column=f"{where}.parts")]
        for k, part in enumerate(parts):
            problems += check_grid(part, columns, f"{where}.parts[{k + 1}]")
        return problems
    drivers = [rule.get("driver")] + ([rule.get("volume_driver")] if kind == "stratum_volume" else [])
    for d in drivers:
        if d not in columns:
            problems.append(Problem(f"colonne « {d} » inconnue (possibles : {', '.join(columns)})",
                                    column=f"{where}.driver"))
    if kind in ("per_unit", "unit_bands", "fixed_plus_unit"):
        _number(rule, "unit_price", where, problems)
    if kind == "unit_bands":
        _steps(rule, "bands", where, problems)
    if kind == "tranches":
        _steps(rule, "tranches", where, problems)
    if kind == "stratum_volume":
        _steps(rule, "strata", where, problems)
    if kind == "fixed_plus_unit":
        _number(rule, "fixed", where, problems)
        if "quantity_per_driver" in rule:
            _number(rule, "quantity_per_driver", where, problems)
    if rule.get("rounding", "cent") not in ("cent", "up"):
        problems.append(Problem("« rounding » vaut cent (au plus proche) ou up (au centime "
                                "supérieur)", column=f"{where}.rounding"))
    return problems


def _round(values: np.ndarray, how: str) -> np.ndarray:
    cents = values * 100.0
    near = np.round(cents)
    cents = np.where(np.abs(cents - near) < 1e-6, near, cents)  # float noise decides no cent
    return (np.ceil(cents) if how == "up" else np.round(cents)) / 100.0


def _step_value(q: np.ndarray, steps: list[tuple[float, float]]) -> np.ndarray:
    """The value of the step each quantity falls in (steps: [from, value], from increasing); the
    first step also covers quantities below its threshold (0,8 poste estimated is in « 1-2 »)."""
    starts = np.array([s for s, _ in steps])
    values = np.array([v for _, v in steps])
    idx = np.searchsorted(starts, q, side="right") - 1
    return values[np.clip(idx, 0, None)]


def _raw(rule: Mapping, communes: pd.DataFrame) -> np.ndarray:
    kind = rule["type"]
    if kind == "mixed":
        return sum(_raw(part, communes) for part in rule["parts"])
    q = communes[rule["driver"]].to_numpy(dtype=float)
    if kind == "per_unit":
        return float(rule["unit_price"]) * q
    if kind == "unit_bands":
        return float(rule["unit_price"]) * q * _step_value(q, [tuple(b) for b in rule["bands"]])
    if kind == "tranches":
        steps = [tuple(t) for t in rule["tranches"]]
        out = np.zeros_like(q)
        for k, (start, rate) in enumerate(steps):
            end = steps[k + 1][0] if k + 1 < len(steps) else np.inf
            # tranche k covers the units numbered start+1 .. end (inhabitants 1..999, 1000..4999)
            lo = max(start - 1, 0) if k else 0
            hi = end - 1
            out += rate * np.clip(q - lo, 0, hi - lo)
        return out
    if kind == "fixed_plus_unit":
        per = float(rule.get("quantity_per_driver", 1.0))
        return float(rule["fixed"]) + float(rule["unit_price"]) * per * q
    if kind == "stratum_volume":
        rate = _step_value(q, [tuple(s) for s in rule["strata"]])
        return rate * communes[rule["volume_driver"]].to_numpy(dtype=float)
    raise ValueError(kind)


def grid_amounts(rule: Mapping, communes: pd.DataFrame, where: str = "tarif") -> pd.Series:
    """What each commune would be billed under the grid (euros, rounded per the grid's rule)."""
    problems = check_grid(rule, list(communes.columns), where)
    if problems:
        raise InputError(problems)
    values = _round(np.asarray(_raw(rule, communes), dtype=float), rule.get("rounding", "cent"))
    return pd.Series(values, index=communes.index, name="grid_eur")


def balance_grid(collected: pd.Series, cost: float) -> tuple[pd.Series, dict]:
    """Scale what a grid collects to the service's cost, in proportion (the stated rule).

    Returns the shares (summing to 1) and a report: collected, cost, the gap and the factor.
    """
    total = float(collected.sum())
    if total <= 0:
        raise InputError(Problem("la grille ne facture rien : impossible d'en faire une clé",
                                 column="tarif"))
    report = {"collected_eur": round(total, 2), "cost_eur": round(float(cost), 2),
              "gap_eur": round(total - float(cost), 2),
              "factor": float(cost) / total,
              "rule_fr": ("mise à l'échelle proportionnelle : chaque commune paie sa facture "
                          "de la grille multipliée par coût / montant facturé")}
    return collected / total, report
