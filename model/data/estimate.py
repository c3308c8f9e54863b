"""Fill the per-commune fields the user did not give, from population and sourced national ratios.

Every estimated value is flagged, so outputs can mark it « estimé ».
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from model.data.bundled import DATA_DIR
from model.data.schema import NUMERIC


@dataclass(frozen=True)
class CommuneTable:
    """Per-commune figures (index ``commune``) and, for each numeric field, whether it is estimated."""

    values: pd.DataFrame
    estimated: pd.DataFrame

    @property
    def names(self) -> pd.Series:
        return self.values["name"]

    def any_estimated(self) -> pd.Series:
        return self.estimated.any(axis=1)


@cache
def strata() -> pd.DataFrame:
    """DGF demographic strata with the DGCL per-inhabitant averages (data/strata.csv)."""
    return pd.read_csv(DATA_DIR / "strata.csv")


def potentiel_financier_per_hab(population: pd.Series, year: int = 2026) -> pd.Series:
    """Stratum average potentiel financier per inhabitant; potentiel fiscal above 10,000 hab."""
    table = strata()
    idx = np.searchsorted(table["pop_min"].to_numpy(), population.to_numpy(), side="right") - 1
    rows = table.iloc[idx]
    pf = rows[f"potentiel_financier_{year}_eur_per_hab"].to_numpy()
    fiscal = rows["potentiel_fiscal_2025_eur_per_hab"].to_numpy()
    return pd.Series(np.where(np.isnan(pf), fiscal, pf), index=population.index)


def drf_per_hab(population: pd.Series, anchors: dict) -> pd.Series:
    """DRF per inhabitant interpolated in log(population) between the DGCL anchors."""
    pts = sorted((float(k), float(v)) for k, v in anchors.items())
    xs = np.log([p for p, _ in pts])
    ys = [v for _, v in pts]
    logpop = np.log(np.maximum(population.to_numpy(dtype=float), 1.0))
    return pd.Series(np.interp(logpop, xs, ys), index=population.index)


def complete_communes(given: pd.DataFrame, values: dict) -> CommuneTable:
    """Estimate every missing numeric field of ``given`` (index commune; name, population, ...).

    ``values`` is the assumption tree reduced to values (see ``assumption_values``). A field is
    estimated where the cell is missing (NaN) or the column is absent.
    """
    df = given.copy()
    for col in NUMERIC:
        if col not in df.columns:
            df[col] = np.nan
        df[col] = df[col].astype(float)
    estimated = df[list(NUMERIC)].isna()
    drivers, finance = values["drivers"], values["finance"]
    pop = df["population"]

    def fill(col: str, estimate: pd.Series) -> None:
        df[col] = df[col].fillna(estimate)

    fill("agents", pop * drivers["agents_per_1000_hab"] / 1000.0)
    fill("workstations", df["agents"] * drivers["workstations_per_agent"])
    fill("licence_seats", df["workstations"] * drivers["licence_seats_per_workstation"])
    fill("archive_gb", df["agents"] * drivers["archive_gb_per_agent"])
    teb = finance["taux_epargne_brute"]
    fill("drf_eur", df["rrf_eur"] * (1 - teb))
    fill("drf_eur", pop * drf_per_hab(pop, finance["drf_per_hab_anchors"]))
    fill("rrf_eur", df["drf_eur"] / (1 - teb))
    fill("potentiel_financier_eur",
         pop * potentiel_financier_per_hab(pop, int(finance["potentiel_financier_year"])))
    ordered = ["name", *NUMERIC] + [c for c in df.columns if c not in ("name", *NUMERIC)]
    return CommuneTable(df[ordered], estimated)
