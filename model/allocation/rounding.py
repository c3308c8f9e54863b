"""Rounding to the cent so that totals balance exactly (largest-remainder method)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def largest_remainder(amounts: pd.Series, total_cents: int) -> pd.Series:
    """Round euros to the cent so that they sum to exactly ``total_cents`` cents.

    Every amount is floored to the cent; the missing cents go one by one to the largest
    remainders (ties broken by index label, so the result does not depend on row order). If the
    floors already exceed the total, cents are taken back from the smallest remainders.
    Negative results are avoided when ``total_cents >= 0`` and the amounts are >= 0.
    """
    total_cents = int(total_cents)
    if amounts.empty:
        if total_cents != 0:
            raise ValueError("Impossible de répartir un montant non nul sur une liste vide.")
        return amounts.astype(float)
    cents = amounts.to_numpy(dtype=float) * 100.0
    # Snap values within 1e-6 cent of an integer, so float noise does not decide a cent.
    near = np.round(cents)
    cents = np.where(np.abs(cents - near) < 1e-6, near, cents)
    floor = np.floor(cents).astype(np.int64)
    rem = cents - floor
    diff = total_cents - int(floor.sum())
    n = len(cents)
    labels = np.array([str(x) for x in amounts.index])
    out = floor.copy()
    if diff != 0:
        whole, part = divmod(abs(diff), n)
        step = 1 if diff > 0 else -1
        out += step * whole
        if part:
            # Descending remainder for additions, ascending for removals; label breaks ties.
            key = -rem if diff > 0 else rem
            order = np.lexsort((labels, key))
            out[order[:part]] += step
    return pd.Series(out / 100.0, index=amounts.index, name=amounts.name)


def round_columns(amounts: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    """Round each column to the cent so that it sums exactly to ``round(totals[col], 2)``."""
    out = {}
    for col in amounts.columns:
        out[col] = largest_remainder(amounts[col], int(round(float(totals[col]) * 100)))
    return pd.DataFrame(out, index=amounts.index).rename_axis(amounts.columns.name, axis=1)


def split_by_key(to_split: pd.Series, shares: pd.DataFrame) -> pd.DataFrame:
    """Split each pool's euros by a key (commune x pool shares), cent-rounded and balancing.

    Each column of the result sums exactly to ``round(to_split[pool], 2)``.
    """
    shares = shares.reindex(columns=to_split.index)
    raw = shares.mul(to_split.astype(float), axis=1)
    out = round_columns(raw, to_split)
    out.index.name = shares.index.name or "commune"
    out.columns.name = "pool"
    return out
