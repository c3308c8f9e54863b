"""Synthetic allocation inputs from real commune populations, for tests and benchmarks.

Until the cost module is wired in, each pool costs ``C_p(S) = F_p + a_p Q(S)^0.8`` euros
(Q = population, a concave cost: pooling saves money). Capacity is ``900 € x population``
times a commune factor, usage shares are population times a per-pool commune factor; the
factors are derived from the INSEE code (stable whatever the row order).
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from model.allocation.inputs import AllocationInputs

#: pool -> (fixed cost F in euros, scale a in euros per inhabitant^0.8)
POOLS = {"dsi": (20_000.0, 400.0), "dpo": (5_000.0, 30.0),
         "archivage": (8_000.0, 60.0), "licences": (3_000.0, 250.0)}
EXPONENT = 0.8
EUR_PER_INHABITANT = 900.0


def code_factor(codes: pd.Index, salt: str, lo: float, hi: float) -> np.ndarray:
    """A deterministic pseudo-random factor in ``[lo, hi]`` per commune code."""
    u = np.array([zlib.crc32(f"{salt}:{c}".encode()) / 2**32 for c in codes])
    return lo + (hi - lo) * u


def pool_cost(pool: str, q: np.ndarray) -> np.ndarray:
    """``F + a q^0.8`` (0 for an empty coalition)."""
    f, a = POOLS[pool]
    q = np.asarray(q, dtype=float)
    return np.where(q > 0, f + a * q**EXPONENT, 0.0)


def synthetic_inputs(
    communes: pd.DataFrame,
    band: tuple[float, float] = (0.5, 2.0),
    vary: bool = True,
) -> AllocationInputs:
    """AllocationInputs for `communes` (needs ``population``; ``name`` is used if present).

    With ``vary=False`` usage shares are population shares and capacity is exactly
    ``900 € x population`` (every usage split then has the same burden).
    """
    idx = pd.Index(communes.index.astype(str), name="commune")
    q = communes["population"].to_numpy(dtype=float)
    total_q = q.sum()
    to_split, sa, inc, share = {}, {}, {}, {}
    for pool in POOLS:
        grand = float(pool_cost(pool, np.array([total_q]))[0])
        to_split[pool] = grand
        sa[pool] = pool_cost(pool, q)
        inc[pool] = grand - pool_cost(pool, total_q - q)
        usage = q * (code_factor(idx, pool, 0.7, 1.3) if vary else 1.0)
        share[pool] = usage / usage.sum()
    cap = EUR_PER_INHABITANT * q * (code_factor(idx, "capacity", 0.6, 1.6) if vary else 1.0)
    frame = lambda d: pd.DataFrame(d, index=idx).rename_axis("pool", axis=1)  # noqa: E731
    names = communes["name"].set_axis(idx) if "name" in communes.columns else None
    return AllocationInputs(
        to_split=pd.Series(to_split, name="to_split_eur").rename_axis("pool"),
        standalone=frame(sa),
        incremental=frame(inc),
        usage_share=frame(share),
        capacity=pd.Series(cap, index=idx, name="capacity_eur"),
        band=band,
        names=names,
    )
