"""Sensitivity of one EPCI to the uncertain growth rates: scissor years and shares as distributions.

Each draw (numpy ``default_rng(seed)``) picks a licence price growth, a resources (RRF) growth
and whether the SaaS renewal jump happens. The draw changes only the yearly indices, so the
expensive parts are computed once: the resolved data, the start-year costs (drivers and cost
functions do not move), the classic keys and Shapley shares (invariant to prices). Per draw and
year only the split that changes is redone:

* classic keys: the pool amounts times the fixed shares;
* the LP: the leximin split of this allocation LP is found without a solver. Relax the pool
  balances to one total; the leximin of ``burden_i = s_i / cap_i`` over boxes
  ``A_i <= s_i <= B_i`` with ``sum_i s_i = T`` is the water level ``s_i = clip(lam cap_i, A_i, B_i)``
  (O(n log n)). When those totals can be split across pools within the usage band
  (`model.allocation.leximin.breakdown`, checked to 1e-9), they are the LP's leximin totals: the
  leximin of a larger set that lies in the smaller one is the leximin of the smaller one. When
  the check fails (or the burden cap binds) the draw falls back to `allocate_lp`.
  Capacity growth does not move the split (scaling every capacity scales ``t`` only).

Outputs are tidy frames: one row per draw (its parameters and scissor years), the distribution
of each scissor year, and per commune and year the quantiles of its share (a fan chart).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from model.allocation import AllocationInputs, allocate_lp
from model.allocation.inputs import SCALE_EUR
from model.allocation.voted import allocate_voted
from model.allocation.waterfill import fast_leximin, water_level_totals  # noqa: F401
from model.costs import pool_params
from model.errors import InputError
from model.projection import (
    EPCI_ID,
    INDICATORS,
    YearArrays,
    base_costs,
    key_shares,
    price_index,
    voted_inputs,
    year_costs,
)
from model.report.export import atomic_dir, escape_frame
from model.scenario import ResolvedScenario, Scenario

#: Quantiles of the fan chart.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Relative tolerance of the check that the water-level totals split across pools.


# --------------------------------------------------------------------------------------------
# The leximin split without a solver


# --------------------------------------------------------------------------------------------
# Draws


def _triangular(rng: np.random.Generator, spec: tuple[float, float, float], n: int) -> np.ndarray:
    lo, mode, hi = (float(v) for v in spec)
    if not lo <= mode <= hi:
        raise InputError(f"loi triangulaire invalide {spec} : il faut bas ≤ mode ≤ haut")
    if lo == hi:
        return np.full(n, lo)
    return rng.triangular(lo, mode, hi, n)


def draw_parameters(draws: int, seed: int, licence_growth: tuple[float, float, float],
                    rrf_growth: tuple[float, float, float],
                    saas_jump_probability: float) -> pd.DataFrame:
    """One row per draw: ``licence_growth``, ``rrf_growth``, ``saas_jump`` (bool)."""
    if draws < 1:
        raise InputError("il faut au moins un tirage")
    if not 0 <= saas_jump_probability <= 1:
        raise InputError("la probabilité du saut SaaS doit être entre 0 et 1")
    rng = np.random.default_rng(seed)
    lic = _triangular(rng, licence_growth, draws)
    rrf = _triangular(rng, rrf_growth, draws)
    jump = rng.random(draws) < saas_jump_probability
    return pd.DataFrame({"draw": np.arange(draws), "licence_growth": lic, "rrf_growth": rrf,
                         "saas_jump": jump})


@dataclass
class SensitivityResult:
    """The draws, the distribution of each scissor year and the share quantiles (fan chart)."""

    draws: pd.DataFrame
    scissor: pd.DataFrame
    shares: pd.DataFrame
    method: str
    lp_fallbacks: int
    seconds: float
    settings: dict
    voted_shares: str | None = None
    #: Per commune and year: the share of draws in which its taux d'épargne brute has gone under
    #: the alert threshold that year or before (pooled).
    commune_crossing: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Per year: quantiles (5, 25, 50, 75, 95 %) of the EPCI's épargne brute in euros (pooled).
    eb_fan: pd.DataFrame = field(default_factory=pd.DataFrame)


class _Model(YearArrays):
    """Everything of a resolved scenario that does not change between draws."""

    def __init__(self, resolved: ResolvedScenario):
        self.resolved = resolved
        values = resolved.values
        self.years = np.array(resolved.years)
        self.k = self.years - self.years[0]
        communes = resolved.communes.values
        self.communes = communes.index
        self.names = resolved.communes.names
        base = base_costs(resolved)
        self.pools = list(base.pooled.index)
        self.base = base
        super().__init__(resolved, base, self.pools)
        self.pools = list(base.pooled.index)  # a list here: `index("licences")` below
        self.rrf0 = communes["rrf_eur"].to_numpy(dtype=float)
        other0 = communes["drf_eur"].to_numpy(dtype=float) - self.sa.sum(axis=1)
        self.other0 = np.clip(other0, 0.0, None)
        proj = values["projection"]
        self.thresholds = proj
        self.drf_idx = (1.0 + proj["other_drf_growth"]) ** self.k
        # price index of the pools other than licences: fixed across draws
        self.prices = price_index(resolved)[self.pools].to_numpy(dtype=float)  # (Y, P)
        self.lic = self.pools.index("licences") if "licences" in self.pools else None
        params = pool_params(values, self.pools)
        lic = params.get("licences")
        self.saas_step = 0.0
        self.jump_from = None
        jump_year = (lic.saas_jump_year if lic is not None and lic.saas_jump_year is not None
                     else values["sensitivity"].get("saas_jump_year"))
        if lic is not None and jump_year is not None and lic.saas_jump:
            self.saas_step = lic.saas_share * lic.saas_jump
            self.jump_from = int(jump_year)
        self.method = resolved.scenario.method
        self.key = None
        #: How the voted key's split is drawn: "key" when the reference key meets every rule in
        #: the central run (then it is exactly the key), else "central" (each pool split like
        #: the central start year, an approximation stated in sensitivity.json).
        self.voted_shares = None
        if self.method == "voted_key":
            all_shares = key_shares(resolved, base)
            start = resolved.years[0]
            yc = year_costs(resolved, base, price_index(resolved).loc[start], start, 1.0)
            ref = all_shares[values["allocation"]["reference_key"]]
            voted = allocate_voted(voted_inputs(resolved, yc, price_index(resolved).loc[start], ref))
            if voted.key_kept:
                shares, self.voted_shares = ref, "key"
            else:
                shares = voted.raw / voted.raw.sum().where(voted.raw.sum() > 0, 1.0)
                self.voted_shares = "central"
            self.key = shares[self.pools].reindex(self.communes).to_numpy(dtype=float)
        elif self.method != "lp":
            shares = key_shares(resolved, base)[self.method]
            self.key = shares[self.pools].reindex(self.communes).to_numpy(dtype=float)
        self._cache: dict[tuple, tuple[np.ndarray, float]] = {}
        self.fallbacks = 0

    def index(self, licence_growth: float, jump: bool) -> np.ndarray:
        """Year x pool price index of a draw."""
        f = self.prices.copy()
        if self.lic is not None:
            lic = (1.0 + licence_growth) ** self.k
            if jump and self.jump_from is not None:
                lic = lic * np.where(self.years >= self.jump_from, 1.0 + self.saas_step, 1.0)
            f[:, self.lic] = lic
        return f

    def lp_totals(self, f: np.ndarray, cap_index: float) -> tuple[np.ndarray, float]:
        """Commune totals (euros) of the leximin split and t* for price index ``f``.

        Without a burden cap the split does not depend on the capacities' common growth, so it
        is cached on the price index alone and t* scales by ``1 / cap_index``.
        """
        own = 1.0 if np.isinf(self.burden_cap) else cap_index
        key = (*np.round(f, 15), own)
        if key not in self._cache:
            arr = self.arrays(f, own)
            out = fast_leximin(arr) if arr is not None else None
            if out is None:
                self.fallbacks += 1
                out = self._lp(f, own)
            x, t = out
            self._cache[key] = (x.sum(axis=1) * SCALE_EUR, t)
        totals, t = self._cache[key]
        return totals, t * own / cap_index

    def _lp(self, f: np.ndarray, cap_index: float) -> tuple[np.ndarray, float]:
        pooled = self.pooled * f
        epci = pooled * self.epci_share
        keep = 1.0 - epci / np.where(pooled > 0, pooled, 1.0)
        frame = lambda a: pd.DataFrame(a, index=self.communes, columns=self.pools)  # noqa: E731
        inputs = AllocationInputs(
            to_split=pd.Series(pooled - epci, index=self.pools),
            standalone=frame(self.sa * f), incremental=frame(self.inc * f * keep),
            usage_share=frame(self.usage),
            capacity=pd.Series(self.capacity0 * cap_index, index=self.communes),
            band=self.band, names=self.names,
            burden_cap=None if np.isinf(self.burden_cap) else self.burden_cap)
        result = allocate_lp(inputs)
        x = result.raw.reindex(index=self.communes, columns=self.pools).to_numpy() / SCALE_EUR
        return x, float(result.max_burden)

    def one_draw(self, licence_growth: float, rrf_growth: float, jump: bool) -> dict:
        """Per year commune amounts (chosen method), shares, t*; scissor years."""
        f_all = self.index(licence_growth, jump)
        cap_idx = (1.0 + rrf_growth) ** self.k
        n_years, n = len(self.years), len(self.communes)
        paid = np.empty((n_years, n))
        alone = np.empty((n_years, n))
        epci_paid = np.empty(n_years)
        t_star = np.empty(n_years)
        for y in range(n_years):
            f = f_all[y]
            pooled = self.pooled * f
            epci = pooled * self.epci_share
            totals, t_star[y] = self.lp_totals(f, cap_idx[y])
            if self.key is None:
                paid[y] = totals
            else:
                paid[y] = (self.key * (pooled - epci)).sum(axis=1)
            alone[y] = (self.sa * f).sum(axis=1)
            epci_paid[y] = epci.sum()
        rrf = self.rrf0[None, :] * cap_idx[:, None]
        other = self.other0[None, :] * self.drf_idx[:, None]
        out = {"paid": paid, "t_star": t_star}
        tot_rrf, tot_other = rrf.sum(axis=1), other.sum(axis=1)
        series = {}
        for case, per, tot in (("pooled", paid, paid.sum(axis=1) + epci_paid),
                               ("standalone", alone, alone.sum(axis=1))):
            d = np.column_stack([tot, per])
            r = np.column_stack([tot_rrf, rrf])
            o = np.column_stack([tot_other, other])
            series[f"teb_{case}"] = (r - o - d) / r
            series[f"epargne_brute_{case}"] = r - o - d
            series[f"digital_burden_{case}"] = d / r
        years = self.years
        for ind, (col, direction, key) in INDICATORS.items():
            thr = self.thresholds[key]
            for case in ("pooled", "standalone"):
                s = series[f"{col}_{case}"]
                hit = s < thr if direction == "below" else s > thr
                first = np.where(hit.any(axis=0), years[hit.argmax(axis=0)], -1)
                out[f"scissor_{ind}_{case}"] = int(first[0]) if first[0] >= 0 else None
                c = first[1:][first[1:] >= 0]
                out[f"first_commune_{ind}_{case}"] = int(c.min()) if len(c) else None
                if ind == "teb_alert" and case == "pooled":
                    out["_communes_teb_alert"] = first[1:]
        out["_epci_eb"] = series["epargne_brute_pooled"][:, 0]
        return out


def sensitivity(
    scenario: Scenario | ResolvedScenario,
    draws: int | None = None,
    seed: int = 0,
    licence_growth: tuple[float, float, float] | None = None,
    rrf_growth: tuple[float, float, float] | None = None,
    saas_jump_probability: float | None = None,
    quantiles: tuple[float, ...] = QUANTILES,
) -> SensitivityResult:
    """Draw the uncertain growth rates and return the scissor years and shares as distributions.

    Parameters
    ----------
    scenario : the scenario (or an already resolved one); its other assumptions stay fixed.
    draws, seed : number of draws and the seed of ``numpy.random.default_rng`` (same seed, same
        result).
    licence_growth : triangular law ``(low, mode, high)`` of the licence price growth per year.
    rrf_growth : triangular law of the growth of resources (RRF) and capacities per year.
    saas_jump_probability : probability that the one-off SaaS renewal jump of
        ``licences.saas_jump`` happens in ``licences.saas_jump_year``.
        Defaults (None) are the scenario's ``sensitivity`` assumptions (data/assumptions.yaml,
        with their sources).
    quantiles : quantiles of the shares' fan chart.

    Returns
    -------
    SensitivityResult with ``draws`` (one row per draw: parameters, scissor years of the EPCI
    total and first commune crossing, t* of the last year), ``scissor`` (per indicator and case,
    the share of draws whose scissor year is each year; ``year`` empty = not within the
    horizon) and ``shares`` (per commune and year, the quantiles of its share of the pooled
    cost under the scenario's method, and the share in the central case).
    """
    import time

    start = time.perf_counter()
    resolved = scenario.resolve() if isinstance(scenario, Scenario) else scenario
    model = _Model(resolved)
    laws = resolved.values["sensitivity"]
    licence_growth = tuple(licence_growth or laws["licence_growth"])
    rrf_growth = tuple(rrf_growth or laws["rrf_growth"])
    draws = int(draws if draws is not None else laws["draws"])
    if saas_jump_probability is None:
        saas_jump_probability = float(laws["saas_jump_probability"])
    params = draw_parameters(draws, seed, licence_growth, rrf_growth, saas_jump_probability)
    n_years, n = len(model.years), len(model.communes)
    shares = np.empty((draws, n_years, n))
    crossing = np.empty((draws, n), dtype=int)  # first year under the alert TEB, -1: never
    eb = np.empty((draws, n_years))  # the EPCI's épargne brute, pooled
    rows = []
    for d, lic, rrf, jump in params.itertuples(index=False):
        out = model.one_draw(float(lic), float(rrf), bool(jump))
        crossing[d] = out.pop("_communes_teb_alert")
        eb[d] = out.pop("_epci_eb")
        paid = out.pop("paid")
        shares[d] = paid / paid.sum(axis=1, keepdims=True)
        t_star = out.pop("t_star")
        rows.append({**out, "max_burden_end": float(t_star[-1])})
    table = pd.concat([params, pd.DataFrame(rows)], axis=1)
    for col in table.columns:
        if col.startswith(("scissor_", "first_commune_")):
            table[col] = table[col].astype("Int64")

    central = _central(model)
    q = np.quantile(shares, quantiles, axis=0)  # (Q, Y, n)
    frames = []
    for yi, year in enumerate(model.years):
        df = pd.DataFrame({"year": int(year), "commune": model.communes,
                           "name": model.names.reindex(model.communes).to_numpy()})
        for qi, qq in enumerate(quantiles):
            df[f"q{round(100 * qq):02d}"] = q[qi, yi]
        df["mean"] = shares[:, yi].mean(axis=0)
        df["central"] = central[yi]
        frames.append(df)
    share_table = pd.concat(frames, ignore_index=True)
    share_table.insert(3, "method", model.method)
    settings = {"epci": resolved.epci.siren, "seed": seed, "licence_growth": list(licence_growth),
                "rrf_growth": list(rrf_growth), "saas_jump_probability": saas_jump_probability,
                "quantiles": list(quantiles)}
    years = np.asarray(model.years)
    hit = (crossing[:, None, :] >= 0) & (crossing[:, None, :] <= years[None, :, None])
    commune_crossing = pd.DataFrame({
        "year": np.repeat(years, n), "commune": np.tile(model.communes.to_numpy(), n_years),
        "name": np.tile(model.names.reindex(model.communes).to_numpy(), n_years),
        "probability": hit.mean(axis=0).ravel()})
    qe = np.quantile(eb, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    eb_fan = pd.DataFrame({"year": years, **{f"q{k:02d}": qe[i] for i, k in
                                               enumerate((5, 25, 50, 75, 95))}})
    return SensitivityResult(table, scissor_distribution(table), share_table, model.method,
                             model.fallbacks, time.perf_counter() - start, settings,
                             model.voted_shares, commune_crossing, eb_fan)


def _central(model: _Model) -> np.ndarray:
    """Shares (years x communes) with the assumptions' own growth and the jump as configured."""
    values = model.resolved.values
    lic = values["licences"]["growth"] if model.lic is not None else 0.0
    out = model.one_draw(float(lic), float(values["projection"]["rrf_growth"]), True)
    paid = out["paid"]
    return paid / paid.sum(axis=1, keepdims=True)


def scissor_distribution(draws: pd.DataFrame) -> pd.DataFrame:
    """Per indicator, case (pooled/standalone) and level (EPCI total or first commune): how many
    draws give each scissor year (``year`` empty: no crossing within the horizon)."""
    rows = []
    total = len(draws)
    for ind in INDICATORS:
        for level, prefix in (("epci", "scissor"), ("commune", "first_commune")):
            for case in ("pooled", "standalone"):
                col = draws[f"{prefix}_{ind}_{case}"]
                counts = col.value_counts(dropna=False)
                for year, count in counts.items():
                    rows.append({"indicator": ind, "level": level, "case": case,
                                 "year": None if pd.isna(year) else int(year),
                                 "draws": int(count), "share": count / total})
    out = pd.DataFrame(rows).astype({"year": "Int64"})
    return out.sort_values(["indicator", "level", "case", "year"], na_position="last",
                           ignore_index=True)


def write_sensitivity(result: SensitivityResult, out_dir: str | Path, protect=()) -> Path:
    """Write ``draws.csv``, ``scissor.csv``, ``shares.csv``, ``crossing.csv`` (per commune and
    year, the probability of being under the alert TEB), ``epargne_brute.csv`` (quantiles of the
    EPCI's épargne brute per year) and ``sensitivity.json`` into
    ``out_dir``, all or nothing (see `atomic_dir`; ``protect``: inputs ``out_dir`` may not equal
    nor contain). Text a spreadsheet would read as a formula is escaped like `run`'s CSVs."""
    with atomic_dir(out_dir, protect) as tmp:
        for name, frame in (("draws", result.draws), ("scissor", result.scissor),
                            ("shares", result.shares), ("crossing", result.commune_crossing),
                            ("epargne_brute", result.eb_fan)):
            escape_frame(frame).to_csv(tmp / f"{name}.csv", index=False, float_format="%.10g")
        meta = {"method": result.method, "draws": len(result.draws), **result.settings,
                "lp_fallbacks": result.lp_fallbacks,
                "voted_key_shares": result.voted_shares}
        (tmp / "sensitivity.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1),
                                              encoding="utf-8")
    return Path(out_dir)


__all__ = ["EPCI_ID", "QUANTILES", "SensitivityResult", "draw_parameters", "fast_leximin",
           "scissor_distribution", "sensitivity", "water_level_totals", "write_sensitivity"]
