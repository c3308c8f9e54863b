"""What the panels show, without any widget: a caching simulation and French display tables.

:class:`Simulation` runs the allocation LP only when an input that the LP depends on changes
(EPCI, user data, pools, growth rates, usage band, EPCI share). The method shown and the
thresholds of the scissor indicators do not change the LP: for them the projection frame is
re-derived from the cached allocation of every method (milliseconds instead of a second for
158 communes). Both paths give the same frames as :func:`model.run.run` (tests/ui check it).
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from model.costs import POOL_LABELS_FR
from model.projection import (
    EPCI_ID,
    Projection,
    add_indicators,
    add_settlement,
    project,
    scissor_table,
)
from model.report.labels import METHOD_LABELS_FR
from model.report.tables import commune_table
from model.run import RunResult, build_summary
from model.scenario import Scenario

#: Assumptions that only change the indicators, never the allocation LP.
VIEW_ONLY = {"projection": ("teb_alert", "teb_degraded", "digital_burden_threshold")}


def lp_key(scenario: Scenario, user_key: str | None) -> str:
    """Everything the LP depends on: the scenario minus method and view-only thresholds."""
    d = scenario.to_dict()
    d.pop("method")
    d.pop("settlement")
    d.pop("name")
    d["assumptions"] = copy.deepcopy(d["assumptions"])
    for topic, names in VIEW_ONLY.items():
        for name in names:
            d["assumptions"].get(topic, {}).pop(name, None)
    d["assumptions"] = {k: v for k, v in d["assumptions"].items() if v}
    d["base_dir"] = str(scenario.base_dir) if scenario.data_file else None
    d["user"] = user_key
    return json.dumps(d, sort_keys=True, default=str)


def table_key(table: pd.DataFrame | None) -> str | None:
    """A content hash of a user table (None when there is none)."""
    if table is None:
        return None
    h = hashlib.sha256(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    h.update(",".join(map(str, table.columns)).encode())
    return h.hexdigest()


def rederive_projection(frame: pd.DataFrame, allocation: pd.DataFrame, method: str,
                        thresholds: dict, settlement: str, start_year: int) -> pd.DataFrame:
    """The projection frame of another method or other thresholds, from a run's allocation.

    ``digital_pooled_eur`` is what each commune pays under ``method`` (the EPCI row: everyone,
    the EPCI's own budget included); indicators and settlement are recomputed by the library's
    own :func:`add_indicators` and :func:`add_settlement`.
    """
    paid = allocation[allocation["method"] == method]
    by_payer = paid.groupby(["year", "payer_id"])["amount_eur"].sum()
    total = paid.groupby("year")["amount_eur"].sum()
    out = frame.copy()
    is_epci = out["commune"] == EPCI_ID
    keys = pd.MultiIndex.from_arrays([out["year"], out["commune"]])
    pooled = by_payer.reindex(keys).to_numpy()
    pooled = np.where(is_epci, total.reindex(out["year"]).to_numpy(), pooled)
    out["digital_pooled_eur"] = pooled
    out = add_indicators(out, thresholds)
    return add_settlement(out, settlement, start_year)


@dataclass
class View:
    """One consistent state of the screen: the resolved scenario's projection and scissor.

    ``summary`` (needed only for the XLSX report) is built on demand.
    """

    scenario: Scenario
    projection: Projection
    scissor: pd.DataFrame
    lp_key: str
    _summary: dict | None = field(default=None, repr=False)

    @property
    def summary(self) -> dict:
        if self._summary is None:
            self._summary = build_summary(self.projection, self.scissor)
        return self._summary

    def result(self) -> RunResult:
        """A :class:`RunResult` identical to ``run(scenario, user_table)``."""
        return RunResult(self.projection, self.scissor, self.summary)

    @property
    def thresholds(self) -> dict:
        return self.projection.resolved.values["projection"]

    @property
    def infeasible_years(self) -> list[int]:
        method = self.scenario.method if self.scenario.method in ("lp", "voted_key") else "lp"
        return [y for y in self.projection.years
                if self.projection.status(method, y) != "optimal"]


class Simulation:
    """Runs scenarios for the panels; re-solves the LP only when the LP's inputs change."""

    def __init__(self, max_cached: int = 4):
        self._cache: OrderedDict[str, Projection] = OrderedDict()
        self.max_cached = max_cached
        self.timings: dict[str, float] = {}
        self.lp_runs = 0

    def base(self, scenario: Scenario, user_table: pd.DataFrame | None = None,
             user_key: str | None = None) -> tuple[str, Projection]:
        """The projection (every method) of ``scenario``, from cache when the LP inputs match."""
        key = lp_key(scenario, user_key if user_key is not None else table_key(user_table))
        if key in self._cache:
            self._cache.move_to_end(key)
            self.timings["allocation"] = 0.0
            return key, self._cache[key]
        start = time.perf_counter()
        proj = project(scenario.resolve(user_table))
        self.timings["allocation"] = time.perf_counter() - start
        self.lp_runs += 1
        self._cache[key] = proj
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)
        return key, proj

    def view(self, scenario: Scenario, user_table: pd.DataFrame | None = None,
             user_key: str | None = None) -> View:
        """The full, consistent state for ``scenario`` (method and thresholds included)."""
        key, base = self.base(scenario, user_table, user_key)
        start = time.perf_counter()
        resolved = scenario.resolve(user_table)
        if resolved.scenario == base.resolved.scenario:
            frame = base.projection
        else:
            frame = rederive_projection(
                base.projection, base.allocation, scenario.method, resolved.values["projection"],
                scenario.settlement, base.years[0])
        proj = Projection(resolved, base.inputs, base.allocation, frame, base.lp, base.years,
                          base.voted, base.voted_inputs)
        scissor = scissor_table(frame, resolved.values["projection"])
        self.timings["indicators"] = time.perf_counter() - start
        return View(scenario, proj, scissor, key)


# ------------------------------------------------------------------------------------------------
# French display tables
# ------------------------------------------------------------------------------------------------

def eur(value: float) -> str:
    """``12 345 €`` (narrow no-break spaces, no cents)."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:,.0f}".replace(",", "\u202f") + "\u00a0€"


def eur_signed(value: float) -> str:
    """``+12 345 €`` / ``−12 345 €``."""
    from model.report.charts import eur_signed as signed

    return "–" if value is None or pd.isna(value) else signed(value)


def pct(value: float, digits: int = 1) -> str:
    """``12,3 %``."""
    if value is None or pd.isna(value):
        return "–"
    return f"{100 * value:.{digits}f}".replace(".", ",") + "\u202f%"


def year_or_never(value) -> str:
    return "jamais" if value is None or pd.isna(value) else str(int(value))


def display_commune_table(view: View, year: int, method: str) -> pd.DataFrame:
    """Per commune, in French and formatted: cost alone, share by pool, saving, burden and the
    LP's binding constraint in words."""
    table = commune_table(SimpleNamespace(projection=view.projection), year, method)
    pools = [p for p in POOL_LABELS_FR if p in table.columns]
    out = pd.DataFrame(index=table.index)
    out["Commune"] = table["name"] + table["estimated"].map({True: " *", False: ""})
    out["Population"] = table["population"].map(lambda v: f"{v:,.0f}".replace(",", "\u202f"))
    out["Coût si seule"] = table["standalone_eur"].map(eur)
    for p in pools:
        out[POOL_LABELS_FR[p]] = table[p].map(eur)
    out["Part payée"] = table["amount_eur"].map(eur)
    out["Économie"] = table["saving_eur"].map(eur)
    out["Charge (part du potentiel financier)"] = table["burden"].map(lambda v: pct(v, 2))
    if method == "lp":
        out["Contrainte qui joue"] = table["binding"].replace("", "aucune")
    elif method == "voted_key":
        out["Pourquoi ce montant"] = table["binding"]
    out.index.name = "Code INSEE"
    return out


def display_crossings(view: View, indicator: str = "teb_alert", n: int = 10) -> pd.DataFrame:
    """The communes that cross the threshold first, in French; « (estimé) » beside a commune
    whose finances are estimated from national averages."""
    from model.report.charts import first_crossings

    df = first_crossings(view.scissor, indicator, "pooled", None)
    alone_only = view.scissor[(view.scissor["indicator"] == indicator)
                              & (view.scissor["commune"] != EPCI_ID)
                              & view.scissor["year_pooled"].isna()
                              & view.scissor["year_standalone"].notna()]
    df = pd.concat([df, alone_only.sort_values("year_standalone")]).head(n)
    est = finances_estimated(view)
    return pd.DataFrame({
        "Commune": [marked_name(name, est.get(c, False))
                    for c, name in zip(df["commune"], df["name"], strict=True)],
        "Année, mutualisé": df["year_pooled"].map(year_or_never).to_numpy(),
        "Année, si seule": df["year_standalone"].map(year_or_never).to_numpy(),
        "Années gagnées": df["years_gained"].map(
            lambda v: "–" if pd.isna(v) else str(int(v))).to_numpy(),
    })


# ------------------------------------------------------------------------------------------------
# The scissor in euros: headline, estimated finances, named communes
# ------------------------------------------------------------------------------------------------

ESTIMATED_MARK_FR = " (estimé)"
#: Indicators in the order the named lists are read: the gravest first.
NAMED_ORDER = ("eb_negative", "teb_degraded", "teb_alert", "digital_burden")


def marked_name(name: str, estimated: bool) -> str:
    """``Chevilly (estimé)`` when the commune's finances are estimated."""
    return f"{name}{ESTIMATED_MARK_FR}" if estimated else str(name)


def finances_estimated(view: View) -> dict[str, bool]:
    """Commune (INSEE code) -> finances estimated from national averages (EPCI row excluded)."""
    frame = view.projection.projection
    if "finances_estimated" not in frame.columns:
        return {}
    rows = frame[frame["commune"] != EPCI_ID]
    return rows.groupby("commune")["finances_estimated"].first().astype(bool).to_dict()


def estimated_count(view: View) -> int:
    """How many communes have finances estimated from national averages."""
    return int(sum(finances_estimated(view).values()))


def estimated_invitation(view: View) -> str | None:
    """The French invitation to bring one's accounts, or None when every commune's are given."""
    n = estimated_count(view)
    if not n:
        return None
    communes = "1 commune" if n == 1 else f"{n} communes"
    return (f"Finances estimées à partir de moyennes nationales pour {communes} : déposez vos "
            "comptes (modèle Excel) avant de lire les années commune par commune.")


def attribution_table(view: View, case: str = "pooled") -> pd.DataFrame:
    """Per payer: épargne brute start and end and its change split exactly into resources,
    other spending and digital costs (`model.scissor.attribution`)."""
    from model.scissor import attribution

    return attribution(view.projection.projection, case)


def payer_label(view: View, commune: str = EPCI_ID) -> str:
    """The EPCI's name for the total row, else the commune's name."""
    if commune == EPCI_ID:
        return view.projection.resolved.epci.name
    return str(view.projection.resolved.communes.names.get(commune, commune))


def headline(view: View, commune: str = EPCI_ID, att: pd.DataFrame | None = None) -> str:
    """What digital costs do to the savings of the territory (or of one commune), in euros.

    Estimated finances are not folded into the sentence: for the EPCI the panels show
    :func:`estimated_invitation` beside it, for a commune « (estimé) » follows its name."""
    from model.scissor import headline_fr

    att = attribution_table(view) if att is None else att
    row = att.loc[commune].drop(labels=["finances_estimated"], errors="ignore")
    name = payer_label(view, commune)
    if commune != EPCI_ID:
        name = marked_name(name, finances_estimated(view).get(commune, False))
    return headline_fr(row, att.attrs["start"], att.attrs["year"], name)


def commune_options(view: View) -> list[tuple[str, str]]:
    """Dropdown options: the whole EPCI first, then each commune by name, marked when its
    finances are estimated."""
    est = finances_estimated(view)
    names = view.projection.resolved.communes.names
    communes = sorted(names.index, key=lambda c: (str(names[c]).lower(), c))
    return [("Ensemble de l'EPCI", EPCI_ID)] + [
        (marked_name(names[c], est.get(c, False)), c) for c in communes]


def named_communes(view: View) -> dict[str, list[dict]]:
    """Per indicator (gravest first): the communes that cross, pooled or alone, named, each
    with its years and whether its finances are estimated (`model.scissor.named_crossings`)."""
    from model.scissor import named_crossings

    named = named_crossings(view.scissor, view.projection.projection)
    order = [i for i in NAMED_ORDER if i in named] + [i for i in named if i not in NAMED_ORDER]
    return {i: named[i] for i in order}


def display_named(rows: list[dict], n: int | None = None) -> pd.DataFrame:
    """One indicator's named communes in French (the first ``n``)."""
    rows = rows[:n] if n else rows
    return pd.DataFrame({
        "Commune": [marked_name(r["name"], r["estimated"]) for r in rows],
        "Année, mutualisé": [year_or_never(r["year_pooled"]) for r in rows],
        "Année, si seule": [year_or_never(r["year_standalone"]) for r in rows],
    }, columns=["Commune", "Année, mutualisé", "Année, si seule"])


def negative_eb_sentence(view: View, max_names: int = 8) -> str:
    """The communes whose épargne brute falls below zero, named (or that none does)."""
    rows = named_communes(view).get("eb_negative", [])
    end = view.projection.years[-1]
    if not rows:
        return f"Aucune commune n'a une épargne brute négative d'ici {end}, mutualisé ou seule."
    parts = []
    for r in rows[:max_names]:
        when = (f"dès {r['year_pooled']}" if r["year_pooled"] is not None
                else f"seulement si elle achetait seule (dès {r['year_standalone']})")
        parts.append(f"{marked_name(r['name'], r['estimated'])} {when}")
    more = f" et {len(rows) - max_names} autre(s)" if len(rows) > max_names else ""
    return (f"Épargne brute négative (fonctionnement financé par l'emprunt ou les réserves) "
            f"pour {len(rows)} commune(s) d'ici {end} : " + ", ".join(parts) + more + ".")


def default_split_sentence(view: View, year: int) -> str:
    """The default method's sentence for a year (what a DGS reads aloud)."""
    v = view.projection.voted.get(year)
    return v.summary_fr if v is not None else ""


def _key_parts(view: View):
    """What the key figures read: the EPCI's totals by year, the first and last years, its
    scissor row, what its own budget pays the first year, the communes' last year and the
    largest burden of the method shown."""
    proj = view.projection
    frame = proj.projection
    tot = frame[frame["commune"] == EPCI_ID].set_index("year")
    start, end = proj.years[0], proj.years[-1]
    sc = view.scissor
    epci = sc[(sc["commune"] == EPCI_ID) & (sc["indicator"] == "teb_alert")].iloc[0]
    alloc = proj.allocation
    epci_paid = alloc[(alloc["method"] == view.scenario.method) & (alloc["year"] == start)
                      & (alloc["payer_id"] == EPCI_ID)]["amount_eur"].sum()
    last = frame[(frame["commune"] != EPCI_ID) & (frame["year"] == end)]
    return tot, start, end, epci, epci_paid, last, method_burdens(view, [view.scenario.method],
                                                                 start)


def key_figures(view: View) -> dict[str, str]:
    """The few numbers a plenary needs, in French, formatted."""
    tot, start, end, epci, epci_paid, last, by_method = _key_parts(view)
    thr = view.thresholds
    burdens = by_method.iloc[0]
    return {
        "Méthode": METHOD_LABELS_FR.get(view.scenario.method, view.scenario.method),
        f"Coût numérique mutualisé {start}": eur(tot.loc[start, "digital_pooled_eur"]),
        f"Coût numérique mutualisé {end}": eur(tot.loc[end, "digital_pooled_eur"]),
        f"Coût si chaque commune achète seule {start}": eur(tot.loc[start, "digital_standalone_eur"]),
        f"Économie cumulée {start}-{end}": eur(tot["saving_eur"].sum()),
        f"Part prise par le budget de l'EPCI {start}": eur(epci_paid),
        f"Charge la plus lourde {start} (part de la capacité contributive)":
            f"{pct(burdens['largest_burden'], 2)} ({burdens['largest_burden_commune']})",
        f"Économie de la ville-centre ({by_method.attrs['centre']}) {start}":
            eur_signed(burdens["centre_saving_eur"]),
        f"Année du ciseau (épargne brute < {pct(thr['teb_alert'], 0)}), mutualisé":
            year_or_never(epci["year_pooled"]),
        f"Année du ciseau (épargne brute < {pct(thr['teb_alert'], 0)}), chacun seul":
            year_or_never(epci["year_standalone"]),
        f"Communes sous le seuil d'alerte en {end}, mutualisé / seules":
            f"{int(last['teb_alert_pooled'].sum())} / {int(last['teb_alert_standalone'].sum())}"
            f" sur {len(last)}",
        f"Effet de la hausse du coût numérique sur l'épargne brute {end}, mutualisé":
            eur_signed(float(attribution_table(view).loc[EPCI_ID, "eb_from_digital_eur"])),
        "Communes aux finances estimées (moyennes nationales)":
            f"{estimated_count(view)} sur {len(last)}",
    }


def key_numbers(view: View) -> dict[str, float | int | str | None]:
    """The key figures as numbers (units in the names), for a file a spreadsheet computes on."""
    tot, start, end, epci, epci_paid, last, by_method = _key_parts(view)

    def year(value):
        return None if pd.isna(value) else int(value)

    return {
        "Méthode": METHOD_LABELS_FR.get(view.scenario.method, view.scenario.method),
        f"Coût numérique mutualisé {start} (€)": round(float(tot.loc[start, "digital_pooled_eur"]), 2),
        f"Coût numérique mutualisé {end} (€)": round(float(tot.loc[end, "digital_pooled_eur"]), 2),
        f"Coût si chaque commune achète seule {start} (€)":
            round(float(tot.loc[start, "digital_standalone_eur"]), 2),
        f"Économie cumulée {start}-{end} (€)": round(float(tot["saving_eur"].sum()), 2),
        f"Part prise par le budget de l'EPCI {start} (€)": round(float(epci_paid), 2),
        f"Charge la plus lourde {start} (part de la capacité contributive)":
            round(float(by_method.iloc[0]["largest_burden"]), 6),
        f"Économie de la ville-centre {start} (€)":
            round(float(by_method.iloc[0]["centre_saving_eur"]), 2),
        "Année du ciseau, mutualisé": year(epci["year_pooled"]),
        "Année du ciseau, chacun seul": year(epci["year_standalone"]),
        f"Communes sous le seuil d'alerte en {end}, mutualisé": int(last["teb_alert_pooled"].sum()),
        f"Communes sous le seuil d'alerte en {end}, seules": int(last["teb_alert_standalone"].sum()),
        "Communes": int(len(last)),
        "Communes aux finances estimées": estimated_count(view),
    }


TABLE_CSS = (
    "<style>.mcm-table{border-collapse:collapse;font-size:13px;font-family:Helvetica,Arial,"
    "sans-serif}.mcm-table th{background:#1F4E79;color:#fff;padding:4px 8px;position:sticky;"
    "top:0;text-align:left}.mcm-table td{padding:3px 8px;border-bottom:1px solid #ddd;"
    "text-align:right;white-space:nowrap}.mcm-table td:first-child,.mcm-table td.txt"
    "{text-align:left;white-space:normal}.mcm-big{font-size:22px}.mcm-big td,.mcm-big th"
    "{padding:8px 14px}</style>"
)


TD_TEXT = '<td class="txt">'


def html_table(df: pd.DataFrame, max_height: int | None = 420, big: bool = False,
               index: bool = False) -> str:
    """A plain, escaped HTML table (French headers as given), scrollable when long."""
    cols = ([df.index.name or ""] if index else []) + [str(c) for c in df.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for idx, row in zip(df.index, df.itertuples(index=False), strict=True):
        cells = ([idx] if index else []) + list(row)
        tds = "".join(
            (TD_TEXT if isinstance(v, str) and len(v) > 40 else "<td>")
            + f"{html.escape(str(v))}</td>" for v in cells)
        body.append(f"<tr>{tds}</tr>")
    cls = "mcm-table mcm-big" if big else "mcm-table"
    table = f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    style = f"max-height:{max_height}px;overflow:auto;" if max_height else ""
    return f"{TABLE_CSS}<div style='{style}'>{table}</div>"


def message_html(text: str, kind: str = "info") -> str:
    """A French message box: ``info``, ``ok``, ``warning`` or ``error``. Never a traceback."""
    colours = {"info": ("#eef3f8", "#1F4E79"), "ok": ("#edf7ed", "#1e6b1e"),
               "warning": ("#fff4e5", "#8a4b00"), "error": ("#fdecea", "#a11d1d")}
    bg, fg = colours[kind]
    body = "<br>".join(html.escape(line) for line in str(text).splitlines())
    return (f"<div style='background:{bg};color:{fg};padding:8px 12px;border-left:4px solid {fg};"
            f"font-family:Helvetica,Arial,sans-serif;font-size:14px'>{body}</div>")


def infeasible_message(view: View, max_lines: int = 6) -> str | None:
    """French explanation when the constraints cannot all hold in some year, else None."""
    years = view.infeasible_years
    if not years:
        return None
    if view.scenario.method == "voted_key":
        v = view.projection.voted[years[0]]
        lines = [c["message_fr"] for c in (v.conflict or {}).get("rules", [])]
        lines += list(dict.fromkeys(v.diagnosis["explanation_fr"]))
        head = (f"Les règles votées ne peuvent pas toutes être tenues "
                f"({', '.join(map(str, years))}) ; en {years[0]} :")
        extra = [f"… et {len(lines) - max_lines} autre(s)"] if len(lines) > max_lines else []
        hint = ("Relâchez la règle nommée en premier jusqu'à la valeur indiquée, ou réduisez la "
                "part prise par l'EPCI, puis vérifiez les données.")
        return "\n".join([head, *[f"• {x}" for x in lines[:max_lines]], *extra, hint])
    diag = view.projection.lp[years[0]].diagnosis
    lines = list(dict.fromkeys(diag["explanation_fr"])) if not diag.empty else []
    head = (f"Les contraintes de répartition ne peuvent pas toutes être respectées "
            f"({', '.join(map(str, years))}). Le programme a relâché le moins possible ; "
            f"en {years[0]} :")
    extra = [f"… et {len(lines) - max_lines} autre(s)"] if len(lines) > max_lines else []
    hint = ("Élargissez la bande d'usage (plafond au moins égal à 1) ou réduisez la part prise "
            "par l'EPCI, puis vérifiez les données.")
    return "\n".join([head, *[f"• {x}" for x in lines[:max_lines]], *extra, hint])


def scenario_overrides(base: dict[str, Any], changes: dict[str, dict[str, Any]]) -> dict:
    """``base`` assumptions overrides updated topic by topic with ``changes``."""
    out = copy.deepcopy(base)
    for topic, entries in changes.items():
        out.setdefault(topic, {})
        for name, value in entries.items():
            if isinstance(value, dict) and isinstance(out[topic].get(name), dict):
                out[topic][name] = {**out[topic][name], **value}
            else:
                out[topic][name] = value
    return out


def payer_signature(frame: pd.DataFrame, commune: str = EPCI_ID) -> int:
    """A fingerprint of one payer's amounts in a projection frame: its euro charts are redrawn
    only when it changes (a new split method leaves the EPCI's totals, and so its scissor in
    euros, as they were; a threshold moves no euro)."""
    rows = frame[frame["commune"] == commune]
    return table_signature(rows[[c for c in rows.columns if c.endswith("_eur")
                                 or c in ("year", "name", "finances_estimated")]])


def table_signature(table: pd.DataFrame) -> int:
    """A fingerprint of a table's values, blind to the order of a float sum."""
    return int(pd.util.hash_pandas_object(table.round(6), index=False).sum())


def ville_centre(view: View) -> str:
    """INSEE code of the most populous member commune (the ville-centre)."""
    return str(view.projection.resolved.epci.communes["population"].astype(float).idxmax())


def paid_by_payer(view: View, method: str | None = None) -> pd.Series:
    """What each payer (communes, and the EPCI's own budget) pays over the whole horizon under
    `method` (default: the scenario's), in euros, indexed by payer id."""
    alloc = view.projection.allocation
    alloc = alloc[alloc["method"] == (method or view.scenario.method)]
    return alloc.groupby("payer_id")["amount_eur"].sum()


def split_change(view_a: View, view_b: View) -> pd.DataFrame:
    """Per payer, what it pays over the horizon under A and under B (each with its own method
    and assumptions), the change in euros and in percent of A, sorted by change: who pays more
    and who pays less with B. Index payer id; columns name, paid_a_eur, paid_b_eur,
    change_eur, change_pct (NaN when A is zero)."""
    a, b = paid_by_payer(view_a), paid_by_payer(view_b)
    out = pd.DataFrame({"paid_a_eur": a, "paid_b_eur": b}).fillna(0.0)
    out = out[(out["paid_a_eur"] != 0) | (out["paid_b_eur"] != 0)]
    out["change_eur"] = out["paid_b_eur"] - out["paid_a_eur"]
    out["change_pct"] = out["change_eur"] / out["paid_a_eur"].where(out["paid_a_eur"] != 0)
    out.insert(0, "name", [payer_label(view_a, p) if p != EPCI_ID else "Budget propre de l'EPCI"
                           for p in out.index])
    return out.sort_values("change_eur", ascending=False)


def method_burdens(view: View, methods: list[str], year: int | None = None) -> pd.DataFrame:
    """Per method, in `year` (default: the first): the largest burden (share of its capacity a
    commune pays) and who bears it, what the ville-centre pays and saves against buying alone,
    and how many communes pay more than alone. Index method."""
    proj = view.projection
    year = proj.years[0] if year is None else year
    inputs = proj.inputs[(proj.inputs["year"] == year) & (proj.inputs["payer_id"] != EPCI_ID)]
    capacity = inputs.groupby("payer_id")["capacity_eur"].first()
    alone = inputs.groupby("payer_id")["standalone_eur"].sum()
    alloc = proj.allocation[(proj.allocation["year"] == year)
                            & (proj.allocation["payer_id"] != EPCI_ID)]
    centre = ville_centre(view)
    rows = {}
    for method in methods:
        paid = alloc[alloc["method"] == method].groupby("payer_id")["amount_eur"].sum()
        paid = paid.reindex(capacity.index, fill_value=0.0)
        burden = paid / capacity
        top = burden.idxmax()
        rows[method] = {
            "largest_burden": float(burden[top]), "largest_burden_commune": payer_label(view, top),
            "centre_paid_eur": float(paid.get(centre, 0.0)),
            "centre_saving_eur": float(alone.get(centre, 0.0) - paid.get(centre, 0.0)),
            "communes_above_alone": int((paid > alone.reindex(paid.index) + 0.005).sum()),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "method"
    out.attrs.update(year=year, centre=payer_label(view, centre))
    return out
