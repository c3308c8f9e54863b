"""The Plénière panel (presenters, served with Voilà): few controls, large French charts, no code."""

from __future__ import annotations

import base64
import dataclasses
import html
import tempfile
from pathlib import Path

import ipywidgets as w
import pandas as pd

from model.costs import POOLS
from model.data.assumptions import assumption_values, load_assumptions
from model.report import charts
from model.report.labels import METHOD_LABELS_FR
from model.report.maps import MAP_MEASURES_FR, territory_map_chart
from model.scenario import METHODS, Scenario
from model.ui.panels import (
    PROBABILITY_DRAWS,
    WIDE,
    LiveChart,
    Panel,
    PercentSlider,
    _slug,
    as_scenario,
    bundled_scenarios,
    draw_scenario,
    enable_offline_charts,
    headline_html,
)
from model.ui.views import (
    Simulation,
    View,
    default_split_sentence,
    estimated_count,
    headline,
    html_table,
    infeasible_message,
    key_figures,
    message_html,
    negative_eb_sentence,
    payer_signature,
    scenario_overrides,
    split_change,
)

#: The variant's method by default: a key every elected official knows, which moves money
#: between communes (with estimated usage volumes, the usage key equals the population key).
DEFAULT_METHOD_B = "potentiel_financier"


class PlenaryPanel(Panel):
    """One screen for a plenary room (1920x1080; usable at 1280x720): the territory and the
    headline sentence in euros, then three large charts: a map of the communes, the scissor in
    euros, and who pays more or less under a variant B (another method, licence growth or EPCI
    share) than under A, the scenario on file. Below, the key figures of A and B side by side.
    « Pour aller plus loin » opens the rest (B's scissor, the épargne brute waterfalls, the
    communes' burdens, the uncertainty draws). Few controls, no code, no jargon."""

    def __init__(self, scenario: Scenario | str | Path | None = None,
                 simulation: Simulation | None = None, offline: bool = True,
                 chart_width: int = 440):
        if offline:
            enable_offline_charts()
        self.sim = simulation or Simulation()
        self.width = chart_width
        self.scenarios = bundled_scenarios()
        first = as_scenario(scenario)
        defaults = assumption_values(load_assumptions())
        self.scenario = w.Dropdown(options=list(self.scenarios.items()), description="Territoire",
                                   style=WIDE, layout=w.Layout(width="470px"))
        match = [p for p in self.scenarios.values() if as_scenario(p) == first]
        self.scenario.value = match[0] if match else next(iter(self.scenarios.values()))
        self.method_b = w.Dropdown(options=[(METHOD_LABELS_FR[m], m) for m in METHODS],
                                   value=DEFAULT_METHOD_B, description="Méthode B", style=WIDE,
                                   layout=w.Layout(width="360px"))
        self.licences_b = PercentSlider("Hausse des licences B", defaults["licences"]["growth"],
                                        0.0, 0.20, 0.01, digits=0)
        self.epci_share_b = PercentSlider("Part EPCI B", 0.0, 0.0, 1.0, 0.05, digits=0)
        self.status = w.HTML()
        self.heading = w.HTML()
        self.headline = w.HTML()
        self.figures = w.HTML()
        self.map_measure = w.Dropdown(options=[(v.split(" (")[0], k) for k, v in
                                               MAP_MEASURES_FR.items()],
                                      value="saving", description="Carte",
                                      layout=w.Layout(width="280px"))
        self.map = LiveChart(territory_map_chart)
        self.blades = {k: LiveChart(charts.blades_chart) for k in "AB"}
        self.change = LiveChart(charts.split_change_chart)
        self.waterfall = {k: LiveChart(charts.attribution_chart) for k in "AB"}
        self.burden = {k: LiveChart(charts.burden_chart) for k in "AB"}
        self.notes = w.HTML()
        self.draws_button = w.Button(
            description=f"Incertitude sur A : lancer {PROBABILITY_DRAWS} tirages", icon="random",
            layout=w.Layout(width="380px"),
            tooltip="Tire au hasard la hausse des licences, celle des recettes et le saut SaaS")
        self.draws_message = w.HTML()
        self.dossier_button = w.Button(description="Dossier de plénière (HTML et PDF)",
                                       icon="file", layout=w.Layout(width="330px"),
                                       tooltip="Une page autonome à ouvrir sans serveur, et son "
                                               "PDF à joindre à la délibération")
        self.dossier_link = w.HTML()
        self.fan = LiveChart(charts.eb_fan_chart)
        self.proba = LiveChart(charts.crossing_probability_chart)
        self._draws_for = None
        controls = w.HBox([self.scenario, self.method_b, self.licences_b, self.epci_share_b,
                           self.map_measure],
                          layout=w.Layout(flex_flow="row wrap", align_items="center"))
        card = w.Layout(margin="0 18px 0 0", flex="0 0 auto")
        main = w.HBox([w.Box([self.map.widget], layout=card),
                       w.Box([self.blades["A"].widget], layout=card),
                       w.Box([self.change.widget], layout=card)],
                      layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
        pair = w.Layout(flex_flow="row wrap", align_items="flex-start")
        more = w.VBox([
            w.HBox([self.blades["B"].widget, self.notes], layout=pair),
            w.HBox([self.waterfall[k].widget for k in "AB"], layout=pair),
            w.HBox([self.burden[k].widget for k in "AB"], layout=pair),
            w.HTML("<h3>Et si les hypothèses bougent ?</h3>"), self.draws_button,
            self.draws_message, w.HBox([self.fan.widget, self.proba.widget], layout=pair),
        ])
        self.more = w.Accordion([more], selected_index=None)
        self.more.set_title(0, "Pour aller plus loin : B en détail, l'épargne brute, les communes, "
                               "l'incertitude")
        self.widget = w.VBox([
            w.HTML(PLENARY_CSS),
            w.HBox([self.heading, w.VBox([self.dossier_button, self.dossier_link])],
                   layout=w.Layout(flex_flow="row wrap", justify_content="space-between")),
            controls, self.status, self.headline, main,
            self.figures, self.more,
        ])
        self.widget.add_class("mcm-plenary")
        self._finish_layout(offline, "Plénière")
        self.draws_button.on_click(self.run_draws)
        self.dossier_button.on_click(self.make_dossier)
        self.more.observe(self._on_more, "selected_index")
        self.scenario.observe(self.request, "value")
        self.method_b.observe(self.request, "value")
        self.map_measure.observe(self.request, "value")
        self.licences_b.observe_value(self.request)
        self.epci_share_b.observe_value(self.request)
        self.views: dict[str, View] = {}
        self.refresh()

    def _on_more(self, _change) -> None:
        """« Pour aller plus loin » opened: draw what waited for it."""
        if self.more.selected_index == 0:
            for live in (*self.waterfall.values(), *self.burden.values()):
                live.flush()

    def run_draws(self, _button=None) -> None:
        """Scenario A under uncertainty: the fan of the territory's épargne brute in euros and
        the probability of crossing the alert threshold, from a few hundred draws (on the
        button only, never on a slider move)."""
        view = self.views.get("A")
        if view is None:
            return
        result = draw_scenario(view, self.draws_message)
        if result is None:
            return
        name = view.projection.resolved.epci.name
        self._draws_for = self.scenario.value
        self.fan.update(("fan", self._draws_for), result, territory=name, big=True,
                        width=self.width)
        self.proba.update(("proba", self._draws_for), result, territory=name, big=True,
                          width=self.width)
        self.draws_message.value = message_html(
            f"{len(result.draws)} tirages de la hausse des licences, de celle des recettes et du "
            "saut SaaS ; les autres hypothèses sont celles de A.", "info")

    def make_dossier(self, _button=None) -> list[Path]:
        """The dossier de plénière of A and B as on screen (HTML and, when a browser prints it,
        PDF), offered as download links; the files written (empty on failure)."""
        from model.report.dossier import write_dossier

        if not self.views:
            return []
        self.dossier_link.value = message_html("Préparation du dossier…")
        folder = Path(tempfile.mkdtemp(prefix="mcm-dossier-")) / "dossier"
        files = self.compute(lambda: write_dossier(self.views["A"].result(), folder,
                                                   variant=self.views["B"].result()))
        if not files:
            self.dossier_link.value = ""
            return []
        links = []
        for path in files:
            mime = "application/pdf" if path.suffix == ".pdf" else "text/html"
            data = base64.b64encode(path.read_bytes()).decode()
            name = f"dossier_{_slug(self.views['A'].projection.resolved.epci.name)}{path.suffix}"
            links.append(f"<a download='{name}' href='data:{mime};base64,{data}' style='font-"
                         f"size:18px;font-weight:bold'>⬇ {name} ({path.stat().st_size // 1024}"
                         " Ko)</a>")
        note = files.pdf_note
        self.dossier_link.value = " ".join(links) + (
            message_html(note, "warning") if note else "")
        return list(files)

    def scenarios_ab(self) -> tuple[Scenario, Scenario]:
        a = as_scenario(self.scenario.value)
        b = dataclasses.replace(
            a, name=f"{a.name} — variante", method=self.method_b.value,
            assumptions=scenario_overrides(a.assumptions, {
                "licences": {"growth": self.licences_b.value},
                "allocation": {"epci_share": {p: self.epci_share_b.value for p in POOLS}}}))
        return a, b

    def refresh(self, *_args) -> None:
        def both():
            a, b = self.scenarios_ab()
            return {"A": self.sim.view(a), "B": self.sim.view(b)}

        views = self.compute(both)
        if views is None:
            return
        self.views = views
        if self._draws_for is not None and self._draws_for != self.scenario.value:
            self._draws_for = None
            self.fan.clear("Territoire changé : relancez les tirages.")
            self.proba.clear("")
            self.draws_message.value = ""
        self.compute(lambda: self._draw(views))

    def _draw(self, views: dict[str, View]) -> None:
        a, b = views["A"], views["B"]
        proj = a.projection
        name = proj.resolved.epci.name
        start, end = proj.years[0], proj.years[-1]
        period = f"{start}-{end}"
        self.name_page(name)
        warn = [infeasible_message(v) for v in views.values() if v.infeasible_years]
        if warn:
            self.show(warn[0], "warning")
        else:
            self.status.value = ""
        n_all = len(proj.resolved.communes.values)
        self.heading.value = (f"<h1 class='mcm-title'>{html.escape(name)} : mutualiser le "
                              f"numérique, qui paie quoi ?</h1><div class='mcm-sub'>{n_all} "
                              f"communes, {period}. A : {html.escape(METHOD_LABELS_FR[a.scenario.method])}"
                              f" ; B : {html.escape(METHOD_LABELS_FR[b.scenario.method])}.</div>")
        sentence = (default_split_sentence(a, start) if a.scenario.method == "voted_key" else "")
        self.headline.value = headline_html(headline(a), big=True) + (
            f"<div class='mcm-sub'>{html.escape(sentence)}</div>" if sentence else "")
        figs = {k: key_figures(v) for k, v in views.items()}
        table = pd.DataFrame({"A — scénario de référence": figs["A"], "B — variante": figs["B"]})
        table.index.name = "Chiffres clés"
        self.figures.value = html_table(table, None, big=True, index=True)
        n_est = estimated_count(a)
        lines = [negative_eb_sentence(v) for v in (a, b)]
        if n_est:
            lines.insert(0, f"Finances estimées à partir de moyennes nationales pour {n_est} "
                            f"commune{'s' if n_est > 1 else ''} sur {n_all} : montants estimés "
                            "tant que leurs comptes ne sont pas déposés.")
        self.notes.value = ("<div class='mcm-notes'>"
                            + "<br>".join(html.escape(t) for t in dict.fromkeys(lines))
                            + "</div>")
        # one euro scale for A and B: the variant's difference is read, not guessed
        blades_y = charts.blades_domain(*(charts.blades_data(v.projection.projection)
                                          for v in views.values()))
        waterfall_x = charts.waterfall_domain(*(charts.waterfall_data(v.projection.projection)
                                                for v in views.values()))
        frame_a = proj.projection
        measure = self.map_measure.value
        self.map.update((a.lp_key, a.scenario.method, measure), frame_a, start,
                        measure, title=f"{MAP_TITLES_FR[measure]}, {start}", big=True,
                        width=340, height=320)
        change = split_change(a, b)
        self.change.update((a.lp_key, b.lp_key, a.scenario.method, b.scenario.method), change,
                           METHOD_LABELS_FR[a.scenario.method],
                           METHOD_LABELS_FR[b.scenario.method], period, big=True,
                           width=300)
        for k, view in views.items():
            frame = view.projection.projection
            sig = (view.lp_key, view.scenario.method)
            visible = k == "A" or self.more.selected_index == 0
            territory = (payer_signature(frame),)  # the EPCI's totals: not moved by a method
            self.blades[k].update((*territory, blades_y), frame, big=True, y_domain=blades_y,
                                  title=f"L'effet ciseau en euros — {k}", width=self.width,
                                  height=220, visible=True)
            self.waterfall[k].update((*territory, waterfall_x), frame, big=True, x_domain=waterfall_x,
                                     title=f"L'épargne brute, de {start} à {end} — {k}",
                                     width=self.width - 160, visible=visible)
            first = charts.first_crossings(view.scissor, "teb_alert", "pooled", 5)
            self.burden[k].update(sig, frame, view.thresholds, highlight=list(first["commune"]),
                                  big=True, width=self.width, height=340, visible=visible)


#: Map titles, per measure.
MAP_TITLES_FR = {"saving": "Économie par commune", "share": "Part de chaque commune",
                 "burden": "Charge numérique"}

#: Projector typography: large text, the headline first.
PLENARY_CSS = (
    "<style>.mcm-plenary .widget-label, .mcm-plenary select, .mcm-plenary .widget-readout,"
    ".mcm-plenary label{font-size:18px}.mcm-plenary h1.mcm-title{font-size:30px;margin:2px 0}"
    ".mcm-plenary .mcm-sub{font-size:18px;color:#333;margin:2px 0 6px 0}"
    ".mcm-plenary .mcm-notes{font-size:18px;line-height:1.4;max-width:560px;margin:40px 0 0 12px}"
    ".mcm-plenary .mcm-big{font-size:18px}.mcm-plenary .mcm-big td,.mcm-plenary .mcm-big th"
    "{padding:4px 12px}.mcm-plenary .lm-AccordionPanel-title, .mcm-plenary .p-Collapse-header"
    "{font-size:18px}</style>"
)
