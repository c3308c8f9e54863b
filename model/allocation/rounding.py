"""Rounding to the cent so that totals balance exactly (largest-remainder method)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def label_rank(index: pd.Index) -> np.ndarray:
    """Rank of each label as a string: the tie-break, so results do not depend on row order."""
    labels = np.array([str(x) for x in index])
    return np.argsort(np.argsort(labels, kind="stable"), kind="stable")


def largest_remainder_columns(raw: np.ndarray, total_cents: np.ndarray,
                              ranks: np.ndarray) -> np.ndarray:
    """Round each column of an ``(n, K)`` euro array to the cent, summing to ``total_cents``.

    Every amount is floored to the cent; the missing cents go one by one to the largest
    remainders (ties broken by ``ranks``, see `label_rank`). If the floors already exceed the
    total, cents are taken back from the smallest remainders. Values within 1e-6 cent of an
    integer are snapped to it, so float noise does not decide a cent.
    """
    n = raw.shape[0]
    cents = raw * 100.0
    near = np.round(cents)
    cents = np.where(np.abs(cents - near) < 1e-6, near, cents)
    floor = np.floor(cents).astype(np.int64)
    rem = cents - floor
    diff = np.asarray(total_cents, dtype=np.int64) - floor.sum(axis=0)
    whole, part = np.divmod(np.abs(diff), n)
    step = np.sign(diff)
    key = np.where(diff > 0, -rem, rem)
    order = np.lexsort((np.broadcast_to(ranks[:, None], key.shape), key), axis=0)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(n)[:, None], order.shape), axis=0)
    out = floor + step * whole + step * (rank < part)
    return out / 100.0


def largest_remainder(amounts: pd.Series, total_cents: int) -> pd.Series:
    """Round euros to the cent so that they sum to exactly ``total_cents`` cents
    (largest-remainder method, see `largest_remainder_columns`)."""
    total_cents = int(total_cents)
    if amounts.empty:
        if total_cents != 0:
            raise ValueError("Impossible de répartir un montant non nul sur une liste vide.")
        return amounts.astype(float)
    raw = amounts.to_numpy(dtype=float)[:, None]
    out = largest_remainder_columns(raw, np.array([total_cents]), label_rank(amounts.index))
    return pd.Series(out[:, 0], index=amounts.index, name=amounts.name)


def round_columns(amounts: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    """Round each column to the cent so that it sums exactly to ``round(totals[col], 2)``."""
    cents = np.array([int(round(float(totals[c]) * 100)) for c in amounts.columns])
    if amounts.empty:
        return amounts.astype(float)
    out = largest_remainder_columns(amounts.to_numpy(dtype=float), cents,
                                    label_rank(amounts.index))
    return pd.DataFrame(out, index=amounts.index, columns=amounts.columns)


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


def round_bounded(raw: np.ndarray, totals_eur: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                  ranks: np.ndarray) -> np.ndarray:
    """Round an ``(n, K)`` euro array to the cent, each column summing to its total, within bounds.

    Like `largest_remainder_columns`, but an amount receives a missing cent only if it stays at
    most ``upper`` (and gives one back only if it stays at least ``lower``); the largest
    remainders go first, ties broken by ``ranks``. Only when no amount has room is a bound
    broken, by one cent at a time, so the columns always balance.
    """
    cents = np.asarray(raw, dtype=float) * 100.0
    near = np.round(cents)
    cents = np.where(np.abs(cents - near) < 1e-6, near, cents)
    out = np.floor(cents)
    rem = cents - out
    up_c = np.floor(np.asarray(upper, dtype=float) * 100.0 + 1e-6)
    lo_c = np.ceil(np.asarray(lower, dtype=float) * 100.0 - 1e-6)
    target = np.round(np.asarray(totals_eur, dtype=float) * 100.0)
    for k in range(out.shape[1]):
        col, r = out[:, k], rem[:, k]
        must = (col < lo_c[:, k]) & (r > 0) & (col + 1 <= up_c[:, k])
        col[must] += 1
        diff = int(target[k] - col.sum())
        step = 1 if diff > 0 else -1
        for tier in range(3):
            if diff == 0:
                break
            if step > 0:
                room = col + 1 <= up_c[:, k]
                ok = [room & (r > 0) & ~must, room, np.ones_like(room)][tier]
                key = -r
            else:
                room = col - 1 >= lo_c[:, k]
                ok = [room & (r > 0), room, col >= 1][tier]
                key = r
            idx = np.flatnonzero(ok)
            idx = idx[np.lexsort((ranks[idx], key[idx]))]
            take = idx[: abs(diff)]
            col[take] += step
            diff -= step * len(take)
        if diff:  # more cents than entries: spread whole cents evenly
            col += step * (abs(diff) // len(col))
            col[: abs(diff) % len(col)] += step
        out[:, k] = col
    return out / 100.0
