"""The Plénière panel (presenters, served with Voilà): few controls, large French charts, no code."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import ipywidgets as w
import pandas as pd

from model.costs import POOLS
from model.data.assumptions import assumption_values, load_assumptions
from model.report import charts
from model.report.labels import METHOD_LABELS_FR
from model.scenario import METHODS, Scenario
from model.ui.panels import (
    PROBABILITY_DRAWS,
    WIDE,
    LiveChart,
    Panel,
    PercentSlider,
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
    scenario_overrides,
)


class PlenaryPanel(Panel):
    """Two scenarios side by side in large French charts: A as on file, B a variant with a
    different method, licence growth or EPCI share. For each: what digital costs do to the
    territory's savings in one sentence (euros), the blades in euros and the waterfall of the
    épargne brute on a scale shared by A and B, the estimated finances and the communes whose
    épargne brute turns negative, named. Few controls, no code."""

    def __init__(self, scenario: Scenario | str | Path | None = None,
                 simulation: Simulation | None = None, offline: bool = True,
                 chart_width: int = 560):
        if offline:
            enable_offline_charts()
        self.sim = simulation or Simulation()
        self.width = chart_width
        self.scenarios = bundled_scenarios()
        first = as_scenario(scenario)
        defaults = assumption_values(load_assumptions())
        self.scenario = w.Dropdown(options=list(self.scenarios.items()), description="Territoire",
                                   style=WIDE, layout=w.Layout(width="560px"))
        match = [p for p in self.scenarios.values() if as_scenario(p) == first]
        self.scenario.value = match[0] if match else next(iter(self.scenarios.values()))
        self.method_b = w.Dropdown(options=[(METHOD_LABELS_FR[m], m) for m in METHODS],
                                   value="population", description="Méthode B", style=WIDE,
                                   layout=w.Layout(width="460px"))
        self.licences_b = PercentSlider("Hausse des licences B", defaults["licences"]["growth"],
                                        0.0, 0.20, 0.01, digits=0)
        self.epci_share_b = PercentSlider("Part EPCI B", 0.0, 0.0, 1.0, 0.05, digits=0)
        self.status = w.HTML()
        self.figures = w.HTML()
        self.blades = {k: LiveChart(charts.blades_chart) for k in "AB"}
        self.waterfall = {k: LiveChart(charts.attribution_chart) for k in "AB"}
        self.burden = {k: LiveChart(charts.burden_chart) for k in "AB"}
        self.titles = {k: w.HTML() for k in "AB"}
        self.headlines = {k: w.HTML() for k in "AB"}
        self.notes = {k: w.HTML() for k in "AB"}
        self.draws_button = w.Button(
            description=f"Incertitude sur A : lancer {PROBABILITY_DRAWS} tirages", icon="random",
            layout=w.Layout(width="380px"),
            tooltip="Tire au hasard la hausse des licences, celle des recettes et le saut SaaS")
        self.draws_message = w.HTML()
        self.fan = LiveChart(charts.eb_fan_chart)
        self.proba = LiveChart(charts.crossing_probability_chart)
        self._draws_for = None
        big_css = w.HTML("<style>.mcm-plenary .widget-label, .mcm-plenary select,"
                         ".mcm-plenary .widget-readout, .mcm-plenary label{font-size:18px}"
                         "</style>")
        controls = w.HBox([self.scenario, self.method_b, self.licences_b, self.epci_share_b],
                          layout=w.Layout(flex_flow="row wrap"))
        # columns keep their width: on a narrow screen (a 1280 px projector) B goes under A
        # instead of both being squeezed and their charts cut
        column = w.Layout(width=f"{chart_width + 180}px", margin="0 12px 0 0", flex="0 0 auto")

        def side_by_side(widgets: dict) -> w.HBox:
            return w.HBox([w.Box([widgets[k]], layout=column) for k in "AB"],
                          layout=w.Layout(flex_flow="row wrap"))

        self.widget = w.VBox([
            big_css, controls, self.status,
            side_by_side({k: w.VBox([self.titles[k], self.headlines[k]]) for k in "AB"}),
            # the blades first, A then B (the browser test reads the second chart as B's)
            side_by_side({k: self.blades[k].widget for k in "AB"}),
            side_by_side({k: self.waterfall[k].widget for k in "AB"}),
            side_by_side(self.notes),
            self.figures,
            w.HBox([self.burden[k].widget for k in "AB"]),
            w.HTML("<h3>Et si les hypothèses bougent ?</h3>"), self.draws_button,
            self.draws_message, w.HBox([self.fan.widget, self.proba.widget]),
        ])
        self.widget.add_class("mcm-plenary")
        self._finish_layout(offline, "Plénière")
        self.draws_button.on_click(self.run_draws)
        self.scenario.observe(self.request, "value")
        self.method_b.observe(self.request, "value")
        self.licences_b.observe_value(self.request)
        self.epci_share_b.observe_value(self.request)
        self.views: dict[str, View] = {}
        self.refresh()

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
        self.name_page(views["A"].projection.resolved.epci.name)
        warn = [infeasible_message(v) for v in views.values() if v.infeasible_years]
        self.show(warn[0] if warn else views["A"].projection.resolved.epci.name,
                  "warning" if warn else "info")
        figs = {k: key_figures(v) for k, v in views.items()}
        table = pd.DataFrame({"A — scénario de référence": figs["A"],
                              "B — variante": figs["B"]})
        table.index.name = "Indicateur"
        self.figures.value = html_table(table, None, big=True, index=True)
        # one euro scale for A and B: the variant's difference is read, not guessed
        blades_y = charts.blades_domain(*(charts.blades_data(v.projection.projection)
                                          for v in views.values()))
        waterfall_x = charts.waterfall_domain(*(charts.waterfall_data(v.projection.projection)
                                                for v in views.values()))
        for k, view in views.items():
            proj = view.projection
            frame = proj.projection
            label = "A — scénario de référence" if k == "A" else "B — variante"
            sentence = (default_split_sentence(view, proj.years[0])
                        if view.scenario.method == "voted_key" else "")
            self.titles[k].value = (f"<h2 style='margin:4px 0'>{label}</h2><div style="
                                    f"'font-size:18px'>{METHOD_LABELS_FR[view.scenario.method]}"
                                    "</div>" + (f"<div style='font-size:16px;margin-top:4px'>"
                                                f"{html.escape(sentence)}</div>"
                                                if sentence else ""))
            self.headlines[k].value = headline_html(headline(view), big=True)
            n_est = estimated_count(view)
            n_all = len(proj.resolved.communes.values)
            lines = []
            if n_est:
                lines.append(f"Finances estimées à partir de moyennes nationales pour {n_est} "
                             f"commune{'s' if n_est > 1 else ''} sur {n_all} : montants "
                             "estimés tant que leurs comptes ne sont pas déposés.")
            lines.append(negative_eb_sentence(view))
            self.notes[k].value = ("<div style='font-family:Helvetica,Arial,sans-serif;"
                                   "font-size:18px;line-height:1.4'>"
                                   + "<br>".join(html.escape(t) for t in lines) + "</div>")
            sig = (view.lp_key, view.scenario.method)
            self.blades[k].update((*sig, blades_y), frame, big=True, y_domain=blades_y,
                                  title=f"L'effet ciseau en euros — {k}", width=self.width,
                                  height=380)
            self.waterfall[k].update((*sig, waterfall_x), frame, big=True, x_domain=waterfall_x,
                                     title=f"L'épargne brute, de {proj.years[0]} à "
                                           f"{proj.years[-1]} — {k}", width=self.width - 160)
            first = charts.first_crossings(view.scissor, "teb_alert", "pooled", 5)
            self.burden[k].update(sig, frame, view.thresholds, highlight=list(first["commune"]),
                                  big=True, width=self.width, height=340)
