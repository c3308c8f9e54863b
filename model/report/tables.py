"""Tidy result tables for people: per-commune view of a year, method comparison, assumptions."""

from __future__ import annotations

import pandas as pd

from model.projection import EPCI_ID

BINDING_ORDER = ["standalone", "incremental", "usage_lower", "usage_upper", "burden"]


def commune_table(result, year: int | None = None, method: str | None = None) -> pd.DataFrame:
    """One row per commune for a year: cost alone, share, saving, burden, binding constraint."""
    proj = result.projection
    year = year if year is not None else proj.years[0]
    method = method or proj.resolved.scenario.method
    amounts = proj.amounts(method, year)
    inputs = proj.inputs[(proj.inputs["year"] == year) & (proj.inputs["payer_id"] != EPCI_ID)]
    standalone = inputs.groupby("payer_id")["standalone_eur"].sum()
    capacity = inputs.groupby("payer_id")["capacity_eur"].first()
    estimated = inputs.groupby("payer_id")["estimated"].any()
    names = proj.resolved.communes.names
    out = pd.DataFrame(index=amounts.index)
    out["name"] = names.reindex(out.index)
    out["population"] = proj.resolved.communes.values["population"].reindex(out.index)
    out["standalone_eur"] = standalone.reindex(out.index)
    for pool in amounts.columns:
        out[pool] = amounts[pool]
    out["amount_eur"] = amounts.sum(axis=1)
    out["saving_eur"] = out["standalone_eur"] - out["amount_eur"]
    out["burden"] = out["amount_eur"] / capacity.reindex(out.index)
    if method == "voted_key" and year in proj.voted:
        why = proj.voted[year].explanation.set_index("commune")["reason_fr"]
    elif method == "lp":
        why = binding_words(proj.lp[year].binding)
    else:
        why = pd.Series(dtype=str)
    out["binding"] = why.reindex(out.index).fillna("")
    out["estimated"] = estimated.reindex(out.index)
    out.index.name = "commune"
    return out.sort_values("population", ascending=False)


def binding_words(binding: pd.DataFrame) -> pd.Series:
    """Commune -> the binding constraints in words, most telling first."""
    if binding is None or binding.empty:
        return pd.Series(dtype=str)
    b = binding.copy()
    b["rank"] = b["group"].map({g: i for i, g in enumerate(BINDING_ORDER)}).fillna(99)
    b = b.sort_values(["commune", "rank"])
    # explanations start with "Name (code) : "; the table already names the commune
    text = b["explanation_fr"].str.replace(r"^.*?\(\w+\) : ", "", regex=True).str.rstrip(".")
    return text.groupby(b["commune"]).agg(lambda s: " ; ".join(dict.fromkeys(s)))


def method_comparison(result, year: int | None = None) -> pd.DataFrame:
    """Commune x method: total paid (all pools) in a year, plus the stand-alone cost."""
    proj = result.projection
    year = year if year is not None else proj.years[0]
    a = proj.allocation[proj.allocation["year"] == year]
    wide = a.pivot_table(index="payer_id", columns="method", values="amount_eur", aggfunc="sum")
    order = [m for m in a["method"].drop_duplicates()]
    return wide[order]


def assumptions_table(tree: dict) -> pd.DataFrame:
    """Every assumption in force, with unit, source and rationale."""
    rows = [
        {"topic": topic, "name": name, "value": entry["value"], "unit": entry.get("unit", ""),
         "source": entry.get("source", ""), "note": entry.get("note", "")}
        for topic, entries in tree.items() for name, entry in entries.items()
    ]
    return pd.DataFrame(rows)
