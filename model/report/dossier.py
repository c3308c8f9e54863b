"""The « dossier de plénière »: one self-contained HTML file and a PDF of it (issue 13).

For the elected officials, and to attach to the délibération: the territory, the scenario, the
split method and its voted rules, the headline of the scissor in euros, the key figures, the
plenary's charts, the split per commune (balanced to the cent), the communes whose épargne brute
turns negative, the comparison with a variant B when one is given, the assumptions with their
sources and the financial annex of the convention.

The HTML has no script and loads nothing: the charts are inline SVG drawn by vl-convert, the
styles are inline, the fonts are the system's, and a Content-Security-Policy forbids any fetch.
It opens by double-click and prints on A4. Each chart sits in a ``<figure>`` with a
``<figcaption>``, its SVG carries ``role="img"`` and the chart's French text alternative as
``aria-label``, and its data follows as an HTML table.

:func:`dossier_html` builds the page (no I/O). :func:`write_dossier` writes ``dossier.html`` and,
through a Chromium-family browser (:func:`find_browser`, :func:`print_pdf`), ``dossier.pdf`` into
an output folder, all or nothing (`model.report.export.atomic_dir`); without a browser the HTML is
written anyway and the result says, in French, why there is no PDF.

The plenary's button calls, with the two views on screen::

    files = write_dossier(views["A"].result(), folder, variant=views["B"].result())
    files.pdf_note  # None, or the French reason why there is no PDF
"""

from __future__ import annotations

import datetime
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import altair as alt
import pandas as pd

from model.errors import InputError, ModelError
from model.projection import EPCI_ID
from model.report import charts
from model.report.export import (
    atomic_dir,
    cover_rows,
    financial_annex,
    readable,
    report_sheets,
    scenario_inputs,
)
from model.report.labels import COLUMN_LABELS_FR, METHOD_LABELS_FR
from model.ui.views import (
    Simulation,
    View,
    default_split_sentence,
    display_named,
    eur,
    eur_signed,
    key_figures,
    named_communes,
    negative_eb_sentence,
    split_change,
)

HTML_NAME = "dossier.html"
PDF_NAME = "dossier.pdf"
#: Width of the charts' plotting area (pixels): with the large fonts (20 px labels) the drawn
#: SVG stays under about 900 px, so that fitted to an A4 page its text is still >= 11 pt.
CHART_WIDTH = 560
#: Seconds a browser may take to print the PDF.
PDF_TIMEOUT = 180
#: Executables of the Chromium family, looked up on the PATH in this order.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                 "microsoft-edge", "microsoft-edge-stable", "msedge", "chrome")
MONTHS_FR = charts.FR_LOCALE["time"]["months"]


class DossierFiles(list):
    """The paths written (``dossier.html``, then ``dossier.pdf`` when it was printed), with
    ``pdf_note``: the French reason why there is no PDF (None when there is one, or when none
    was asked), and ``seconds``: the time taken by the page (``html``) and the PDF (``pdf``)."""

    def __init__(self, paths, pdf_note: str | None = None, seconds: dict | None = None):
        super().__init__(paths)
        self.pdf_note = pdf_note
        self.seconds = seconds or {}


# ------------------------------------------------------------------------------------------------
# Formatting
# ------------------------------------------------------------------------------------------------

def eur_cents(value: float) -> str:
    """``12 345,67 €`` (narrow no-break spaces, comma, no-break space before the sign)."""
    if value is None or pd.isna(value):
        return "–"
    text = f"{abs(value):,.2f}".replace(",", "\u202f").replace(".", ",")
    return ("−" if round(value, 2) < 0 else "") + text + "\u00a0€"


def date_fr(day: datetime.date) -> str:
    """``3 mars 2026``."""
    return f"{day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def _esc(value) -> str:
    return html.escape(str(value))


def table_html(head: list[str], rows: list[list], *, caption: str | None = None,
               foot: list | None = None, numeric: tuple[int, ...] = (), cls: str = "") -> str:
    """An escaped HTML table: a header row, body rows, an optional total row (``<tfoot>``);
    the columns in ``numeric`` are right-aligned."""
    def cells(values, tag="td"):
        out = []
        for i, v in enumerate(values):
            attrs = ' class="num"' if i in numeric else ""
            if tag == "th":
                attrs += ' scope="col"'
            out.append(f"<{tag}{attrs}>{_esc(v)}</{tag}>")
        return "".join(out)

    parts = [f'<table class="{cls}">' if cls else "<table>"]
    if caption:
        parts.append(f"<caption>{_esc(caption)}</caption>")
    parts.append(f"<thead><tr>{cells(head, 'th')}</tr></thead><tbody>")
    parts += [f"<tr>{cells(r)}</tr>" for r in rows]
    parts.append("</tbody>")
    if foot is not None:
        parts.append(f"<tfoot><tr>{cells(foot)}</tr></tfoot>")
    parts.append("</table>")
    return "".join(parts)


def _pairs_table(pairs, caption: str | None = None) -> str:
    """A two-column table of (label, value) rows, the labels as row headers."""
    rows = "".join(f'<tr><th scope="row">{_esc(k)}</th><td>{_esc(v)}</td></tr>'
                   for k, v in pairs)
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f'<table class="pairs">{cap}<tbody>{rows}</tbody></table>'


# ------------------------------------------------------------------------------------------------
# Charts as inline SVG, each with its text alternative and its data
# ------------------------------------------------------------------------------------------------

def _sentences(lines) -> str:
    """Title or subtitle lines as one text: a line that ends without punctuation closes with a
    full stop, a wrapped line runs on."""
    lines = [lines] if isinstance(lines, str) else [str(t) for t in lines or [] if t]
    out = ""
    for line in lines:
        out += line if not out else (" " if out[-1] in ".,;:" else ". ") + line
    return out


def _title_of(spec: dict) -> tuple[str, str]:
    """The chart's title and subtitle as plain text."""
    title = spec.get("title", "")
    if isinstance(title, dict):
        return _sentences(title.get("text", "")), _sentences(title.get("subtitle", ""))
    return _sentences(title), ""


def svg_of(spec: dict) -> str:
    """The chart drawn as SVG by vl-convert (offline)."""
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    return vlc.vegalite_to_svg(spec, vl_version=vl_version_for_vl_convert())


def inline_svg(svg: str, label: str, prefix: str) -> str:
    """An SVG document made fit to sit inside HTML: no namespace declarations (HTML gives
    them), ``role="img"`` and ``aria-label`` on the root (its marks become presentational), and
    its ids prefixed so that two charts of one page never share a clip path."""
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg, count=2)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return svg.replace("<svg", f'<svg role="img" aria-label="{_esc(label)}" focusable="false"',
                       1)


def chart_data(spec: dict) -> tuple[list[str], list[list[str]], tuple[int, ...]]:
    """The data behind a chart, French-formatted: its header, rows and numeric columns, from
    the chart's own titled fields (`charts.chart_table`); a series over the years is laid out
    one row per series and one column per year. Empty when the chart names no data."""
    frame, formats = charts.chart_fields(spec)  # the titles the chart gives
    if frame.empty:
        return [], [], ()
    cells = frame.apply(lambda col: col.map(lambda v, c=col.name: charts.fr_cell(
        v, formats.get(c, ""))))
    if "Année" in frame.columns and len(frame.columns) == 3:
        label = next(c for c in frame.columns if c != "Année"
                     and not pd.api.types.is_numeric_dtype(frame[c]))
        value = next(c for c in frame.columns if c not in ("Année", label))
        wide = cells.assign(**{label: frame[label]}).pivot(index=label, columns="Année",
                                                           values=value)
        wide = wide.reindex(index=pd.unique(frame[label]))
        wide = wide[sorted(wide.columns, key=int)]
        head = [f"{label} — {value}", *map(str, wide.columns)]
        rows = [[idx, *row] for idx, row in zip(wide.index, wide.fillna("–").to_numpy(),
                                                strict=True)]
        return head, rows, tuple(range(1, len(head)))
    numeric = tuple(i for i, c in enumerate(frame.columns)
                    if pd.api.types.is_numeric_dtype(frame[c]) and c != "Année")
    return list(frame.columns), cells.to_numpy().tolist(), numeric


class Figures:
    """The numbered figures of one page."""

    def __init__(self):
        self.count = 0

    def figure(self, chart: alt.TopLevelMixin, data=None) -> str:
        """A ``<figure>``: caption (number, title, text alternative), the chart as inline SVG,
        then its data as a table: ``data`` (header, rows, numeric columns), by default the
        chart's own (`chart_data`)."""
        self.count += 1
        spec = chart.to_dict()
        title, subtitle = _title_of(spec)
        said = spec.get("description") or subtitle  # what the caption adds to the title
        label = spec.get("description") or f"{title}. {subtitle}"
        svg = inline_svg(svg_of(spec), label, f"fig{self.count}")
        head, rows, numeric = chart_data(spec) if data is None else data
        table = (table_html(head, rows, numeric=numeric,
                            caption=f"Données de la figure {self.count}") if head else "")
        return (f'<figure id="figure-{self.count}"><div class="chart">'
                f"<figcaption><strong>Figure {self.count}. {_esc(title)}.</strong> "
                f"{_esc(said)}</figcaption>{svg}</div>"
                + (f'<div class="data">{table}</div>' if table else "") + "</figure>")


def map_figure(figures: Figures, result, year: int) -> str:
    """The map of the communes: what each commune saves against buying alone in ``year``.
    Returns "" when the communes' contours cannot be read, so that the dossier never fails
    for want of a map."""
    from model.report.maps import territory_map_chart

    try:
        chart = territory_map_chart(result.projection.projection, year, "saving",
                                    title=f"Ce que chaque commune économise en {year}",
                                    big=True, width=CHART_WIDTH, height=520)
    except (ModelError, OSError, ValueError, KeyError):
        return ""
    return figures.figure(chart)


# ------------------------------------------------------------------------------------------------
# The page's sections
# ------------------------------------------------------------------------------------------------

def as_view(result) -> View:
    """A `RunResult` as the panels' `View`, so that the panels' French sentences and key
    figures are reused as they are."""
    return View(result.resolved.scenario, result.projection, result.scissor, lp_key="",
                _summary=result.summary)


def _method(view: View) -> str:
    return METHOD_LABELS_FR.get(view.scenario.method, view.scenario.method)


def estimated_words(summary: dict) -> str:
    """Which figures are estimated from national ratios, and for how many communes."""
    fields = summary.get("estimated_fields") or {}
    if not fields:
        return "aucune : toutes les données sont fournies"
    return " ; ".join(f"{COLUMN_LABELS_FR.get(c, c).replace(' (€)', '')} : {n} commune"
                      f"{'s' if n > 1 else ''}" for c, n in fields.items())


def _cover(result, year: int, variant: View | None, today: datetime.date) -> str:
    rows = [(k, readable(v) if isinstance(v, int | float) else v)
            for k, v in cover_rows(result, year) if k != "En bref"]
    at = next((i for i, (k, _) in enumerate(rows) if k == "Version de l'outil"), len(rows))
    rows.insert(at, ("Date du dossier", date_fr(today)))
    rows.append(("Données estimées (ratios nationaux)", estimated_words(result.summary)))
    if variant is not None:
        rows.append(("Variante B comparée", f"{variant.scenario.name} : {_method(variant)}"))
    return f'<section id="couverture"><h2>Le dossier</h2>{_pairs_table(rows)}</section>'


def _key_figures(a: View, b: View | None) -> str:
    fig_a = key_figures(a)
    if b is None:
        body = _pairs_table(fig_a.items())
    else:
        fig_b = key_figures(b)
        body = table_html(["Chiffre clé", "A — scénario de référence", "B — variante"],
                          [[k, v, fig_b.get(k, "–")] for k, v in fig_a.items()],
                          numeric=(1, 2))
    return f'<section id="chiffres"><h2>Chiffres clés</h2>{body}</section>'


def _scissor(figures: Figures, a: View, year: int) -> str:
    proj = a.projection
    frame = proj.projection
    start, end = proj.years[0], proj.years[-1]
    first = charts.first_crossings(a.scissor, "teb_alert", "pooled", 5)
    parts = [
        '<section id="ciseau"><h2>L\'effet ciseau en euros</h2>',
        "<p>Quand les dépenses, numériques comprises, augmentent plus vite que les recettes, "
        "l'épargne brute se réduit : c'est l'effet ciseau. Les figures suivent, année par année, "
        "ce que les recettes apportent et ce que les dépenses prennent, de "
        f"{start} à {end}, pour l'ensemble du territoire.</p>",
        figures.figure(charts.blades_chart(frame, big=True, width=CHART_WIDTH, height=300)),
        figures.figure(charts.attribution_chart(frame, big=True, width=CHART_WIDTH - 160,
                                                title=f"L'épargne brute, de {start} à {end}")),
        figures.figure(charts.burden_chart(frame, a.thresholds, highlight=list(first["commune"]),
                                           big=True, width=CHART_WIDTH, height=360)),
        map_figure(figures, a.result(), year),
        "</section>",
    ]
    return "".join(parts)


def split_rows(result, year: int) -> tuple[list[list[str]], list[str], float]:
    """Per payer in ``year`` under the scenario's method: name, INSEE code, cost if it bought
    alone, amount paid and saving, French-formatted; the total row; the total in euros. Sums are
    made in cents, so the total is the pooled cost to the cent."""
    proj = result.projection
    method = proj.resolved.scenario.method
    alloc = proj.allocation
    paid = (alloc[(alloc["method"] == method) & (alloc["year"] == year)]
            .groupby("payer_id")["amount_eur"].sum())
    inputs = proj.inputs[(proj.inputs["year"] == year) & (proj.inputs["payer_id"] != EPCI_ID)]
    alone = inputs.groupby("payer_id")["standalone_eur"].sum()
    names = proj.resolved.communes.names
    population = proj.resolved.communes.values["population"]
    communes = sorted((c for c in paid.index if c != EPCI_ID),
                      key=lambda c: (-float(population.get(c, 0)), str(names.get(c, c))))
    cents = {c: round(float(paid[c]) * 100) for c in paid.index}
    rows = []
    for c in communes:
        saving = round(float(alone.get(c, 0.0)) * 100) - cents[c]
        rows.append([str(names.get(c, c)), c, eur_cents(float(alone.get(c, 0.0))),
                     eur_cents(cents[c] / 100), eur_cents(saving / 100)])
    if EPCI_ID in cents and cents[EPCI_ID]:
        rows.append(["Budget propre de l'EPCI", "", "–", eur_cents(cents[EPCI_ID] / 100), "–"])
    total = sum(cents.values())
    alone_total = sum(round(float(alone.get(c, 0.0)) * 100) for c in communes)
    foot = ["Total", "", eur_cents(alone_total / 100), eur_cents(total / 100),
            eur_cents((alone_total - sum(cents[c] for c in communes)) / 100)]
    return rows, foot, total / 100


def _split(result, a: View, year: int) -> str:
    rows, foot, total = split_rows(result, year)
    sentence = default_split_sentence(a, year) if a.scenario.method == "voted_key" else ""
    return (f'<section id="repartition"><h2>Qui paie quoi en {year}</h2>'
            f"<p>Méthode : {_esc(_method(a))}. "
            + (f"{_esc(sentence)} " if sentence else "")
            + f"Le coût mutualisé de {year}, {_esc(eur_cents(total))}, est réparti au centime "
            "près ; « économie » : ce que la commune paierait si elle achetait seule, moins ce "
            "qu'elle paie.</p>"
            + table_html(["Commune", "Code INSEE", "Coût si elle achète seule",
                          "Montant payé", "Économie"], rows, foot=foot, numeric=(2, 3, 4),
                         cls="split", caption=f"Répartition {year} par commune")
            + "</section>")


def _negative(views: dict[str, View]) -> str:
    parts = ['<section id="epargne"><h2>Les communes dont l\'épargne brute devient négative'
             "</h2>"]
    for label, view in views.items():
        sentence = negative_eb_sentence(view, max_names=50)
        head = f"{label} : " if len(views) > 1 else ""
        parts.append(f"<p>{_esc(head + sentence)}</p>")
        rows = named_communes(view).get("eb_negative", [])
        if rows:
            df = display_named(rows)
            parts.append(table_html(list(df.columns), df.to_numpy().tolist(), numeric=(1, 2)))
    parts.append("</section>")
    return "".join(parts)


def _variant(figures: Figures, a: View, b: View) -> str:
    change = split_change(a, b)
    start, end = a.projection.years[0], a.projection.years[-1]
    period = f"{start}-{end}"
    label_a, label_b = _method(a), _method(b)
    moved = change[change["change_eur"].abs() >= 0.5]
    more, less = int((moved["change_eur"] > 0).sum()), int((moved["change_eur"] < 0).sum())
    rows = [[r.name, eur(r.paid_a_eur), eur(r.paid_b_eur), eur_signed(r.change_eur),
             "–" if pd.isna(r.change_pct) else
             f"{100 * r.change_pct:+.1f}".replace(".", ",").replace("-", "−") + "\u202f%"]
            for r in change.itertuples()]
    table = (["Payeur", f"Payé avec A, {period}", f"Payé avec B, {period}", "Écart B − A",
              "Écart (% de A)"], rows, (1, 2, 3, 4))
    chart = charts.split_change_chart(change, label_a, label_b, period, big=True,
                                      width=CHART_WIDTH - 200)
    return ('<section id="variante"><h2>Et avec la variante B ?</h2>'
            f"<p>A : {_esc(a.scenario.name)}, {_esc(label_a)}. B : {_esc(b.scenario.name)}, "
            f"{_esc(label_b)}. Sur {period}, avec B, {more} payeur{'s' if more > 1 else ''} "
            f"paie{'nt' if more > 1 else ''} plus et {less} moins.</p>"
            + figures.figure(chart, table) + "</section>")


def _assumptions(result, year: int) -> str:
    tree = report_sheets(result, year)["Hypothèses"]
    parts = ['<section id="hypotheses" class="annex"><h2>Les hypothèses et leurs sources</h2>',
             "<p>Chaque valeur par défaut du modèle, avec sa source ; « [non vérifié] » signale "
             "une hypothèse de modélisation sans source publique.</p>"]
    for topic, group in tree.groupby("Rubrique", sort=False):
        rows = [[r["Hypothèse"], f"{r['Valeur']} {r['Unité'] or ''}".strip(), r["Source"]]
                for _, r in group.iterrows()]
        parts.append(f"<h3>{_esc(topic)}</h3>"
                     + table_html(["Hypothèse", "Valeur", "Source"], rows, cls="assumptions"))
    parts.append("</section>")
    return "".join(parts)


def _annex(result, year: int) -> str:
    annex = financial_annex(result, year)
    head, rows = annex.iloc[0]["Service"], annex.iloc[1:]
    amount = f"Montant {year} (€)"
    settle = [s for s in dict.fromkeys(rows["Règlement"]) if s]
    parts = ['<section id="annexe" class="annex"><h2>Annexe financière</h2>',
             f"<p>{_esc(head)}.</p>"]
    if len(settle) == 1:
        parts.append(f"<p>Règlement : {_esc(settle[0])}.</p>")
    for service, group in rows.groupby("Service", sort=False):
        body = group[group["Commune"] != "Total du service"]
        total = group[group["Commune"] == "Total du service"].iloc[0]
        cols = ["Commune", "Code INSEE", "Clé de référence", f"Montant {year}",
                "Règle qui l'ajuste"] + (["Règlement"] if len(settle) > 1 else [])
        table_rows = [[r["Commune"], r["Code INSEE"], eur_cents(r["Clé de référence (€)"]),
                       eur_cents(r[amount]), r["Règle qui l'ajuste"]]
                      + ([r["Règlement"]] if len(settle) > 1 else [])
                      for _, r in body.iterrows()]
        foot = ["Total du service", "", eur_cents(total["Clé de référence (€)"]),
                eur_cents(total[amount]), ""] + ([""] if len(settle) > 1 else [])
        parts.append(f"<h3>{_esc(service)}</h3>"
                     + table_html(cols, table_rows, foot=foot, numeric=(2, 3)))
    parts.append("</section>")
    return "".join(parts)


def dossier_html(result, *, variant=None, year: int | None = None) -> str:
    """The dossier de plénière of ``result`` (a `model.run.RunResult`) as one self-contained
    HTML page, in French: no script, no external resource, the charts inline as SVG.

    ``variant`` (a second `RunResult`, plan B) adds the comparison of who pays more or less
    under B; ``year`` is the year of the split per commune and of the annex (the first projected
    year by default; a year outside the projection is an `InputError`)."""
    proj = result.projection
    if year is not None and year not in proj.years:
        raise InputError(f"année {year} hors de la projection ({proj.years[0]} à "
                         f"{proj.years[-1]}) : choisissez une année de cette période")
    year = proj.years[0] if year is None else int(year)
    a = as_view(result)
    b = as_view(variant) if variant is not None else None
    name = proj.resolved.epci.name
    start, end = proj.years[0], proj.years[-1]
    today = datetime.date.today()
    figures = Figures()
    headline = result.summary["scissor"]["headline_fr"]
    n_communes = len(proj.resolved.communes.values)
    sub = (f"{n_communes} communes, {start}-{end}. Méthode de répartition : {_method(a)}"
           + (f" ; variante B : {_method(b)}" if b is not None else "") + ".")
    # the sections that draw their own figures
    scissor = _scissor(figures, a, year)
    variant_html = _variant(figures, a, b) if b is not None else ""
    body = "".join([
        '<header><p class="kicker">Dossier de plénière — mutualisation du numérique</p>',
        f"<h1>{_esc(name)} : mutualiser le numérique, qui paie quoi ?</h1>",
        f'<p class="sub">{_esc(sub)}</p></header>',
        f'<section id="en-bref"><h2>En bref</h2><p class="headline">{_esc(headline)}</p>'
        "</section>",
        _cover(result, year, b, today),
        _key_figures(a, b),
        scissor,
        _split(result, a, year),
        _negative({"A": a, "B": b} if b is not None else {"A": a}),
        variant_html,
        _assumptions(result, year),
        _annex(result, year),
        f'<footer><p>Produit par mutualisation-cost-modeller {_esc(result.summary.get("version", ""))}'
        f" le {date_fr(today)}. Données : {_esc(result.summary.get('data_vintage', ''))}.</p>"
        "</footer>",
    ])
    return PAGE.format(title=_esc(f"Dossier de plénière — {name}"), name=_esc(name), css=CSS,
                       body=body)


PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mutualisation-cost-modeller">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""

#: Screen: 18 px text (16 px at least), one readable column. Print: A4, 11.5 pt text, tables
#: and figures kept whole when they fit a page, table headers repeated on every page, the
#: annexes on new pages, page numbers. Colours: the charts' Okabe-Ito palette; dark text on white.
CSS = """
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:#1a1a1a;font-family:Helvetica,Arial,"Liberation Sans",
 "Nimbus Sans",sans-serif;font-size:18px;line-height:1.45}
main{max-width:1000px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:32px;line-height:1.2;margin:4px 0 8px;color:#0b2e4f}
h2{font-size:25px;margin:36px 0 10px;padding-bottom:4px;border-bottom:3px solid #0072B2;
 color:#0b2e4f}
h3{font-size:20px;margin:22px 0 6px}
.kicker{margin:0;font-size:16px;text-transform:uppercase;letter-spacing:.06em;color:#444}
.sub{margin:0 0 8px;color:#333}
.headline{font-size:21px;font-weight:600;background:#eef4fa;border-left:6px solid #0072B2;
 padding:12px 16px;margin:8px 0}
table{border-collapse:collapse;width:100%;margin:8px 0 14px;font-size:16px}
caption{text-align:left;font-weight:bold;padding:4px 0}
th,td{padding:5px 8px;border-bottom:1px solid #c8c8c8;vertical-align:top;text-align:left}
thead th{background:#0b2e4f;color:#fff}
tfoot td{font-weight:bold;border-top:2px solid #1a1a1a;background:#f2f2f2}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.pairs th{width:34%;background:#f2f5f8;font-weight:bold}
#chiffres td:first-child{width:40%}
table.assumptions td:nth-child(2){white-space:normal;min-width:9em}
figure{margin:22px 0 28px}
figure .chart{break-inside:avoid;page-break-inside:avoid}
figcaption{font-size:16px;margin:0 0 8px;color:#222}
figure svg{display:block;max-width:100%;height:auto}
.data table{font-size:16px}
footer{margin-top:40px;font-size:16px;color:#444;border-top:1px solid #ccc}
@page{size:A4;margin:15mm 14mm 17mm}
@page{@bottom-right{content:"Page " counter(page) " / " counter(pages);font-size:9pt;
 font-family:Helvetica,Arial,sans-serif;color:#444}}
@media print{
 body{font-size:11.5pt}
 main{max-width:none;margin:0;padding:0}
 h1{font-size:20pt}
 h2{font-size:16pt;margin-top:18pt;break-after:avoid;page-break-after:avoid}
 h3{font-size:13pt;break-after:avoid;page-break-after:avoid}
 .kicker,.sub,figcaption,footer,caption{font-size:11pt}
 .headline{font-size:13pt}
 table,.data table{font-size:11pt}
 th,td{padding:3pt 5pt}
 thead{display:table-header-group}
 tfoot{display:table-row-group}
 tr,td,th{break-inside:avoid;page-break-inside:avoid}
 #epargne table{break-inside:avoid;page-break-inside:avoid}
 caption{break-after:avoid;page-break-after:avoid}
 figure{break-inside:auto}
 figure svg{max-height:235mm;width:auto;max-width:100%}
 thead th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 tfoot td,.headline,table.pairs th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 #ciseau,#repartition,#variante,.annex{break-before:page;page-break-before:always}
 #ciseau h2,#repartition h2,#variante h2,.annex h2{margin-top:0}
}
"""


# ------------------------------------------------------------------------------------------------
# Writing: the HTML, and the PDF through a Chromium-family browser
# ------------------------------------------------------------------------------------------------

def _known_browser_paths() -> list[Path]:
    """Where Edge, Chrome and Chromium install themselves outside the PATH (Windows, macOS)."""
    paths = []
    if os.name == "nt":
        for env in ("PROGRAMFILES(X86)", "PROGRAMFILES", "LOCALAPPDATA"):
            root = os.environ.get(env)
            if root:
                paths += [Path(root) / "Microsoft" / "Edge" / "Application" / "msedge.exe",
                          Path(root) / "Google" / "Chrome" / "Application" / "chrome.exe",
                          Path(root) / "Chromium" / "Application" / "chrome.exe"]
    elif sys.platform == "darwin":
        paths += [Path("/Applications") / app / "Contents" / "MacOS" / exe for app, exe in (
            ("Google Chrome.app", "Google Chrome"), ("Chromium.app", "Chromium"),
            ("Microsoft Edge.app", "Microsoft Edge"))]
    return paths


def find_browser() -> str | None:
    """A Chromium-family browser (Chromium, Chrome, Edge) able to print a page to PDF, or None."""
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return next((str(p) for p in _known_browser_paths() if p.is_file()), None)


def print_pdf(html_path: str | Path, pdf_path: str | Path, browser: str | None = None,
              timeout: float = PDF_TIMEOUT) -> str | None:
    """Print ``html_path`` to ``pdf_path`` with a headless Chromium-family browser (a fresh
    profile, every host name unresolvable: nothing reaches the network). Returns None when the
    PDF is written, else the French reason why it is not (never raises for a missing or
    failing browser)."""
    html_path, pdf_path = Path(html_path).absolute(), Path(pdf_path).absolute()
    browser = browser or find_browser()
    advice = f"ouvrez {html_path.name} et imprimez-le en PDF depuis le navigateur (Ctrl+P)"
    if browser is None:
        return ("PDF non produit : aucun navigateur Chromium, Google Chrome ou Microsoft Edge "
                f"n'a été trouvé sur ce poste ; {advice}.")
    args = [browser, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--no-pdf-header-footer", "--print-to-pdf-no-header",
            f"--print-to-pdf={pdf_path}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    with tempfile.TemporaryDirectory(prefix="mcm-pdf-", ignore_cleanup_errors=True) as profile:
        args += [f"--user-data-dir={profile}", html_path.as_uri()]
        try:
            proc = subprocess.run(args, capture_output=True, timeout=timeout, check=False,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return (f"PDF non produit : le navigateur ({Path(browser).name}) n'a pas fini en "
                    f"{timeout:.0f} s ; {advice}.")
        except OSError as exc:
            return (f"PDF non produit : le navigateur ({browser}) ne démarre pas "
                    f"({exc.strerror or exc}) ; {advice}.")
    try:
        with pdf_path.open("rb") as f:
            ok = f.read(5) == b"%PDF-"
    except OSError:
        ok = False
    if not ok:
        return (f"PDF non produit : le navigateur ({Path(browser).name}) a échoué (code "
                f"{proc.returncode}) ; {advice}.")
    return None


def write_dossier(result, out_dir: str | Path, *, variant=None, year: int | None = None,
                  pdf: bool = True) -> DossierFiles:
    """Write ``dossier.html`` (`dossier_html`) and, when ``pdf`` and a browser prints it,
    ``dossier.pdf`` into ``out_dir``, all or nothing: ``out_dir`` must be absent, empty or a
    folder this tool wrote (`model.report.export.atomic_dir`), and may not hold the scenario.

    Returns the paths written (a list), with ``pdf_note``, the French reason why there is no
    PDF (the HTML is written all the same), and ``seconds`` per file."""
    out_dir = Path(out_dir)
    protect = scenario_inputs(getattr(result.resolved, "scenario", None))
    started = time.perf_counter()
    text = dossier_html(result, variant=variant, year=year)
    seconds = {"html": time.perf_counter() - started}
    note = None
    with atomic_dir(out_dir, protect) as tmp:
        (tmp / HTML_NAME).write_text(text, encoding="utf-8")
        if pdf:
            started = time.perf_counter()
            note = print_pdf(tmp / HTML_NAME, tmp / PDF_NAME)
            seconds["pdf"] = time.perf_counter() - started
            if note is not None:
                (tmp / PDF_NAME).unlink(missing_ok=True)
    paths = [out_dir / HTML_NAME] + ([out_dir / PDF_NAME] if pdf and note is None else [])
    return DossierFiles(paths, note, seconds)


def dossier_results(scenario, variant_method: str | None = None):
    """``scenario`` run (a `RunResult`), and its variant under ``variant_method`` when given
    (the same scenario, only the split method changed; the LP is solved once for both)."""
    sim = Simulation()
    result = sim.view(scenario).result()
    if variant_method is None:
        return result, None
    b = replace(scenario, name=f"{scenario.name} — variante", method=variant_method)
    return result, sim.view(b).result()


__all__ = ["DossierFiles", "dossier_html", "dossier_results", "find_browser", "print_pdf",
           "write_dossier"]
