"""Altair charts of a run, in French, for screens, slides and the projector.

Every function takes the tidy frames of a run (``RunResult.projection.projection``,
``.allocation``, ``.inputs`` and ``RunResult.scissor``) and returns an ``alt.Chart``: no solving,
no I/O (except :func:`save_chart`). ``big=True`` gives the large fonts and strokes a plenary room
needs. Numbers follow the French conventions (decimal comma, narrow spaces, « 10 % »).
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd

from model.costs import POOL_LABELS_FR, POOLS
from model.projection import EPCI_ID
from model.report.labels import INDICATOR_LABELS_FR, METHOD_LABELS_FR

#: French number and date formats (d3-format / d3-time-format locale objects).
FR_LOCALE = {
    "number": {"decimal": ",", "thousands": "\u202f", "grouping": [3],
               "currency": ["", "\u00a0€"], "percent": "\u202f%"},
    "time": {
        "dateTime": "%A %e %B %Y à %X", "date": "%d/%m/%Y", "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                   "septembre", "octobre", "novembre", "décembre"],
        "shortMonths": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
                        "sept.", "oct.", "nov.", "déc."],
    },
}

#: Colours: pooled in blue, stand-alone in red, resources in green; thresholds orange and red.
COLOURS = {"pooled": "#1f5fa8", "standalone": "#c0392b", "resources": "#2e8b57",
           "other_drf": "#7f7f7f", "alert": "#e67e22", "degraded": "#c0392b"}
POOL_COLOURS = ["#1f5fa8", "#8e44ad", "#16a085", "#e67e22"]

SERIES_FR = {
    "digital_pooled_eur": "Coût numérique mutualisé",
    "digital_standalone_eur": "Coût numérique si chaque commune achète seule",
    "rrf_eur": "Recettes réelles de fonctionnement",
    "other_drf_eur": "Autres dépenses de fonctionnement",
}
CASE_FR = {"pooled": "mutualisé", "standalone": "chaque commune seule"}
MEASURE_FR = {"teb": "Taux d'épargne brute", "digital_burden": "Charge numérique / RRF"}
SCISSOR_PHRASE_FR = {
    "teb_alert": "le taux d'épargne brute passe sous le seuil d'alerte",
    "teb_degraded": "le taux d'épargne brute passe sous le seuil dégradé",
    "digital_burden": "la charge numérique dépasse la moyenne nationale",
}
STANDALONE_FR = "Coût si la commune achète seule"
EPCI_BUDGET_FR = "Budget propre de l'EPCI"


def _sizes(big: bool) -> dict:
    if big:
        return {"title": 30, "subtitle": 20, "label": 20, "axis_title": 22, "legend": 20,
                "width": 820, "height": 460, "stroke": 5, "text": 20, "point": 260}
    return {"title": 17, "subtitle": 13, "label": 12, "axis_title": 13, "legend": 12,
            "width": 560, "height": 320, "stroke": 2.5, "text": 12, "point": 70}


def _finish(chart, big: bool, title: str, subtitle: str | list[str] | None = None):
    """French locale, font sizes and a titled, plain look (no gridlines clutter)."""
    s = _sizes(big)
    params = {"text": title, "fontSize": s["title"], "anchor": "start"}
    if subtitle:
        params.update(subtitle=subtitle, subtitleFontSize=s["subtitle"], subtitleColor="#555")
    return (
        chart.properties(title=alt.TitleParams(**params))
        .configure(locale=FR_LOCALE, font="Helvetica, Arial, sans-serif")
        .configure_axis(labelFontSize=s["label"], titleFontSize=s["axis_title"],
                        gridColor="#e6e6e6", labelLimit=320)
        .configure_legend(labelFontSize=s["legend"], titleFontSize=s["legend"],
                          orient="bottom", direction="vertical", labelLimit=700,
                          symbolSize=s["point"] * 2, symbolStrokeWidth=s["stroke"])
        .configure_view(strokeWidth=0)
    )


def _year_axis(big: bool) -> alt.X:
    return alt.X("year:O", title="Année", axis=alt.Axis(labelAngle=0))


# ------------------------------------------------------------------------------------------------
# The scissor: costs against resources, indices base 100
# ------------------------------------------------------------------------------------------------

def scissor_indices(projection: pd.DataFrame, commune: str = EPCI_ID,
                    series: tuple[str, ...] = ("digital_pooled_eur", "digital_standalone_eur",
                                               "rrf_eur")) -> pd.DataFrame:
    """Tidy ``year, series, key, value_eur, index`` of one payer (default: the EPCI total);
    ``index`` is 100 in the start year."""
    df = projection[projection["commune"] == commune].sort_values("year")
    if df.empty:
        raise ValueError(f"unknown commune {commune!r} in the projection frame")
    rows = []
    for col in series:
        base = float(df[col].iloc[0])
        for year, value in zip(df["year"], df[col], strict=True):
            rows.append({"year": int(year), "key": col, "series": SERIES_FR[col],
                         "value_eur": float(value),
                         "index": 100.0 * float(value) / base if base else float("nan")})
    return pd.DataFrame(rows)


def scissor_years(scissor: pd.DataFrame | None, commune: str = EPCI_ID,
                  indicator: str = "teb_alert") -> dict[str, int | None]:
    """``{"pooled": year, "standalone": year}`` of one payer and indicator (None: not crossed)."""
    if scissor is None or scissor.empty:
        return {"pooled": None, "standalone": None}
    row = scissor[(scissor["commune"] == commune) & (scissor["indicator"] == indicator)]
    if row.empty:
        return {"pooled": None, "standalone": None}
    r = row.iloc[0]
    return {case: (None if pd.isna(r[f"year_{case}"]) else int(r[f"year_{case}"]))
            for case in ("pooled", "standalone")}


def scissor_chart(projection: pd.DataFrame, scissor: pd.DataFrame | None = None,
                  commune: str = EPCI_ID, indicator: str = "teb_alert", big: bool = False,
                  y_domain: tuple[float, float] | None = None, title: str | None = None,
                  width: int | None = None, height: int | None = None) -> alt.Chart:
    """The signature chart: digital costs (pooled and stand-alone) against resources, as
    indices (start year = 100), with the scissor year(s) of ``indicator`` marked."""
    s = _sizes(big)
    data = scissor_indices(projection, commune)
    name = str(projection.loc[projection["commune"] == commune, "name"].iloc[0])
    years = sorted(data["year"].unique())
    order = list(SERIES_FR[k] for k in ("digital_pooled_eur", "digital_standalone_eur", "rrf_eur"))
    colours = [COLOURS["pooled"], COLOURS["standalone"], COLOURS["resources"]]
    y_scale = alt.Scale(zero=False, domain=list(y_domain)) if y_domain else alt.Scale(zero=False)
    base = alt.Chart(data).encode(
        x=_year_axis(big),
        y=alt.Y("index:Q", title=f"Indice (base 100 en {years[0]})", scale=y_scale),
        color=alt.Color("series:N", title=None, sort=order,
                        scale=alt.Scale(domain=order, range=colours)),
        strokeDash=alt.StrokeDash("series:N", title=None, sort=order,
                                  scale=alt.Scale(domain=order, range=[[1, 0], [8, 4], [1, 0]])),
        tooltip=[alt.Tooltip("series:N", title="Série"), alt.Tooltip("year:O", title="Année"),
                 alt.Tooltip("index:Q", title="Indice", format=".1f"),
                 alt.Tooltip("value_eur:Q", title="Montant", format=",.0f")],
    )
    lines = base.mark_line(strokeWidth=s["stroke"], point=alt.OverlayMarkDef(size=s["point"]))
    marks = scissor_years(scissor, commune, indicator)
    first_commune = False
    if commune == EPCI_ID and not any(marks.values()) and scissor is not None:
        rows = scissor[(scissor["indicator"] == indicator) & (scissor["commune"] != EPCI_ID)]
        firsts = {case: rows[f"year_{case}"].min() for case in ("pooled", "standalone")}
        marks = {k: (None if pd.isna(v) else int(v)) for k, v in firsts.items()}
        first_commune = any(marks.values())
    prefix = "1re commune" if first_commune else "Ciseau"
    rule_rows = []
    for case, label in (("standalone", "chacune seule"), ("pooled", "mutualisé")):
        year = marks[case]
        if year is not None:
            rule_rows.append({"year": year, "case": case, "label": f"{prefix}, {label} : {year}"})
    layers = [lines]
    if rule_rows:
        rules = pd.DataFrame(rule_rows)
        rule = alt.Chart(rules).mark_rule(strokeDash=[4, 4], strokeWidth=max(1.5, s["stroke"] / 2)
                                          ).encode(
            x="year:O",
            color=alt.value("#333"),
            tooltip=[alt.Tooltip("label:N", title="Année du ciseau")],
        )
        layers.append(rule)
        for i, row in enumerate(rule_rows):
            layers.append(alt.Chart(pd.DataFrame([row])).mark_text(
                align="left", dx=6, baseline="top", fontSize=s["text"], fontWeight="bold").encode(
                x="year:O", y=alt.value(6 + i * (s["text"] + 6)), text="label:N",
                color=alt.value("#333")))
    phrase = SCISSOR_PHRASE_FR.get(indicator, INDICATOR_LABELS_FR.get(indicator, indicator))
    if not rule_rows:
        note = f"D'ici {years[-1]}, {phrase} : jamais."
    elif first_commune:
        note = (f"Année du ciseau : première année où, dans une commune, {phrase} "
                "(jamais pour l'ensemble).")
    else:
        note = f"Année du ciseau : première année où {phrase}."
    subtitle = [f"{name} — indices base 100 en {years[0]}", note]
    chart = alt.layer(*layers).properties(width=width or s["width"], height=height or s["height"])
    return _finish(chart, big, title or "L'effet ciseau : coûts numériques et recettes", subtitle)


# ------------------------------------------------------------------------------------------------
# Burden and taux d'épargne brute per commune, with thresholds
# ------------------------------------------------------------------------------------------------

def first_crossings(scissor: pd.DataFrame, indicator: str = "teb_alert", case: str = "pooled",
                    n: int | None = 10) -> pd.DataFrame:
    """Communes that cross the ``indicator`` threshold, earliest first (EPCI total excluded)."""
    col = f"year_{case}"
    df = scissor[(scissor["indicator"] == indicator) & (scissor["commune"] != EPCI_ID)]
    df = df[df[col].notna()].sort_values([col, "year_standalone", "name"])
    return df.head(n) if n else df


def burden_chart(projection: pd.DataFrame, thresholds: dict, measure: str = "teb",
                 case: str = "pooled", highlight: list[str] | None = None, big: bool = False,
                 width: int | None = None, height: int | None = None) -> alt.Chart:
    """Each commune's taux d'épargne brute (``measure="teb"``, 10 % and 7 % thresholds) or digital
    burden (``"digital_burden"``, its national threshold) over the years, for ``case`` pooled or
    standalone. Communes in ``highlight`` (INSEE codes) are coloured; the EPCI total is black."""
    s = _sizes(big)
    col = f"{measure}_{case}"
    df = projection[["year", "commune", "name", col]].rename(columns={col: "value"})
    df = df.assign(year=df["year"].astype(int), value=df["value"].astype(float))
    highlight = [c for c in (highlight or []) if c in set(df["commune"])]
    df["group"] = "Autres communes"
    df.loc[df["commune"].isin(highlight), "group"] = df["name"]
    df.loc[df["commune"] == EPCI_ID, "group"] = "Ensemble des communes"
    hl_names = list(dict.fromkeys(df.loc[df["commune"].isin(highlight), "name"]))
    domain = ["Ensemble des communes", *hl_names, "Autres communes"]
    palette = ["#000000", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22", "#1f77b4", "#2ca02c", "#aec7e8"]
    colours = ["#000000", *palette[1:1 + len(hl_names)], "#b8b8b8"]
    if len(colours) < len(domain):
        colours = colours[:-1] + ["#555555"] * (len(domain) - len(colours)) + ["#b8b8b8"]
    df["rank"] = df["group"].map({g: i for i, g in enumerate(domain)})
    df["width"] = df["group"].map(lambda g: 1.0 if g == "Autres communes" else 2.5)
    fmt = ".0%" if measure == "teb" else ".1%"
    line = alt.Chart(df).mark_line().encode(
        x=_year_axis(big),
        y=alt.Y("value:Q", title=f"{MEASURE_FR[measure]} ({CASE_FR[case]})",
                axis=alt.Axis(format=fmt)),
        detail="commune:N",
        color=alt.Color("group:N", title=None, sort=domain,
                        scale=alt.Scale(domain=domain, range=colours)),
        strokeWidth=alt.StrokeWidth("width:Q", legend=None,
                                    scale=alt.Scale(domain=[1, 2.5],
                                                    range=[s["stroke"] / 2.5, s["stroke"]])),
        order=alt.Order("rank:Q", sort="descending"),
        tooltip=[alt.Tooltip("name:N", title="Commune"), alt.Tooltip("year:O", title="Année"),
                 alt.Tooltip("value:Q", title=MEASURE_FR[measure], format=".1%")],
    )
    if measure == "teb":
        rules = pd.DataFrame([
            {"value": thresholds["teb_alert"], "label": _pct_label("Seuil d'alerte",
                                                                  thresholds["teb_alert"]),
             "kind": "alert"},
            {"value": thresholds["teb_degraded"], "label": _pct_label("Seuil dégradé",
                                                                     thresholds["teb_degraded"]),
             "kind": "degraded"},
        ])
        title = "Taux d'épargne brute des communes"
    else:
        rules = pd.DataFrame([{"value": thresholds["digital_burden_threshold"],
                               "label": _pct_label("Seuil", thresholds["digital_burden_threshold"],
                                                   digits=1),
                               "kind": "alert"}])
        title = "Charge numérique des communes (coût numérique / RRF)"
    rule = alt.Chart(rules).mark_rule(strokeDash=[6, 4], strokeWidth=max(1.5, s["stroke"] / 1.5)
                                      ).encode(
        y="value:Q",
        color=alt.Color("kind:N", legend=None, scale=alt.Scale(
            domain=["alert", "degraded"], range=[COLOURS["alert"], COLOURS["degraded"]])),
    )
    text = alt.Chart(rules).mark_text(align="right", dy=-8, fontSize=s["text"],
                                      fontWeight="bold").encode(
        y="value:Q", x=alt.value(width or s["width"]), text="label:N",
        color=alt.Color("kind:N", legend=None, scale=alt.Scale(
            domain=["alert", "degraded"], range=[COLOURS["alert"], COLOURS["degraded"]])),
    )
    chart = alt.layer(line, rule, text).resolve_scale(color="independent").properties(
        width=width or s["width"], height=height or s["height"])
    n = int((df["commune"] != EPCI_ID).sum() / max(1, df["year"].nunique()))
    subtitle = (f"{n} communes, coûts mutualisés" if case == "pooled"
                else f"{n} communes, si chaque commune achète seule")
    if hl_names:
        subtitle += " ; en couleur, les premières à franchir le seuil"
    return _finish(chart, big, title, subtitle)


def _pct_label(text: str, value: float, digits: int = 0) -> str:
    number = f"{100 * value:.{digits}f}".replace(".", ",")
    return f"{text} : {number}\u202f%"


# ------------------------------------------------------------------------------------------------
# Who pays what: allocation by pool against the stand-alone cost, and methods compared
# ------------------------------------------------------------------------------------------------

def _year_frames(allocation: pd.DataFrame, inputs: pd.DataFrame, year: int | None):
    year = int(allocation["year"].min()) if year is None else int(year)
    return year, allocation[allocation["year"] == year], inputs[inputs["year"] == year]


def _top_payers(inputs: pd.DataFrame, top: int | None) -> pd.Series:
    """Commune -> stand-alone total (all pools), largest first, first ``top`` only."""
    sa = inputs[inputs["payer_id"] != EPCI_ID].groupby("payer_id")["standalone_eur"].sum()
    sa = sa.sort_values(ascending=False)
    return sa.head(top) if top else sa


def allocation_chart(allocation: pd.DataFrame, inputs: pd.DataFrame, year: int | None = None,
                     method: str = "lp", top: int | None = 15, big: bool = False,
                     width: int | None = None) -> alt.Chart:
    """Per commune: what it pays for each pool (stacked bars) against what it would pay alone
    (black tick), for one year and method; the ``top`` communes by stand-alone cost."""
    s = _sizes(big)
    year, alloc, inp = _year_frames(allocation, inputs, year)
    alloc = alloc[alloc["method"] == method]
    sa = _top_payers(inp, top)
    names = inp.drop_duplicates("payer_id").set_index("payer_id")["payer_name"]
    bars = alloc[alloc["payer_id"].isin(sa.index)].copy()
    bars["commune"] = bars["payer_id"].map(names)
    bars["pool_fr"] = bars["pool"].map(POOL_LABELS_FR)
    order = [names[c] for c in sa.index]
    epci = alloc[alloc["payer_id"] == EPCI_ID].copy()
    if not epci.empty and epci["amount_eur"].sum() > 0:
        epci["commune"] = EPCI_BUDGET_FR
        epci["pool_fr"] = epci["pool"].map(POOL_LABELS_FR)
        bars = pd.concat([bars, epci], ignore_index=True)
        order.append(EPCI_BUDGET_FR)
    bars = bars[["commune", "pool", "pool_fr", "amount_eur"]]
    ticks = pd.DataFrame({"commune": [names[c] for c in sa.index], "standalone_eur": sa.values,
                          "label": STANDALONE_FR})
    pools_fr = [POOL_LABELS_FR[p] for p in POOLS]
    y = alt.Y("commune:N", title=None, sort=order)
    bar = alt.Chart(bars).mark_bar().encode(
        y=y,
        x=alt.X("sum(amount_eur):Q", title=f"Euros {year}", axis=alt.Axis(format=",.0f")),
        color=alt.Color("pool_fr:N", title="Service", sort=pools_fr,
                        scale=alt.Scale(domain=pools_fr, range=POOL_COLOURS)),
        order=alt.Order("pool:N"),
        tooltip=[alt.Tooltip("commune:N", title="Payeur"), alt.Tooltip("pool_fr:N", title="Service"),
                 alt.Tooltip("amount_eur:Q", title="Part payée (€)", format=",.0f")],
    )
    tick = alt.Chart(ticks).mark_tick(thickness=max(2, s["stroke"]), color="#000",
                                      size=12 if not big else 22).encode(
        y=y, x="standalone_eur:Q",
        tooltip=[alt.Tooltip("commune:N", title="Commune"),
                 alt.Tooltip("standalone_eur:Q", title=STANDALONE_FR + " (€)", format=",.0f")],
    )
    n = len(order)
    height = max(160, n * (34 if big else 20))
    chart = alt.layer(bar, tick).properties(width=width or s["width"], height=height)
    total = inp[inp["payer_id"] != EPCI_ID]["payer_id"].nunique()
    shown = f"les {len(sa)} communes au coût isolé le plus élevé" if len(sa) < total else (
        f"les {total} communes")
    subtitle = (f"{METHOD_LABELS_FR.get(method, method)}, {year} ; {shown} ; "
                f"trait noir : {STANDALONE_FR.lower()}")
    return _finish(chart, big, "Part payée par service et coût si la commune achète seule",
                   subtitle)


def method_comparison_chart(allocation: pd.DataFrame, inputs: pd.DataFrame,
                            year: int | None = None, methods: list[str] | None = None,
                            chosen: str = "lp", top: int | None = 12, big: bool = False,
                            width: int | None = None) -> alt.Chart:
    """What each commune pays (all pools) under each method, for the ``top`` communes by
    stand-alone cost; the ``chosen`` method is drawn larger, the stand-alone cost as a tick."""
    s = _sizes(big)
    year, alloc, inp = _year_frames(allocation, inputs, year)
    methods = methods or list(dict.fromkeys(alloc["method"]))
    alloc = alloc[alloc["method"].isin(methods)]
    sa = _top_payers(inp, top)
    names = inp.drop_duplicates("payer_id").set_index("payer_id")["payer_name"]
    tot = (alloc[alloc["payer_id"].isin(sa.index)]
           .groupby(["payer_id", "method"], as_index=False)["amount_eur"].sum())
    tot["commune"] = tot["payer_id"].map(names)
    tot["method_fr"] = tot["method"].map(lambda m: METHOD_LABELS_FR.get(m, m))
    tot["chosen"] = tot["method"] == chosen
    order = [names[c] for c in sa.index]
    methods_fr = [METHOD_LABELS_FR.get(m, m) for m in methods]
    ticks = pd.DataFrame({"commune": order, "standalone_eur": sa.values, "label": STANDALONE_FR})
    y = alt.Y("commune:N", title=None, sort=order)
    points = alt.Chart(tot[["commune", "method", "method_fr", "chosen", "amount_eur"]]).mark_point(
        filled=True, opacity=0.85).encode(
        y=y,
        x=alt.X("amount_eur:Q", title=f"Euros {year}, tous services", axis=alt.Axis(format=",.0f")),
        color=alt.Color("method_fr:N", title="Méthode", sort=methods_fr,
                        scale=alt.Scale(scheme="tableau10")),
        size=alt.Size("chosen:N", legend=None, scale=alt.Scale(
            domain=[False, True], range=[s["point"], s["point"] * 3])),
        tooltip=[alt.Tooltip("commune:N", title="Commune"),
                 alt.Tooltip("method_fr:N", title="Méthode"),
                 alt.Tooltip("amount_eur:Q", title="Montant (€)", format=",.0f")],
    )
    tick = alt.Chart(ticks).mark_tick(thickness=max(2, s["stroke"]), color="#000",
                                      size=12 if not big else 22).encode(
        y=y, x="standalone_eur:Q",
        tooltip=[alt.Tooltip("commune:N", title="Commune"),
                 alt.Tooltip("standalone_eur:Q", title=STANDALONE_FR + " (€)", format=",.0f")])
    height = max(160, len(order) * (34 if big else 22))
    chart = alt.layer(points, tick).properties(
        width=width or s["width"], height=height)
    subtitle = (f"{year} ; en gros : {METHOD_LABELS_FR.get(chosen, chosen)} ; "
                f"trait noir : {STANDALONE_FR.lower()}")
    return _finish(chart, big, "Comparaison des méthodes de répartition", subtitle)


def scenario_comparison_chart(projections: dict[str, pd.DataFrame], big: bool = False,
                              width: int | None = None) -> alt.Chart:
    """Pooled digital cost of the EPCI total per year, one line per named scenario, against
    the stand-alone cost of the first scenario (dashed)."""
    s = _sizes(big)
    rows = []
    for label, proj in projections.items():
        tot = proj[proj["commune"] == EPCI_ID]
        rows += [{"year": int(y), "scenario": label, "amount_eur": float(v)}
                 for y, v in zip(tot["year"], tot["digital_pooled_eur"], strict=True)]
    first = next(iter(projections.values()))
    tot = first[first["commune"] == EPCI_ID]
    rows += [{"year": int(y), "scenario": SERIES_FR["digital_standalone_eur"],
              "amount_eur": float(v)}
             for y, v in zip(tot["year"], tot["digital_standalone_eur"], strict=True)]
    df = pd.DataFrame(rows)
    order = [*projections, SERIES_FR["digital_standalone_eur"]]
    chart = alt.Chart(df).mark_line(strokeWidth=s["stroke"],
                                    point=alt.OverlayMarkDef(size=s["point"])).encode(
        x=_year_axis(big),
        y=alt.Y("amount_eur:Q", title="Euros par an", axis=alt.Axis(format=",.0f"),
                scale=alt.Scale(zero=False)),
        color=alt.Color("scenario:N", title=None, sort=order),
        strokeDash=alt.StrokeDash("scenario:N", sort=order, legend=None, scale=alt.Scale(
            domain=order, range=[[1, 0]] * len(projections) + [[8, 4]])),
        tooltip=[alt.Tooltip("scenario:N", title="Scénario"), alt.Tooltip("year:O", title="Année"),
                 alt.Tooltip("amount_eur:Q", title="Montant (€)", format=",.0f")],
    ).properties(width=width or s["width"], height=s["height"])
    return _finish(chart, big, "Coût numérique total par scénario")


# ------------------------------------------------------------------------------------------------
# Export for slides
# ------------------------------------------------------------------------------------------------

def save_chart(chart: alt.TopLevelMixin, path: str | Path, scale: float = 2.0) -> Path:
    """Write ``chart`` as PNG or SVG (by the suffix of ``path``) with vl-convert, offline."""
    import vl_convert as vlc

    path = Path(path)
    from altair.utils._importers import vl_version_for_vl_convert

    spec = chart.to_dict()
    version = vl_version_for_vl_convert()
    suffix = path.suffix.lower()
    if suffix == ".png":
        data = vlc.vegalite_to_png(spec, vl_version=version, scale=scale)
        path.write_bytes(data)
    elif suffix == ".svg":
        path.write_text(vlc.vegalite_to_svg(spec, vl_version=version), encoding="utf-8")
    else:
        raise ValueError(f"format non pris en charge : « {path.suffix} » (choisissez .png ou .svg)")
    return path
