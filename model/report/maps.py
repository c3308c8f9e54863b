"""A map of the EPCI's communes: one measure per commune, for one year (issue 13).

:func:`map_values` reads the tidy projection frame of a run (``RunResult.projection.projection``,
or a view's frame re-derived for another method) and :func:`commune_map_chart` draws it on the
communes' contours (:func:`model.data.contours.commune_contours`) as an Altair choropleth, in
French, with the data inline so that it renders offline (vl-convert). No solving, no file I/O
here; the contours are given by the caller::

    values = map_values(result.projection.projection, 2030, "saving")
    chart = commune_map_chart(values, commune_contours(values.index), measure="saving",
                              title="Économie de chaque commune en 2030")
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from model.errors import InputError
from model.projection import EPCI_ID
from model.report.charts import _finish, _sizes, eur_signed

#: Measure id -> French label (for a drop-down).
MAP_MEASURES_FR = {
    "saving": "Économie par rapport à l'achat seul (€)",
    "share": "Part du coût mutualisé payée (%)",
    "burden": "Charge numérique (coût numérique / recettes réelles de fonctionnement, %)",
}
#: Measure id -> (legend and tooltip title, d3 format of the value).
_LEGEND_FR = {
    "saving": ("Économie (€)", ",.0f"),
    "share": ("Part du coût mutualisé", ".1%"),
    "burden": ("Charge numérique / RRF", ".1%"),
}
#: Lambert-93's cone (EPSG:2154): conformal, standard parallels 44° and 49°, meridian 3° E.
LAMBERT_93 = {"type": "conicConformal", "parallels": [44, 49], "rotate": [-3, 0]}
ESTIMATED_MARK_FR = " (estimé)"
ESTIMATED_NOTE_FR = ("Recettes estimées à partir de moyennes nationales pour {n} des {total} "
                     "communes (« (estimé) » après leur nom).")


def _pct(value: float) -> str:
    return f"{100 * value:.1f}".replace(".", ",") + "\u202f%"


def _fmt(measure: str, value: float) -> str:
    return eur_signed(value) if measure == "saving" else _pct(value)


def _check_measure(measure: str) -> None:
    if measure not in MAP_MEASURES_FR:
        raise InputError(f"mesure de carte inconnue : « {measure} » (possibles : "
                         f"{', '.join(MAP_MEASURES_FR)})")


def map_values(projection: pd.DataFrame, year: int, measure: str) -> pd.DataFrame:
    """Per commune, one ``measure`` of one ``year`` of the projection frame, for the map.

    Parameters
    ----------
    projection
        The projection frame of a run (``RunResult.projection.projection``): one row per year
        and commune plus the ``EPCI`` total row. Its ``digital_pooled_eur`` is what each commune
        pays under the scenario's method (or the method a view re-derived it for).
    year
        A year of the projection.
    measure
        ``"saving"``: cost if the commune bought its services alone minus what it pays, euros
        (negative when pooling costs it more); ``"share"``: what it pays over the whole pooled
        cost (the EPCI's own budget included, so the communes add up to less than 1 when the
        EPCI pays a part), a ratio; ``"burden"``: what it pays over its recettes réelles de
        fonctionnement of the year, a ratio. Ratios are shown as percentages.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``commune`` (INSEE code), columns ``name``, ``value``, ``paid_eur``,
        ``standalone_eur``, ``rrf_eur``, ``finances_estimated``; ``attrs`` holds ``measure``,
        ``year`` and ``pooled_cost_eur`` (the EPCI total).
    """
    _check_measure(measure)
    rows = projection[projection["year"] == year]
    if rows.empty:
        years = sorted(int(y) for y in projection["year"].unique())
        raise InputError(f"année {year} absente de la projection (années : "
                         f"{years[0]} à {years[-1]})")
    total = rows.loc[rows["commune"] == EPCI_ID, "digital_pooled_eur"]
    communes = rows[rows["commune"] != EPCI_ID].set_index("commune")
    out = pd.DataFrame({
        "name": communes["name"],
        "paid_eur": communes["digital_pooled_eur"].astype(float),
        "standalone_eur": communes["digital_standalone_eur"].astype(float),
        "rrf_eur": communes["rrf_eur"].astype(float),
        "finances_estimated": communes["finances_estimated"].astype(bool),
    })
    pooled = float(total.iloc[0]) if len(total) else float(out["paid_eur"].sum())
    if measure == "saving":
        value = out["standalone_eur"] - out["paid_eur"]
    elif measure == "share":
        value = out["paid_eur"] / pooled
    else:
        value = out["paid_eur"] / out["rrf_eur"]
    out.insert(1, "value", value.astype(float))
    out.index.name = "commune"
    out.attrs.update(measure=measure, year=int(year), pooled_cost_eur=pooled)
    return out


def _names(names: list[str], at_most: int = 6) -> str:
    if len(names) <= at_most:
        return ", ".join(names)
    return ", ".join(names[:at_most]) + f" et {len(names) - at_most} autres"


def _missing_line(values: pd.DataFrame, missing: list[str]) -> str | None:
    if not missing:
        return None
    n = len(missing)
    names = [str(values.at[c, "name"]) for c in missing]
    return f"Carte indisponible pour {n} commune{'s' if n > 1 else ''} : {_names(names)}."


def _description(values: pd.DataFrame, drawn: pd.DataFrame, measure: str,
                 missing_line: str | None) -> str:
    label = MAP_MEASURES_FR[measure].split(" (")[0].lower()
    year = values.attrs.get("year")
    head = f"Carte des {len(drawn)} communes : {label}" + (f" en {year}" if year else "") + "."
    if drawn.empty:
        return " ".join(t for t in (head, missing_line) if t)
    hi, lo = drawn["value"].idxmax(), drawn["value"].idxmin()
    parts = [head,
             f"Valeur la plus haute : {drawn.at[hi, 'name']} ({_fmt(measure, drawn.at[hi, 'value'])}).",
             f"La plus basse : {drawn.at[lo, 'name']} ({_fmt(measure, drawn.at[lo, 'value'])})."]
    if measure == "saving":
        losing = int((drawn["value"] < -0.5).sum())
        plural = "s" if losing > 1 else ""
        parts.append(f"{losing} commune{plural} paie{'nt' if losing > 1 else ''} plus qu'en "
                     f"achetant seule{plural}." if losing
                     else "Aucune commune ne paie plus qu'en achetant seule.")
    return " ".join([*parts, *([missing_line] if missing_line else [])])


def _colour(measure: str, drawn: pd.DataFrame, title: str, fmt: str, big: bool) -> alt.Color:
    legend = alt.Legend(title=title, format=fmt, orient="right",
                        gradientLength=320 if big else 200, gradientThickness=20 if big else 14)
    if measure == "saving":  # diverging around 0: blue saves, orange pays more (Okabe-Ito pair)
        m = float(drawn["value"].abs().max()) or 1.0
        scale = alt.Scale(domain=[-m, 0, m], range=["#D55E00", "#f7f7f7", "#0072B2"])
    else:
        scale = alt.Scale(scheme="blues" if measure == "share" else "oranges", zero=False)
    return alt.Color("value:Q", title=title, scale=scale, legend=legend)


def commune_map_chart(values: pd.DataFrame, contours: dict, *, measure: str, title: str,
                      subtitle: str | list[str] | None = None, big: bool = False,
                      width: int | None = None, height: int | None = None) -> alt.Chart:
    """A choropleth of one measure per commune, in French, the data inline (renders offline).

    Parameters
    ----------
    values
        :func:`map_values`' frame (indexed by INSEE code; ``name`` and ``value`` are used).
    contours
        :func:`model.data.contours.commune_contours` of the communes (a GeoJSON
        FeatureCollection); its features outside ``values`` are left out.
    measure
        ``"saving"`` (a diverging blue-orange scale centred on 0), ``"share"`` or ``"burden"``
        (sequential blues, oranges); all safe for colour-blind readers.
    title, subtitle
        The French title and optional subtitle lines; a line naming the communes that have no
        contour (« Carte indisponible pour N communes : … ») is added after them.
    big
        Large fonts and legend for a plenary room.
    width, height
        Pixels (default: 560 x 450, or 820 x 650 when ``big``).

    The map uses Lambert-93's cone (or Mercator overseas), fitted to the communes. Its
    ``description`` (the SVG's text alternative) says what it shows and names the extremes.
    """
    _check_measure(measure)
    s = _sizes(big)
    legend_title, fmt = _LEGEND_FR[measure]
    burden = measure == "burden"
    shapes = {f["properties"]["insee"]: f["geometry"] for f in contours.get("features", [])
              if f["properties"]["insee"] in values.index}
    drawn = values.loc[[c for c in values.index if c in shapes]]
    missing_line = _missing_line(values, [c for c in values.index if c not in shapes])
    lines = ([subtitle] if isinstance(subtitle, str) else list(subtitle or []))
    estimated = int(drawn["finances_estimated"].sum()) if burden else 0
    if estimated:
        lines.append(ESTIMATED_NOTE_FR.format(n=estimated, total=len(drawn)))
    lines += [missing_line] if missing_line else []
    width, height = width or s["width"], height or (650 if big else 450)
    description = _description(values, drawn, measure, missing_line)
    if drawn.empty:
        chart = alt.Chart(pd.DataFrame({"t": ["Carte indisponible pour ces communes."]})
                          ).mark_text(fontSize=s["text"]).encode(text="t:N").properties(
            width=width, height=height)
        return _finish(chart, big, title, lines or None, description)
    table = drawn[["name", "value", "paid_eur", "standalone_eur", "rrf_eur"]].rename_axis(
        "insee").reset_index()
    if estimated:
        table["name"] = table["name"].where(~drawn["finances_estimated"].to_numpy(),
                                            table["name"] + ESTIMATED_MARK_FR)
    # The shapes go in as one GeoJSON string that Vega parses: Altair copies and validates a
    # string at no cost, where nested coordinate lists take it a second for a large EPCI.
    geojson = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"insee": c}, "geometry": shapes[c]}
        for c in table["insee"]]}, separators=(",", ":"))
    overseas = any(c.startswith("97") for c in table["insee"])
    projection = {"type": "mercator"} if overseas else LAMBERT_93
    money = [alt.Tooltip("paid_eur:Q", title="Part payée (€)", format=",.0f"),
             alt.Tooltip("standalone_eur:Q", title="Coût si la commune achète seule (€)",
                         format=",.0f")]
    if burden:
        money.append(alt.Tooltip("rrf_eur:Q", title="Recettes réelles de fonctionnement (€)",
                                 format=",.0f"))
    chart = alt.Chart(table).transform_lookup(
        lookup="insee", as_="geo",
        from_=alt.LookupData(data=alt.Data(values=geojson, format=alt.DataFormat(
            type="json", property="features")), key="properties.insee"),
    ).mark_geoshape(stroke="#ffffff", strokeWidth=1.2 if big else 0.6).encode(
        shape="geo:G",
        color=_colour(measure, drawn, legend_title, fmt, big),
        tooltip=[alt.Tooltip("name:N", title="Commune"),
                 alt.Tooltip("insee:N", title="Code INSEE"),
                 alt.Tooltip("value:Q", title=legend_title, format=fmt), *money],
    ).project(**projection).properties(width=width, height=height)
    return _finish(chart, big, title, lines or None, description)



def territory_map_chart(projection: pd.DataFrame, year: int, measure: str, *, title: str,
                        subtitle: str | None = None, big: bool = False, width: int | None = None,
                        height: int | None = None) -> alt.Chart:
    """The map of one measure of one year, contours included (what a panel or the dossier
    draws): :func:`map_values` on :func:`~model.data.contours.commune_contours`."""
    from model.data.contours import commune_contours

    values = map_values(projection, year, measure)
    return commune_map_chart(values, commune_contours(values.index), measure=measure,
                             title=title, subtitle=subtitle, big=big, width=width, height=height)
