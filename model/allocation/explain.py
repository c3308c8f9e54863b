"""Binding constraints of an allocation, explained in French to a finance director."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.allocation.inputs import SCALE_EUR, TIGHT_EUR, AllocationInputs, Arrays, lp_name

BINDING_COLUMNS = ["commune", "group", "pool", "shadow_price", "explanation_fr"]

#: What a binding constraint of each group means, in plain French.
MEANING_FR = {
    "standalone": "plafonné par son coût isolé",
    "usage_lower": "au plancher de la bande d'usage",
    "usage_upper": "au plafond de la bande d'usage",
    "incremental": "au plancher du coût incrémental",
    "burden": "charge au maximum commun t*",
    "balance": "équilibre du pool",
}


def eur_fr(value: float) -> str:
    """``1234.5`` -> ``"1 234,50 €"`` (narrow no-break space as thousands separator)."""
    return f"{value:,.2f} €".replace(",", "\u202f").replace(".", ",")


def pct_fr(ratio: float) -> str:
    """``0.01234`` -> ``"1,23 %"``."""
    return f"{100 * ratio:.2f}\u00a0%".replace(".", ",")


def binding_table(
    inputs: AllocationInputs,
    arr: Arrays,
    x: np.ndarray,
    level: np.ndarray,
    round_fixed: np.ndarray,
    duals: dict[str, float],
) -> pd.DataFrame:
    """Constraints tight at the final split `x` (M€), with round-1 shadow prices.

    ``shadow_price`` is the change of the first-round optimum t* per euro of right-hand side
    (HiGHS/CBC sign convention: negative when relaxing the constraint lowers t*).
    """
    tol = TIGHT_EUR / SCALE_EUR
    rows = []
    totals = x.sum(axis=1)
    t_star = np.nanmax(level) if np.isfinite(level).any() else np.nan

    def add(i: int, group: str, pool: str, detail: str) -> None:
        commune = communes[i]
        name = lp_name(group, pool, commune)
        where = f" pour « {pool} »" if pool else ""
        rows.append({
            "commune": commune,
            "group": group,
            "pool": pool,
            "shadow_price": duals.get(name, 0.0) / SCALE_EUR,
            "explanation_fr": f"{inputs.label(commune)} : {detail}{where}.",
        })

    pools = arr.pools.tolist()
    communes = arr.communes.tolist()
    for i in range(len(communes)):
        if totals[i] >= arr.standalone[i] - tol:
            add(i, "standalone", "", f"{MEANING_FR['standalone']} ({eur_fr(arr.standalone[i] * SCALE_EUR)})")
        if arr.incremental[i] > 0 and totals[i] <= arr.incremental[i] + tol:
            add(i, "incremental", "", f"{MEANING_FR['incremental']} ({eur_fr(arr.incremental[i] * SCALE_EUR)})")
        for p, pool in enumerate(pools):
            if arr.upper[i, p] <= arr.lower[i, p]:
                continue  # no usage, nothing to explain
            if x[i, p] <= arr.lower[i, p] + tol:
                add(i, "usage_lower", pool, MEANING_FR["usage_lower"])
            elif x[i, p] >= arr.upper[i, p] - tol:
                add(i, "usage_upper", pool, MEANING_FR["usage_upper"])
        if round_fixed[i] == 1:
            add(i, "burden", "", f"{MEANING_FR['burden']} ({pct_fr(t_star)})")
        elif round_fixed[i] > 1:
            add(i, "burden", "", f"charge égalisée à {pct_fr(level[i])} "
                f"(tour {round_fixed[i]} du partage égalitaire)")
    return pd.DataFrame(rows, columns=BINDING_COLUMNS)
