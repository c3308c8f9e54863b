"""Altair charts of a run, in French, for screens, slides and the projector.

Every function takes the tidy frames of a run (``RunResult.projection.projection``,
``.allocation``, ``.inputs`` and ``RunResult.scissor``; a sensitivity result for
:func:`crossing_probability_chart`) and returns an ``alt.Chart``: no solving, no I/O (except
:func:`save_chart`). The scissor is told in euros first (:func:`blades_chart`,
:func:`attribution_chart`, :func:`gap_chart`); the index chart (:func:`scissor_chart`) is a
complement, never shown alone. Colours are safe for colour-blind readers (Okabe-Ito) and lines
also differ by dash; each euro chart carries a French text alternative (``description``).
``big=True`` gives the large fonts and strokes a plenary room needs. Numbers follow the French conventions (decimal comma, narrow spaces, « 10 % »).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import altair as alt
import pandas as pd

from model.costs import POOL_LABELS_FR, POOLS
from model.projection import EPCI_ID
from model.report.labels import INDICATOR_LABELS_FR, METHOD_LABELS_FR


def _index_schemas_once() -> None:
    """Altair 6 rebuilds its index of every schema class (a JSON hash of each of several
    hundred) each time it wraps a channel given as a shorthand or a dict
    (``schemapi._FromDict.__init__``, upstream vega/altair#3547): half the time of building a
    chart. Build the index once per set of classes; the specs are the same
    (tests/ui/test_charts.py compares them with Altair's own path)."""
    from altair.utils import schemapi

    original = schemapi._FromDict.__init__
    if getattr(original, "_indexed_once", False):
        return
    built: dict[tuple, dict] = {}

    def init(self, wrapper_classes, /):
        classes = tuple(wrapper_classes)
        if classes not in built:
            original(self, classes)
            built[classes] = self.class_dict
        self.class_dict = built[classes]

    init._indexed_once = True
    init._original = original
    schemapi._FromDict.__init__ = init


_index_schemas_once()
# a région's communes over seven years (1,754 x 7 = 12,278 rows) are drawn inline, offline:
# Altair's 5,000-row guard would refuse them
alt.data_transformers.disable_max_rows()

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
#: Okabe-Ito colours (Okabe & Ito 2008, safe under deuteranopia and protanopia), each method a
#: colour and a shape: two methods whose colours meet under a colour deficiency differ in shape
#: (tests/ui/test_charts.py simulates both deficiencies).
METHOD_STYLE = {
    "voted_key": ("#000000", "circle"),
    "lp": ("#0072B2", "square"),
    "nucleolus": ("#D55E00", "diamond"),
    "shapley": ("#009E73", "triangle-up"),
    "usage": ("#E69F00", "circle"),
    "population": ("#56B4E9", "triangle-down"),
    "potentiel_financier": ("#CC79A7", "square"),
    "agents": ("#7F7F7F", "diamond"),
    "workstations": ("#E69F00", "triangle-up"),
    "equal": ("#56B4E9", "cross"),
    "weighted": ("#009E73", "cross"),
}
#: Communes highlighted in a line chart (Okabe-Ito, black kept for the EPCI total).
HIGHLIGHT_COLOURS = ["#D55E00", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
                     "#7F7F7F", "#F0E442"]

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


def _width_of(chart, default: int) -> int:
    """The width a chart was given (pixels), or `default`."""
    width = getattr(chart, "width", None)
    return int(width) if isinstance(width, int | float) else default


def _wrap(subtitle: str | list[str], width: int, font_size: int) -> list[str]:
    """Subtitle lines wrapped to the chart's width (about 0.55 em per character), so no line is
    cut by a narrow column or a projector's 1280 pixels."""
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    per_line = max(20, int(width / (0.55 * font_size)))
    return [part for line in lines for part in (textwrap.wrap(line, per_line) or [""])]


def _finish(chart, big: bool, title: str, subtitle: str | list[str] | None = None,
            description: str | None = None, wrap_width: int | None = None):
    """French locale, font sizes and a titled, plain look (no gridlines clutter);
    ``description`` is the chart's text alternative (the SVG's ARIA description)."""
    s = _sizes(big)
    params = {"text": title, "fontSize": s["title"], "anchor": "start"}
    if subtitle:
        params.update(subtitle=_wrap(subtitle, wrap_width or _width_of(chart, s["width"]),
                                     s["subtitle"]),
                      subtitleFontSize=s["subtitle"], subtitleColor="#555")
    extra = {"description": description} if description else {}
    out = chart.properties(title=alt.TitleParams(**params), **extra)
    # one Config set on our own copy: each chained configure_*() would copy the whole chart
    out.config = alt.Config(
        locale=FR_LOCALE, font="Helvetica, Arial, sans-serif",
        axis=alt.AxisConfig(labelFontSize=s["label"], titleFontSize=s["axis_title"],
                            gridColor="#e6e6e6", labelLimit=320),
        legend=alt.LegendConfig(labelFontSize=s["legend"], titleFontSize=s["legend"],
                                orient="bottom", direction="vertical", labelLimit=700,
                                symbolSize=s["point"] * 2, symbolStrokeWidth=s["stroke"]),
        view=alt.ViewConfig(strokeWidth=0))
    return out


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
# The scissor in euros: the blades, the attribution waterfall, the gap, the crossing probability
# ------------------------------------------------------------------------------------------------

#: Okabe-Ito colours (safe for the common colour-vision deficiencies); lines also differ by dash.
CB_COLOURS = {"resources": "#009E73", "other": "#8c8c8c", "pooled": "#0072B2",
              "standalone": "#D55E00", "eb": "#000000", "total": "#4d4d4d"}

BLADES_FR = {
    "resources": "Ce que les recettes apportent",
    "other": "Ce que prennent les autres dépenses",
    "digital_pooled": "Ce que prend le numérique mutualisé",
    "digital_standalone": "Ce que prendrait le numérique, chaque commune seule",
    "eb_pooled": "Variation de l'épargne brute (mutualisé)",
}
#: Short names for the legend, which also carries each blade's amount in the last year.
BLADES_SHORT_FR = {
    "resources": "Recettes",
    "other": "Autres dépenses",
    "digital_pooled": "Numérique mutualisé",
    "digital_standalone": "Numérique, chaque commune seule",
    "eb_pooled": "Épargne brute (mutualisé)",
}
BLADE_STYLE = {  # colour, dash, relative width
    "resources": (CB_COLOURS["resources"], [1, 0], 1.0),
    "other": (CB_COLOURS["other"], [2, 3], 1.0),
    "digital_pooled": (CB_COLOURS["pooled"], [1, 0], 1.3),
    "digital_standalone": (CB_COLOURS["standalone"], [8, 4], 1.0),
    "eb_pooled": (CB_COLOURS["eb"], [12, 3, 2, 3], 0.8),
}
ESTIMATED_FR = "Estimé : finances tirées de moyennes nationales."


def eur_signed(value: float) -> str:
    """``+2 854 698 €`` / ``−55 937 €`` (whole euros, French spaces, a true minus sign)."""
    text = f"{abs(value):,.0f}".replace(",", "\u202f") + "\u00a0€"
    if round(value) == 0:
        return text
    return ("+" if value > 0 else "−") + text


def _eur(value: float) -> str:
    return ("−" if round(value) < 0 else "") + f"{abs(value):,.0f}".replace(",", "\u202f") + "\u00a0€"


def _payer(frame: pd.DataFrame, commune: str) -> pd.DataFrame:
    df = frame[frame["commune"] == commune].sort_values("year")
    if df.empty:
        raise ValueError(f"unknown commune {commune!r} in the projection frame")
    return df


def _estimated(df: pd.DataFrame) -> bool:
    return "finances_estimated" in df.columns and bool(df["finances_estimated"].astype(bool).any())


def _payer_name(name: str, commune: str) -> str:
    return name.removeprefix("Total ") if commune == EPCI_ID else name


def blades_data(frame: pd.DataFrame, commune: str = EPCI_ID) -> pd.DataFrame:
    """Tidy ``year, key, series, amount_eur, label`` of one payer: the change since the start
    year of the yearly amounts, signed by their effect on the épargne brute (resources ``+``,
    other spending and digital costs ``-``), and the resulting change of épargne brute
    (pooled). In the start year every series is 0; per year, resources + other + digital
    pooled = the change of épargne brute (to rounding)."""
    df = _payer(frame, commune)
    r, o = df["rrf_eur"].to_numpy(float), df["other_drf_eur"].to_numpy(float)
    dp = df["digital_pooled_eur"].to_numpy(float)
    ds = df["digital_standalone_eur"].to_numpy(float)
    series = {
        "resources": r - r[0],
        "other": -(o - o[0]),
        "digital_pooled": -(dp - dp[0]),
        "digital_standalone": -(ds - ds[0]),
    }
    series["eb_pooled"] = series["resources"] + series["other"] + series["digital_pooled"]
    years = df["year"].astype(int).to_numpy()
    rows = []
    for key, values in series.items():
        for year, value in zip(years, values, strict=True):
            rows.append({"year": int(year), "key": key, "series": BLADES_FR[key],
                         "amount_eur": float(value), "label": eur_signed(float(value))})
    return pd.DataFrame(rows)


def blades_domain(*data: pd.DataFrame) -> tuple[float, float]:
    """A y domain holding every blade of the `blades_data` frames given (a shared scale)."""
    lo = min(0.0, *(float(d["amount_eur"].min()) for d in data))
    hi = max(0.0, *(float(d["amount_eur"].max()) for d in data))
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def blades_chart(frame: pd.DataFrame, commune: str = EPCI_ID, big: bool = False,
                 y_domain: tuple[float, float] | None = None, title: str | None = None,
                 width: int | None = None, height: int | None = None) -> alt.Chart:
    """The signature chart, in euros: per year, what resources bring and what other spending
    and digital costs (pooled, and if each commune bought alone) take, as the change of each
    yearly amount since the start year, on one euro scale, with the change of épargne brute
    that is left. Estimated finances are said in the title and the subtitle."""
    s = _sizes(big)
    data = blades_data(frame, commune)
    df = _payer(frame, commune)
    name = _payer_name(str(df["name"].iloc[0]), commune)
    estimated = _estimated(df)
    years = sorted(data["year"].unique())
    start, end = years[0], years[-1]
    last = data[data["year"] == end].set_index("key")["amount_eur"]
    keys = list(BLADES_FR)
    # the legend carries each blade's amount in the last year: legible even when a line hugs 0
    legend = {k: f"{BLADES_SHORT_FR[k]} : {eur_signed(last[k])}" for k in keys}
    data["legend"] = data["key"].map(legend)
    order = [legend[k] for k in keys]
    colours = [BLADE_STYLE[k][0] for k in keys]
    dashes = [BLADE_STYLE[k][1] for k in keys]
    data["width"] = data["key"].map({k: BLADE_STYLE[k][2] for k in keys})
    y_scale = alt.Scale(domain=list(y_domain)) if y_domain else alt.Scale()
    line = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=s["point"] * 0.6)).encode(
        x=_year_axis(big),
        y=alt.Y("amount_eur:Q", title=f"Écart au montant de {start} (€ par an)",
                axis=alt.Axis(format=",.0f"), scale=y_scale),
        color=alt.Color("legend:N", title=f"En {end}, écart à {start}", sort=order,
                        scale=alt.Scale(domain=order, range=colours),
                        legend=alt.Legend(titleLimit=600)),
        strokeDash=alt.StrokeDash("legend:N", title=f"En {end}, écart à {start}", sort=order,
                                  scale=alt.Scale(domain=order, range=dashes)),
        strokeWidth=alt.StrokeWidth("width:Q", legend=None, scale=alt.Scale(
            domain=[0.8, 1.3], range=[s["stroke"] * 0.8, s["stroke"] * 1.3])),
        tooltip=[alt.Tooltip("series:N", title="Lame"), alt.Tooltip("year:O", title="Année"),
                 alt.Tooltip("label:N", title=f"Écart à {start}")],
    )
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="#555", strokeWidth=1).encode(
        y="zero:Q")
    chart = alt.layer(zero, line).properties(width=width or s["width"],
                                             height=height or s["height"])
    meaning = ["Au-dessus de 0 : ce que les recettes apportent,",
               "en dessous : ce que les dépenses prennent."]
    subtitle = [f"{name} : écart à {start}, en euros par an, même échelle",
                *(meaning if big else [" ".join(meaning)])]
    if estimated:
        subtitle.append(ESTIMATED_FR)
    head = title or "L'effet ciseau en euros"
    if estimated:
        head += " (estimé)"
    description = (
        f"{name}, de {start} à {end}, écart au montant de {start} : les recettes apportent "
        f"{eur_signed(last['resources'])} par an, les autres dépenses prennent "
        f"{eur_signed(last['other'])}, le numérique mutualisé {eur_signed(last['digital_pooled'])}"
        f" (chaque commune seule : {eur_signed(last['digital_standalone'])}) ; l'épargne brute "
        f"varie de {eur_signed(last['eb_pooled'])}." + (" Montants estimés." if estimated else ""))
    return _finish(chart, big, head, subtitle, description)


WATERFALL_FR = {
    "start": "Épargne brute {start}",
    "resources": "+ Recettes",
    "other": "− Autres dépenses",
    "digital": "− Numérique ({case})",
    "end": "= Épargne brute {end}",
}
WATERFALL_TOOLTIP_FR = {
    "start": "Épargne brute annuelle en {start}",
    "resources": "Hausse des recettes de {start} à {end}",
    "other": "Hausse des autres dépenses de {start} à {end}",
    "digital": "Hausse du coût numérique ({case}) de {start} à {end}",
    "end": "Épargne brute annuelle en {end}",
}


def waterfall_domain(*data: pd.DataFrame) -> tuple[float, float]:
    """An x domain holding every bar of the waterfalls given, with room for the labels."""
    lo = min(0.0, *(float(d[["start_eur", "end_eur"]].min().min()) for d in data))
    hi = max(0.0, *(float(d["top_eur"].max()) for d in data))
    return lo - 0.05 * (hi - lo) * (lo < 0), hi + 0.3 * (hi - lo)


def attribution_row(att, commune: str = EPCI_ID, case: str = "pooled",
                    start: int | None = None, end: int | None = None) -> tuple[pd.Series, int, int]:
    """One payer's attribution (`model.scissor.attribution`) from a projection frame, an
    attribution table, one of its rows or a summary.json ``attribution`` entry, with its years."""
    from model.scissor import attribution

    if isinstance(att, pd.DataFrame):
        if "year" in att.columns:  # a projection frame
            att = attribution(att, case, end)
        row = att.loc[commune]
        attrs = att.attrs
    else:
        row = att if isinstance(att, pd.Series) else pd.Series(att)
        attrs = row.attrs
    start = start if start is not None else attrs.get("start")
    end = end if end is not None else attrs.get("year")
    if start is None or end is None:
        raise ValueError("start and end years are needed for an attribution row without attrs")
    return row, int(start), int(end)


def waterfall_data(att, commune: str = EPCI_ID, case: str = "pooled",
                   start: int | None = None, end: int | None = None) -> pd.DataFrame:
    """The waterfall's bars: ``step, label, kind, amount_eur, start_eur, end_eur, text``, from the
    start year's épargne brute through resources, other spending and digital costs to the end
    year's (each bar starts where the previous one ended)."""
    row, start, end = attribution_row(att, commune, case, start, end)
    fmt = {"start": start, "end": end, "case": CASE_FR.get(case, case)}
    labels = {k: v.format(**fmt) for k, v in WATERFALL_FR.items()}
    details = {k: v.format(**fmt) for k, v in WATERFALL_TOOLTIP_FR.items()}
    eb0, eb1 = float(row["eb_start_eur"]), float(row["eb_end_eur"])
    steps = [("resources", float(row["eb_from_resources_eur"])),
             ("other", float(row["eb_from_other_eur"])),
             ("digital", float(row["eb_from_digital_eur"]))]
    rows = [{"step": 0, "kind": "start", "amount_eur": eb0, "start_eur": 0.0, "end_eur": eb0,
             "text": _eur(eb0)}]
    level = eb0
    for i, (kind, amount) in enumerate(steps, start=1):
        rows.append({"step": i, "kind": kind, "amount_eur": amount, "start_eur": level,
                     "end_eur": level + amount, "text": eur_signed(amount)})
        level += amount
    rows.append({"step": 4, "kind": "end", "amount_eur": eb1, "start_eur": 0.0, "end_eur": eb1,
                 "text": _eur(eb1)})
    out = pd.DataFrame(rows)
    out.insert(1, "label", out["kind"].map(labels))
    out.insert(2, "detail", out["kind"].map(details))
    out["top_eur"] = out[["start_eur", "end_eur"]].max(axis=1)
    return out


def attribution_chart(att, commune: str = EPCI_ID, case: str = "pooled",
                      start: int | None = None, end: int | None = None, big: bool = False,
                      x_domain: tuple[float, float] | None = None, title: str | None = None,
                      standalone_digital_eur: float | None = None,
                      width: int | None = None, height: int | None = None) -> alt.Chart:
    """Waterfall of the épargne brute from the start year to the end year, in euros: start,
    + resources, − other spending, − digital costs (highlighted), = end. ``att`` is a projection
    frame (then ``commune`` and ``case`` pick the row), an attribution table or one row of it.
    ``standalone_digital_eur`` (the digital term if each commune bought alone) goes in the
    subtitle when given (read from the frame when ``att`` is one)."""
    from model.scissor import attribution

    s = _sizes(big)
    if isinstance(att, pd.DataFrame) and "year" in att.columns:  # a projection frame
        if standalone_digital_eur is None and case == "pooled":
            alone = attribution(att, "standalone", end).loc[commune]
            standalone_digital_eur = float(alone["eb_from_digital_eur"])
        att = attribution(att, case, end)
    data = waterfall_data(att, commune, case, start, end)
    row, start, end = attribution_row(att, commune, case, start, end)
    name = _payer_name(str(row.get("name", commune)), commune)
    estimated = bool(row.get("finances_estimated", False))
    order = list(data["label"])
    kinds = ["start", "resources", "other", "digital", "end"]
    colours = [CB_COLOURS["total"], CB_COLOURS["resources"], CB_COLOURS["other"],
               CB_COLOURS[case], CB_COLOURS["total"]]
    data["highlight"] = data["kind"] == "digital"
    x_scale = alt.Scale(domain=list(x_domain or waterfall_domain(data)), nice=False)
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=420))
    tooltip = [alt.Tooltip("detail:N", title="Étape"), alt.Tooltip("text:N", title="Montant")]
    bars = alt.Chart(data).mark_bar(size=28 if not big else 44).encode(
        y=y,
        x=alt.X("start_eur:Q", title=f"Épargne brute annuelle (€), {start} → {end}",
                axis=alt.Axis(format=",.0f"), scale=x_scale),
        x2="end_eur:Q",
        color=alt.Color("kind:N", legend=None, scale=alt.Scale(domain=kinds, range=colours)),
        opacity=alt.condition("datum.highlight", alt.value(1.0), alt.value(0.6)),
        stroke=alt.condition("datum.highlight", alt.value("#000"), alt.value(None)),
        strokeWidth=alt.condition("datum.highlight", alt.value(2.5), alt.value(0)),
        tooltip=tooltip,
    )
    text = alt.Chart(data).mark_text(align="left", dx=6, fontSize=s["text"], color="#222"
                                     ).encode(y=y, x="top_eur:Q", text="text:N", tooltip=tooltip
                                              ).transform_filter("!datum.highlight")
    text_digital = alt.Chart(data).mark_text(
        align="left", dx=6, fontSize=s["text"] * 1.15, fontWeight="bold", color=CB_COLOURS[case]
    ).encode(y=y, x="top_eur:Q", text="text:N", tooltip=tooltip).transform_filter(
        "datum.highlight")
    layers = [bars, text, text_digital]
    if float(data["end_eur"].min()) < 0:
        layers.insert(0, alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="#555").encode(
            x="zero:Q"))
    chart = alt.layer(*layers).properties(width=width or s["width"],
                                          height=height or (5 * (56 if big else 40)))
    dig = float(row["eb_from_digital_eur"])
    subtitle = [f"{name} : épargne brute annuelle, de {start} à {end}"]
    if standalone_digital_eur is not None and case == "pooled":
        subtitle.append(f"Numérique : {eur_signed(dig)} mutualisé, "
                        f"{eur_signed(standalone_digital_eur)} chaque commune seule")
    if estimated:
        subtitle.append(ESTIMATED_FR)
    head = title or "D'où vient la variation de l'épargne brute"
    if estimated:
        head += " (estimé)"
    v = dict(zip(data["kind"], data["amount_eur"], strict=True))
    description = (f"{name} : épargne brute {_eur(v['start'])} en {start} ; recettes "
                   f"{eur_signed(v['resources'])}, autres dépenses {eur_signed(v['other'])}, "
                   f"coût numérique {eur_signed(v['digital'])} ; épargne brute {_eur(v['end'])} "
                   f"en {end}." + (" Montants estimés." if estimated else ""))
    return _finish(chart, big, head, subtitle, description)


def gap_data(frame: pd.DataFrame, commune: str = EPCI_ID) -> pd.DataFrame:
    """Tidy ``year, case, case_fr, gap_eur, gap_cum_eur`` of one payer: the digital cost minus
    what it would be had it grown like resources, yearly and cumulated since the start year."""
    df = _payer(frame, commune)
    rows = []
    for case in ("pooled", "standalone"):
        for year, gap, cum in zip(df["year"], df[f"digital_gap_{case}_eur"],
                                  df[f"digital_gap_cum_{case}_eur"], strict=True):
            rows.append({"year": int(year), "case": case, "case_fr": GAP_CASE_FR[case],
                         "gap_eur": float(gap), "gap_cum_eur": float(cum)})
    return pd.DataFrame(rows)


GAP_CASE_FR = {"pooled": "Mutualisé", "standalone": "Chaque commune seule"}


def gap_chart(frame: pd.DataFrame, commune: str = EPCI_ID, big: bool = False,
              width: int | None = None, height: int | None = None) -> alt.Chart:
    """The digital blade alone, in euros: per year, what digital costs take beyond what they
    would if they grew like resources (bars), and that gap cumulated since the start year
    (lines), pooled and if each commune bought alone."""
    s = _sizes(big)
    data = gap_data(frame, commune)
    df = _payer(frame, commune)
    name = _payer_name(str(df["name"].iloc[0]), commune)
    estimated = _estimated(df)
    start, end = int(data["year"].min()), int(data["year"].max())
    order = [GAP_CASE_FR["pooled"], GAP_CASE_FR["standalone"]]
    colour = alt.Color("case_fr:N", title=None, sort=order, scale=alt.Scale(
        domain=order, range=[CB_COLOURS["pooled"], CB_COLOURS["standalone"]]))
    bars = alt.Chart(data).mark_bar(opacity=0.55).encode(
        x=_year_axis(big), xOffset=alt.XOffset("case_fr:N", sort=order),
        y=alt.Y("gap_eur:Q", title="Euros", axis=alt.Axis(format=",.0f")),
        color=colour,
        tooltip=[alt.Tooltip("case_fr:N", title="Cas"), alt.Tooltip("year:O", title="Année"),
                 alt.Tooltip("gap_eur:Q", title="Écart de l'année (€)", format=",.0f")],
    )
    lines = alt.Chart(data).mark_line(strokeWidth=s["stroke"],
                                      point=alt.OverlayMarkDef(size=s["point"])).encode(
        x=_year_axis(big), y="gap_cum_eur:Q", color=colour,
        strokeDash=alt.StrokeDash("case_fr:N", title=None, sort=order, scale=alt.Scale(
            domain=order, range=[[1, 0], [8, 4]])),
        tooltip=[alt.Tooltip("case_fr:N", title="Cas"), alt.Tooltip("year:O", title="Année"),
                 alt.Tooltip("gap_cum_eur:Q", title=f"Écart cumulé depuis {start} (€)",
                             format=",.0f")],
    )
    chart = alt.layer(bars, lines).properties(width=width or s["width"],
                                              height=height or s["height"])
    last = data[data["year"] == end].set_index("case")
    subtitle = [f"{name} : coût numérique moins ce qu'il serait s'il suivait les recettes",
                f"Barres : écart de l'année ; lignes : écart cumulé depuis {start}."]
    if estimated:
        subtitle.append(ESTIMATED_FR)
    head = "Ce que le numérique coûte de plus que la hausse des recettes"
    if estimated:
        head += " (estimé)"
    description = (f"{name} : en {end}, le numérique coûte {eur_signed(last.loc['pooled', 'gap_eur'])}"
                   f" de plus que s'il avait suivi les recettes (mutualisé), "
                   f"{eur_signed(last.loc['standalone', 'gap_eur'])} si chaque commune achetait "
                   f"seule ; cumulé de {start} à {end} : "
                   f"{eur_signed(last.loc['pooled', 'gap_cum_eur'])} mutualisé, "
                   f"{eur_signed(last.loc['standalone', 'gap_cum_eur'])} seules."
                   + (" Montants estimés." if estimated else ""))
    return _finish(chart, big, head, subtitle, description)


PROBABILITY_LEVEL_FR = {"epci": "l'ensemble du territoire", "commune": "au moins une commune"}


def crossing_probability(sens, indicator: str = "teb_alert", level: str = "epci") -> pd.DataFrame:
    """Tidy ``year, case, case_fr, probability, draws`` from a sensitivity result
    (`model.sensitivity.sensitivity`): the share of draws in which the scissor year of
    ``indicator`` (EPCI total, or the first commune for ``level="commune"``) is at or before
    each year of the horizon."""
    dist = sens.scissor
    dist = dist[(dist["indicator"] == indicator) & (dist["level"] == level)]
    if dist.empty:
        raise ValueError(f"no distribution for {indicator!r} at level {level!r}")
    years = sorted(int(y) for y in sens.shares["year"].unique())
    n = int(len(sens.draws))
    rows = []
    for case in ("pooled", "standalone"):
        d = dist[(dist["case"] == case) & dist["year"].notna()]
        for year in years:
            hit = int(d.loc[d["year"] <= year, "draws"].sum())
            rows.append({"year": year, "case": case, "case_fr": GAP_CASE_FR[case],
                         "probability": hit / n, "draws": hit})
    return pd.DataFrame(rows)


def crossing_probability_chart(sens, indicator: str = "teb_alert", level: str = "epci",
                               territory: str | None = None, big: bool = False,
                               width: int | None = None, height: int | None = None) -> alt.Chart:
    """Probability, year by year, that the threshold of ``indicator`` has been crossed (the
    taux d'épargne brute under the alert threshold by default), pooled and if each commune
    bought alone, over the draws of a sensitivity result."""
    s = _sizes(big)
    data = crossing_probability(sens, indicator, level)
    n = int(len(sens.draws))
    order = [GAP_CASE_FR["pooled"], GAP_CASE_FR["standalone"]]
    data["text"] = data["probability"].map(lambda p: f"{100 * p:.0f}\u202f%")
    line = alt.Chart(data).mark_line(strokeWidth=s["stroke"],
                                     point=alt.OverlayMarkDef(size=s["point"])).encode(
        x=_year_axis(big),
        y=alt.Y("probability:Q", title="Probabilité (part des tirages)",
                axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("case_fr:N", title=None, sort=order, scale=alt.Scale(
            domain=order, range=[CB_COLOURS["pooled"], CB_COLOURS["standalone"]])),
        strokeDash=alt.StrokeDash("case_fr:N", title=None, sort=order, scale=alt.Scale(
            domain=order, range=[[1, 0], [8, 4]])),
        tooltip=[alt.Tooltip("case_fr:N", title="Cas"), alt.Tooltip("year:O", title="Année"),
                 alt.Tooltip("text:N", title="Probabilité"),
                 alt.Tooltip("draws:Q", title="Tirages")],
    )
    chart = line.properties(width=width or s["width"], height=height or s["height"])
    phrase = SCISSOR_PHRASE_FR.get(indicator, INDICATOR_LABELS_FR.get(indicator, indicator))
    who = PROBABILITY_LEVEL_FR[level]
    subtitle = [f"{territory + ' — ' if territory else ''}part des tirages où, pour {who}, "
                f"{phrase} cette année-là ou avant",
                f"{n} tirages de la hausse des licences, de celle des recettes et du saut SaaS."]
    end = data["year"].max()
    last = data[data["year"] == end].set_index("case")["probability"]
    description = (f"Sur {n} tirages, probabilité que {phrase} d'ici {end} pour {who} : "
                   f"{100 * last['pooled']:.0f} % en mutualisant, "
                   f"{100 * last['standalone']:.0f} % si chaque commune achète seule.")
    return _finish(chart, big, "Probabilité de franchir le seuil, année par année", subtitle,
                   description)


def eb_fan_chart(sens, territory: str | None = None, big: bool = False,
                 width: int | None = None, height: int | None = None) -> alt.Chart:
    """Fan chart of the territory's épargne brute in euros over the draws of a sensitivity result:
    the 5-95 % and 25-75 % bands and the median, with the zero line (épargne brute négative)."""
    s = _sizes(big)
    fan = sens.eb_fan.copy()
    n = int(len(sens.draws))
    base = alt.Chart(fan).encode(x=_year_axis(big))
    outer = base.mark_area(opacity=0.25, color=CB_COLOURS["pooled"]).encode(
        y=alt.Y("q05:Q", title="Épargne brute (€)", axis=alt.Axis(format=",.0f")), y2="q95:Q",
        tooltip=[alt.Tooltip("year:O", title="Année"),
                 alt.Tooltip("q05:Q", title="5 % des tirages sous", format=",.0f"),
                 alt.Tooltip("q95:Q", title="95 % des tirages sous", format=",.0f")])
    inner = base.mark_area(opacity=0.45, color=CB_COLOURS["pooled"]).encode(y="q25:Q", y2="q75:Q")
    median = base.mark_line(strokeWidth=s["stroke"], color=CB_COLOURS["pooled"],
                            point=alt.OverlayMarkDef(size=s["point"])).encode(
        y="q50:Q", tooltip=[alt.Tooltip("year:O", title="Année"),
                            alt.Tooltip("q50:Q", title="Médiane (€)", format=",.0f")])
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(strokeDash=[4, 4], color="#444").encode(
        y="y:Q")
    chart = (outer + inner + median + zero).properties(width=width or s["width"],
                                                       height=height or s["height"])
    end = fan.iloc[-1]
    subtitle = [f"{territory + ' — ' if territory else ''}médiane, 50 % et 90 % des {n} tirages "
                "(hausse des licences, des recettes, saut SaaS)",
                "Sous la ligne pointillée : épargne brute négative."]
    description = (f"Épargne brute du territoire en {int(end['year'])} : médiane "
                   f"{end['q50']:,.0f} €, 90 % des tirages entre {end['q05']:,.0f} € et "
                   f"{end['q95']:,.0f} €.").replace(",", "\u202f")
    return _finish(chart, big, "Épargne brute : l'éventail des possibles", subtitle, description)


def commune_crossing_chart(sens, commune: str, big: bool = False, width: int | None = None,
                           height: int | None = None) -> alt.Chart:
    """Probability, year by year, that one commune's taux d'épargne brute has gone under the
    alert threshold (pooled), over the draws of a sensitivity result."""
    s = _sizes(big)
    data = sens.commune_crossing[sens.commune_crossing["commune"] == commune].copy()
    if data.empty:
        raise ValueError(f"no crossing probability for commune {commune!r}")
    name = str(data["name"].iloc[0])
    n = int(len(sens.draws))
    data["text"] = data["probability"].map(lambda p: f"{100 * p:.0f}\u202f%")
    chart = alt.Chart(data).mark_line(strokeWidth=s["stroke"], color=CB_COLOURS["pooled"],
                                      point=alt.OverlayMarkDef(size=s["point"])).encode(
        x=_year_axis(big),
        y=alt.Y("probability:Q", title="Probabilité (part des tirages)",
                axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("year:O", title="Année"), alt.Tooltip("text:N", title="Probabilité")],
    ).properties(width=width or s["width"], height=height or s["height"])
    end = data.iloc[-1]
    description = (f"Sur {n} tirages, probabilité que le taux d'épargne brute de {name} passe sous "
                   f"le seuil d'alerte d'ici {int(end['year'])} : {100 * end['probability']:.0f} %.")
    return _finish(chart, big, f"{name} : probabilité de passer sous le seuil d'alerte",
                   [f"part des {n} tirages où son taux d'épargne brute est sous le seuil cette "
                    "année-là ou avant (mutualisé)"], description)


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
    if "finances_estimated" in projection.columns:  # « (estimé) » beside estimated communes
        est = projection["finances_estimated"].astype(bool) & (projection["commune"] != EPCI_ID)
        df["name"] = df["name"].where(~est.to_numpy(), df["name"] + " (estimé)")
    highlight = [c for c in (highlight or []) if c in set(df["commune"])]
    df["group"] = "Autres communes"
    df.loc[df["commune"].isin(highlight), "group"] = df["name"]
    df.loc[df["commune"] == EPCI_ID, "group"] = "Ensemble des communes"
    hl_names = list(dict.fromkeys(df.loc[df["commune"].isin(highlight), "name"]))
    domain = ["Ensemble des communes", *hl_names, "Autres communes"]
    colours = ["#000000", *HIGHLIGHT_COLOURS[:len(hl_names)], "#b8b8b8"]
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
    n_est = int(projection.loc[projection["commune"] != EPCI_ID].groupby("commune")[
        "finances_estimated"].first().sum()) if "finances_estimated" in projection.columns else 0
    if n_est:
        subtitle = [subtitle, f"« estimé » : finances estimées à partir de moyennes nationales "
                              f"({n_est} commune{'s' if n_est > 1 else ''} sur {n})"]
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
        color=alt.Color("method_fr:N", title="Méthode", sort=methods_fr, scale=alt.Scale(
            domain=methods_fr, range=[METHOD_STYLE.get(m, ("#7F7F7F", ""))[0] for m in methods])),
        shape=alt.Shape("method_fr:N", title="Méthode", sort=methods_fr, scale=alt.Scale(
            domain=methods_fr, range=[METHOD_STYLE.get(m, ("", "circle"))[1] for m in methods])),
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


#: Who pays more with B (Okabe-Ito vermillion) and who pays less (Okabe-Ito blue).
CHANGE_COLOURS = {"more": "#D55E00", "less": "#0072B2"}


def _signed_eur(value: float) -> str:
    text = f"{abs(value):,.0f}".replace(",", "\u202f")
    return ("+" if value > 0 else "\u2212" if value < 0 else "") + text + "\u00a0€"


def split_change_chart(change: pd.DataFrame, label_a: str, label_b: str, period: str,
                       top: int = 14, big: bool = False, width: int | None = None) -> alt.Chart:
    """Who pays more and who pays less under B than under A: one diverging bar per payer (the
    `top` largest changes), in euros with the percent of A, sorted by change. `change` is
    :func:`model.ui.views.split_change` (index payer; name, paid_a_eur, paid_b_eur, change_eur,
    change_pct)."""
    s = _sizes(big)
    moved = change[change["change_eur"].abs() >= 0.5]
    more, less = int((moved["change_eur"] > 0).sum()), int((moved["change_eur"] < 0).sum())
    title = "Qui paie plus, qui paie moins avec B"
    if moved.empty:
        text = (f"Avec B ({label_b}), aucun payeur ne paie un montant différent de A "
                f"({label_a}) sur {period}.")
        return _finish(alt.Chart(pd.DataFrame({"t": [text]})).mark_text(
            fontSize=s["text"], align="left", x=0).encode(text="t:N").properties(
            width=width or s["width"], height=60), big, title, description=text)
    shown = moved.reindex(moved["change_eur"].abs().sort_values(ascending=False).index)[:top]
    shown = shown.sort_values("change_eur", ascending=False)
    df = pd.DataFrame({
        "payer": shown["name"].astype(str), "change_eur": shown["change_eur"].astype(float),
        "side": ["Paie plus avec B" if v > 0 else "Paie moins avec B"
                 for v in shown["change_eur"]],
        "label": [_signed_eur(v) + ("" if pd.isna(p) else f" ({100 * p:+.1f}\u202f%)".replace(
            ".", ",").replace("-", "\u2212")) for v, p in zip(shown["change_eur"],
                                                        shown["change_pct"], strict=True)],
        "paid_a_eur": shown["paid_a_eur"].astype(float),
        "paid_b_eur": shown["paid_b_eur"].astype(float),
    })
    df["row"] = df["payer"] + "  " + df["label"]
    y = alt.Y("row:N", title=None, sort=list(df["row"]), axis=alt.Axis(labelLimit=460))
    chart = alt.Chart(df).mark_bar().encode(
        y=y,
        x=alt.X("change_eur:Q", title=f"Écart B − A sur {period} (€)",
                axis=alt.Axis(format=",.0f")),
        color=alt.Color("side:N", title=None, sort=["Paie plus avec B", "Paie moins avec B"],
                                scale=alt.Scale(domain=["Paie plus avec B", "Paie moins avec B"],
                                        range=[CHANGE_COLOURS["more"], CHANGE_COLOURS["less"]]),
                        legend=None),
        tooltip=[alt.Tooltip("payer:N", title="Payeur"),
                 alt.Tooltip("label:N", title="Écart B − A"),
                 alt.Tooltip("paid_a_eur:Q", title=f"Payé avec A ({period}, €)", format=",.0f"),
                 alt.Tooltip("paid_b_eur:Q", title=f"Payé avec B ({period}, €)", format=",.0f")],
    )
    chart = chart.properties(width=width or s["width"],
                             height=max(120, len(df) * (30 if big else 20)))
    hidden = len(moved) - len(df)
    subtitle = (f"Total {period}. En orange, {more} paie{'nt' if more > 1 else ''} plus ; en "
                f"bleu, {less} moins" + (f" ({len(df)} plus grands écarts sur {len(moved)})"
                                         if hidden else "") + f". A : {label_a} ; B : {label_b}.")
    first, last = df.iloc[0], df.iloc[-1]
    description = (f"Avec B plutôt que A, sur {period} : {more} payeurs paient plus, {less} "
                   f"moins. Plus forte hausse : {first['payer']}, {first['label']}. "
                   f"Plus forte baisse : {last['payer']}, {last['label']}.")
    return _finish(chart, big, title, subtitle, description,
                   wrap_width=(width or s["width"]) + 260)  # the labels' column is read too


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


# ------------------------------------------------------------------------------------------------
# Text alternative: the data behind a chart, as a table with the chart's own French titles
# ------------------------------------------------------------------------------------------------

def _units(spec: dict):
    """Every single view of a spec (layers, concatenations, facets), with the data it names."""
    yield spec
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for child in spec.get(key, []):
            yield from _units(child)
    if isinstance(spec.get("spec"), dict):
        yield from _units(spec["spec"])


def _titled_fields(encoding: dict) -> dict[str, tuple[str, str]]:
    """Field -> (French title, d3 format) of one view: its tooltip when it has one (the reader's
    own words), else its axes and legend."""
    tips = encoding.get("tooltip")
    tips = tips if isinstance(tips, list) else [tips] if isinstance(tips, dict) else []
    encs = tips or [encoding.get(c) for c in ("y", "x", "color", "theta", "size", "text")]
    out: dict[str, tuple[str, str]] = {}
    for enc in encs:
        if isinstance(enc, dict) and enc.get("field") and isinstance(enc.get("title"), str):
            fmt = enc.get("format") or (enc.get("axis") or {}).get("format") or ""
            out.setdefault(enc["field"], (enc["title"], fmt if isinstance(fmt, str) else ""))
    return out


def chart_fields(spec: dict) -> tuple[pd.DataFrame, dict[str, str]]:
    datasets = spec.get("datasets", {})
    fields: dict[str, dict[str, tuple[str, str]]] = {}
    top = (spec.get("data") or {}).get("name")
    for unit in _units(spec):
        name = (unit.get("data") or {}).get("name") or top
        if name in datasets:
            for field, titled in _titled_fields(unit.get("encoding") or {}).items():
                fields.setdefault(name, {}).setdefault(field, titled)
    if not fields:
        return pd.DataFrame(), {}
    name = max(fields, key=lambda n: (len(fields[n]), len(datasets[n])))
    frame = pd.DataFrame(datasets[name])
    cols = {f: t for f, t in fields[name].items() if f in frame.columns and t[0]}
    frame = frame[list(cols)].rename(columns={f: t[0] for f, t in cols.items()})
    return frame.drop_duplicates().reset_index(drop=True), {t[0]: t[1] for t in cols.values()}


def chart_table(spec: dict, max_rows: int = 400) -> pd.DataFrame:
    """The data behind a chart spec, its columns named by the chart's tooltip (else axis and
    legend) titles: the text alternative a reader without the picture gets. Fields without a
    French title are left out; the dataset that carries the most titled fields is the one shown."""
    return chart_fields(spec)[0].head(max_rows)


def fr_cell(value, fmt: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, int) and not fmt):
        return str(value)  # labels, and years
    if "%" in fmt:
        digits = int(fmt[fmt.index(".") + 1]) if "." in fmt else 0
        return f"{100 * value:,.{digits}f}".replace(",", "\u202f").replace(".", ",") + "\u202f%"
    text = f"{value:,.0f}" if abs(value) >= 100 or fmt.startswith(",.0") else f"{value:,.3g}"
    return text.replace(",", "\u202f").replace(".", ",")


def chart_table_html(spec: dict, max_rows: int = 400) -> str:
    """:func:`chart_table` as an HTML table with French numbers (empty when no data)."""
    import html as _html

    frame, formats = chart_fields(spec)
    if frame.empty:
        return ""
    frame = frame.head(max_rows)
    head = "".join(f"<th scope='col'>{_html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_html.escape(fr_cell(v, formats.get(c, '')))}</td>"
                         for c, v in zip(frame.columns, row, strict=True)) + "</tr>"
        for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
