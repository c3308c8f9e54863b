"""Classic allocation keys: shares per commune and pool, each pool's column summing to 1.

Every key takes the commune table (indexed by ``commune``; columns ``population``,
``potentiel_financier_eur``, ``agents``, ``workstations``) and the list of pools, and returns a
``commune x pool`` DataFrame of shares. A simple key gives every pool the same column; only
`weighted_key` can use a different usage driver per pool (pass a dict ``pool -> column``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from model.errors import InputError

Key = Callable[..., pd.DataFrame]


def _shares(driver: pd.Series, name: str) -> pd.Series:
    values = driver.astype(float)
    if values.isna().any() or (values < 0).any():
        raise InputError(f"La clé « {name} » demande des valeurs positives ou nulles pour chaque commune.")
    total = values.sum()
    if not total > 0:
        raise InputError(f"La clé « {name} » est nulle pour toutes les communes.")
    return values / total


def _same_for_pools(shares: pd.Series, pools: Sequence[str]) -> pd.DataFrame:
    out = pd.DataFrame(np.repeat(shares.to_numpy()[:, None], len(pools), axis=1),
                       index=shares.index.copy(), columns=pd.Index(list(pools), name="pool"))
    out.index.name = "commune"
    return out


def driver_key(communes: pd.DataFrame, pools: Sequence[str], column: str) -> pd.DataFrame:
    """Shares proportional to one column of the commune table, same for every pool."""
    if column not in communes.columns:
        raise InputError(f"Colonne « {column} » absente de la table des communes.")
    return _same_for_pools(_shares(communes[column], column), pools)


def population_key(communes: pd.DataFrame, pools: Sequence[str]) -> pd.DataFrame:
    """Shares proportional to the municipal population."""
    return driver_key(communes, pools, "population")


def potentiel_financier_key(communes: pd.DataFrame, pools: Sequence[str]) -> pd.DataFrame:
    """Shares proportional to the potentiel financier (the legal measure of means)."""
    return driver_key(communes, pools, "potentiel_financier_eur")


def agents_key(communes: pd.DataFrame, pools: Sequence[str]) -> pd.DataFrame:
    """Shares proportional to the number of agents (FTE)."""
    return driver_key(communes, pools, "agents")


def workstations_key(communes: pd.DataFrame, pools: Sequence[str]) -> pd.DataFrame:
    """Shares proportional to the number of workstations."""
    return driver_key(communes, pools, "workstations")


def equal_key(communes: pd.DataFrame, pools: Sequence[str]) -> pd.DataFrame:
    """Equal shares: every commune pays ``1/n``."""
    return _same_for_pools(pd.Series(1.0 / len(communes), index=communes.index), pools)


def weighted_key(
    communes: pd.DataFrame,
    pools: Sequence[str],
    fixed_part: float,
    fixed_key: str,
    usage_key: str | dict[str, str],
) -> pd.DataFrame:
    """A fixed part split by `fixed_key` plus a usage part, like real conventions.

    ``share = fixed_part * fixed_key + (1 - fixed_part) * usage``. `fixed_key` is a name in
    `KEYS` (e.g. ``"population"``); `usage_key` is a column of the commune table, or a dict
    ``pool -> column`` for a different usage driver per pool (e.g. ``{"dsi": "workstations",
    "dpo": "agents"}``; pools missing from the dict use ``workstations``).
    """
    if not 0 <= fixed_part <= 1:
        raise InputError(f"La part fixe doit être entre 0 et 1 (reçu {fixed_part}).")
    if fixed_key not in KEYS:
        raise InputError(f"Clé fixe inconnue : « {fixed_key} ».")
    fixed = KEYS[fixed_key](communes, pools)
    columns = usage_key if isinstance(usage_key, dict) else dict.fromkeys(pools, usage_key)
    usage = pd.concat(
        {pool: _shares(communes[columns.get(pool, "workstations")], columns.get(pool, "workstations"))
         for pool in pools}, axis=1,
    )
    usage.columns.name = "pool"
    return fixed_part * fixed + (1 - fixed_part) * usage


KEYS: dict[str, Key] = {
    "population": population_key,
    "potentiel_financier": potentiel_financier_key,
    "agents": agents_key,
    "workstations": workstations_key,
    "equal": equal_key,
}
