"""The scissor in euros: the blades, an exact attribution of the change of savings, the communes named.

Per payer (commune, or the ``EPCI`` total) and year, with ``R`` the resources (RRF), ``O`` the other
operating spending, ``D`` the digital cost (pooled, or alone) and ``0`` the start year:

* the blades: ``D`` against ``R`` in euros, and the **gap** ``D_y - D_0 R_y / R_0``: what digital
  costs take beyond what they would if they grew like resources (yearly and cumulated);
* the change of épargne brute ``EB = R - O - D`` since the start year, split exactly into
  resources (``+dR``), other spending (``-dO``) and digital costs (``-dD``);
* the change of the taux d'épargne brute ``TEB = EB / R``, split exactly into
  digital ``-(D_y - D_0) / R_y``, other spending ``-(O_y - O_0) / R_y`` and resources
  ``(O_0 + D_0)(1 / R_0 - 1 / R_y)`` (the three terms sum to ``TEB_y - TEB_0``);
* ``digital_absorbs_eb``: the growth of digital costs as a share of the start year's épargne brute.

Pure functions over the tidy projection frame (`model.projection`); nothing here reads files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CASES = ("pooled", "standalone")
ATTRIBUTION_TERMS = ("resources", "other", "digital")


def add_scissor_columns(proj: pd.DataFrame) -> pd.DataFrame:
    """The projection frame with the gap and attribution columns, per year and payer.

    New columns, for ``case`` in pooled and standalone (amounts in euros, changes since the
    start year): ``digital_gap_{case}_eur``, ``digital_gap_cum_{case}_eur``,
    ``eb_change_{case}_eur`` = ``eb_from_resources_eur`` + ``eb_from_other_eur`` +
    ``eb_from_digital_{case}_eur``, and ``teb_change_{case}`` = ``teb_from_resources_{case}``
    + ``teb_from_other_{case}`` + ``teb_from_digital_{case}``; ``digital_absorbs_eb_{case}``;
    and ``eb_negative_{case}`` (épargne brute below zero: operations financed by borrowing or
    reserves).
    """
    out = proj.sort_values(["commune", "year"], kind="stable").copy()
    first = out.groupby("commune", sort=False).transform("first")
    r0, r = first["rrf_eur"], out["rrf_eur"]
    o0, o = first["other_drf_eur"], out["other_drf_eur"]
    out["eb_from_resources_eur"] = r - r0
    out["eb_from_other_eur"] = -(o - o0)
    for case in CASES:
        d0, d = first[f"digital_{case}_eur"], out[f"digital_{case}_eur"]
        gap = d - d0 * r / r0
        out[f"digital_gap_{case}_eur"] = gap
        out[f"digital_gap_cum_{case}_eur"] = gap.groupby(out["commune"], sort=False).cumsum()
        out[f"eb_from_digital_{case}_eur"] = -(d - d0)
        out[f"eb_change_{case}_eur"] = (out["eb_from_resources_eur"] + out["eb_from_other_eur"]
                                        + out[f"eb_from_digital_{case}_eur"])
        out[f"teb_from_digital_{case}"] = -(d - d0) / r
        out[f"teb_from_other_{case}"] = -(o - o0) / r
        out[f"teb_from_resources_{case}"] = (o0 + d0) * (1.0 / r0 - 1.0 / r)
        out[f"teb_change_{case}"] = (out[f"teb_from_digital_{case}"]
                                     + out[f"teb_from_other_{case}"]
                                     + out[f"teb_from_resources_{case}"])
        eb0 = r0 - o0 - d0
        out[f"digital_absorbs_eb_{case}"] = ((d - d0) / eb0).where(eb0 > 0)
        out[f"eb_negative_{case}"] = out[f"epargne_brute_{case}_eur"] < 0
    return out.sort_index()


def attribution(proj: pd.DataFrame, case: str = "pooled", year: int | None = None) -> pd.DataFrame:
    """Per payer: épargne brute and TEB at the start and in `year` (the last by default), and the
    change split into resources, other spending and digital costs (sums exact)."""
    cols = proj if "eb_from_resources_eur" in proj.columns else add_scissor_columns(proj)
    year = int(cols["year"].max()) if year is None else year
    start = int(cols["year"].min())
    a = cols[cols["year"] == start].set_index("commune")
    b = cols[cols["year"] == year].set_index("commune")
    out = pd.DataFrame({
        "name": b["name"],
        "eb_start_eur": a[f"epargne_brute_{case}_eur"],
        "eb_end_eur": b[f"epargne_brute_{case}_eur"],
        "eb_change_eur": b[f"eb_change_{case}_eur"],
        "eb_from_resources_eur": b["eb_from_resources_eur"],
        "eb_from_other_eur": b["eb_from_other_eur"],
        "eb_from_digital_eur": b[f"eb_from_digital_{case}_eur"],
        "teb_start": a[f"teb_{case}"],
        "teb_end": b[f"teb_{case}"],
        "teb_change": b[f"teb_change_{case}"],
        "teb_from_resources": b[f"teb_from_resources_{case}"],
        "teb_from_other": b[f"teb_from_other_{case}"],
        "teb_from_digital": b[f"teb_from_digital_{case}"],
        "digital_absorbs_eb": b[f"digital_absorbs_eb_{case}"],
        "gap_cum_eur": b[f"digital_gap_cum_{case}_eur"],
    })
    if "finances_estimated" in b.columns:
        out["finances_estimated"] = b["finances_estimated"].astype(bool)
    out.attrs.update(start=start, year=year, case=case)
    return out


def named_crossings(scissor: pd.DataFrame, proj: pd.DataFrame) -> dict[str, list[dict]]:
    """Per indicator, the communes that cross (pooled or alone), each with its first years and
    whether its finances are estimated: the summary names them, not only counts them."""
    est = {}
    if "finances_estimated" in proj.columns:
        est = proj.groupby("commune")["finances_estimated"].first().to_dict()
    out: dict[str, list[dict]] = {}
    communes = scissor[scissor["commune"] != "EPCI"]
    for ind, df in communes.groupby("indicator", sort=False):
        hit = df[df["year_pooled"].notna() | df["year_standalone"].notna()]
        hit = hit.sort_values(["year_pooled", "year_standalone", "commune"], na_position="last")
        out[str(ind)] = [{
            "commune": str(r.commune), "name": str(r.name),
            "year_pooled": None if pd.isna(r.year_pooled) else int(r.year_pooled),
            "year_standalone": None if pd.isna(r.year_standalone) else int(r.year_standalone),
            "estimated": bool(est.get(r.commune, False))} for r in hit.itertuples()]
    return out


def eur_fr(value: float) -> str:
    """``-1234567.8`` -> ``"−1 234 568 €"`` (whole euros, narrow no-break spaces)."""
    text = f"{abs(value):,.0f}".replace(",", "\u202f")
    return ("−" if value < -0.5 else "") + text + "\u00a0€"


#: A territory's name as it follows « de » (« la région », « le département »...).
_OF_TERRITORY = (("Région ", "de la région "), ("Département ", "du département "),
                 ("Territoire ", "du territoire "))


def of_territory(name: str) -> str:
    """« de » and the territory's name, in French: « de CA de Blois », « de la région
    Centre-Val de Loire », « du département du Loir-et-Cher »."""
    for start, of in _OF_TERRITORY:
        if name.startswith(start):
            return of + name[len(start):]
    return f"de {name}"


def headline_fr(att: pd.Series, start: int, year: int, territory: str) -> str:
    """The plenary's sentence: what digital costs do to the territory's savings, in euros."""
    dig = -float(att["eb_from_digital_eur"])
    other = -float(att["eb_from_other_eur"])
    res = float(att["eb_from_resources_eur"])
    eb0 = float(att["eb_start_eur"])
    share = dig / eb0 if eb0 > 0 else np.nan
    verb = "réduit" if dig >= 0 else "augmente"
    text = (f"De {start} à {year}, la hausse du coût numérique {verb} l'épargne brute annuelle "
            f"{of_territory(territory)} de {eur_fr(abs(dig))}")
    if np.isfinite(share):
        text += f" ({abs(share):.1%} de celle de {start})".replace(".", ",").replace("%", "\u00a0%")
    other_fr = (f"les autres dépenses la réduisent de {eur_fr(other)}" if other >= 0
                else f"les autres dépenses, en baisse, l'augmentent de {eur_fr(-other)}")
    res_fr = (f"les ressources l'augmentent de {eur_fr(res)}" if res >= 0
              else f"les ressources, en baisse, la réduisent de {eur_fr(-res)}")
    text += (f" ; {other_fr} et {res_fr}. Épargne brute : {eur_fr(eb0)} en {start}, "
             f"{eur_fr(float(att['eb_end_eur']))} en {year}.")
    if bool(att.get("finances_estimated", False)):
        text += (" Finances estimées à partir de moyennes nationales : apportez vos comptes "
                 "(modèle Excel) pour lire les années commune par commune.")
    return text
