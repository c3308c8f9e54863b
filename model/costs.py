"""The four cost pools: what a service costs a group of communes, alone or pooled, year by year.

Every pool uses one cost function of the volume ``Q`` of its driver over a group ``S``::

    C_p(S) = max(min_price, fixed + unit * Q * clip((Q / ref_volume) ** (elasticity - 1), floor_share, 1))

The unit price never rises with volume, so ``C_p`` is subadditive: pooling never costs more than
buying alone, and the discount stops at ``floor_share`` (economies of scale are not infinite).
Parameters come from data/assumptions.yaml; see the README for each pool in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

POOLS: tuple[str, ...] = ("dsi", "dpo", "archivage", "licences")
POOL_LABELS_FR = {
    "dsi": "DSI mutualisée",
    "dpo": "Délégué à la protection des données",
    "archivage": "Archivage électronique",
    "licences": "Licences logicielles",
}


@dataclass(frozen=True)
class PoolParams:
    """Cost parameters of one pool (euros of the start year; growth per year)."""

    pool: str
    driver: str
    fixed: float
    unit: float
    ref_volume: float
    scale_elasticity: float
    floor_share: float
    min_price: float
    growth: float
    saas_share: float = 0.0
    saas_jump: float = 0.0
    saas_jump_year: int | None = None

    @classmethod
    def from_values(cls, pool: str, values: dict) -> PoolParams:
        v = values[pool]
        return cls(pool=pool, **{k: v[k] for k in cls.__dataclass_fields__ if k in v})

    def cost(self, volume: np.ndarray | float, members: np.ndarray | int = 1) -> np.ndarray:
        """``C_p`` of groups with total driver ``volume`` and ``members`` communes (0 -> 0 €)."""
        q = np.asarray(volume, dtype=float)
        ratio = np.maximum(q / self.ref_volume, 1.0)  # below ref_volume the unit price is flat
        price_factor = np.clip(ratio ** (self.scale_elasticity - 1.0), self.floor_share, 1.0)
        cost = np.maximum(self.min_price, self.fixed + self.unit * q * price_factor)
        return np.where(np.asarray(members) > 0, cost, 0.0)

    def growth_index(self, years: list[int] | range, start_year: int) -> pd.Series:
        """Price index per year (1.0 at ``start_year``), with the one-off SaaS jump if any."""
        years = list(years)
        k = np.array(years) - start_year
        index = (1.0 + self.growth) ** k
        if self.saas_jump_year is not None and self.saas_jump:
            jumped = np.array(years) >= int(self.saas_jump_year)
            index = index * np.where(jumped, 1.0 + self.saas_share * self.saas_jump, 1.0)
        return pd.Series(index, index=pd.Index(years, name="year"), name=self.pool)


def pool_params(values: dict, pools: tuple[str, ...] | list[str] = POOLS) -> dict[str, PoolParams]:
    """The parameters of each selected pool from the assumption values."""
    return {p: PoolParams.from_values(p, values) for p in pools}


def standalone_cost(params: PoolParams, drivers: pd.Series) -> pd.Series:
    """What each commune pays for the service when it buys it alone: ``C_p({i})``."""
    return pd.Series(params.cost(drivers.to_numpy(), 1), index=drivers.index, name=params.pool)


def pooled_cost(params: PoolParams, drivers: pd.Series) -> float:
    """What the whole EPCI pays when the service is pooled: ``C_p(N)``."""
    return float(params.cost(drivers.sum(), len(drivers)))


def incremental_cost(params: PoolParams, drivers: pd.Series) -> pd.Series:
    """The cost each commune adds to the pool: ``C_p(N) - C_p(N minus i)``."""
    total, n = drivers.sum(), len(drivers)
    without = params.cost(total - drivers.to_numpy(), n - 1)
    return pd.Series(pooled_cost(params, drivers) - without, index=drivers.index, name=params.pool)


def usage_share(drivers: pd.Series) -> pd.Series:
    """Each commune's share of the pool's driver (equal shares if nobody uses it)."""
    total = drivers.sum()
    if total <= 0:
        return pd.Series(1.0 / len(drivers), index=drivers.index)
    return drivers / total


@dataclass(frozen=True)
class PoolCosts:
    """Costs of the selected pools for one EPCI in the start year (index commune, columns pool)."""

    standalone: pd.DataFrame
    incremental: pd.DataFrame
    usage_share: pd.DataFrame
    pooled: pd.Series

    @property
    def savings(self) -> pd.Series:
        """Per pool: sum of stand-alone costs minus the pooled cost (>= 0 by subadditivity)."""
        return self.standalone.sum() - self.pooled

    def scaled(self, factor: pd.Series) -> PoolCosts:
        """The same costs with each pool multiplied by ``factor[pool]`` (a year's price index)."""
        f = factor.reindex(self.pooled.index)
        return PoolCosts(self.standalone * f, self.incremental * f, self.usage_share,
                         self.pooled * f)


def pool_costs(communes: pd.DataFrame, params: dict[str, PoolParams]) -> PoolCosts:
    """Stand-alone, incremental and pooled cost of every pool, from the communes' drivers."""
    cols = {}
    for name, fn in (("standalone", standalone_cost), ("incremental", incremental_cost)):
        cols[name] = pd.DataFrame({p: fn(pp, communes[pp.driver]) for p, pp in params.items()})
    shares = pd.DataFrame({p: usage_share(communes[pp.driver]) for p, pp in params.items()})
    pooled = pd.Series({p: pooled_cost(pp, communes[pp.driver]) for p, pp in params.items()},
                       name="pooled_eur")
    pooled.index.name = "pool"
    for df in (*cols.values(), shares):
        df.index.name, df.columns.name = "commune", "pool"
    return PoolCosts(cols["standalone"], cols["incremental"], shares, pooled)
