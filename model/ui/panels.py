"""ipywidgets panels used by the notebooks: Simulateur, Effet ciseau and Plénière.

The panels are thin: they turn widget values into a :class:`~model.scenario.Scenario`, ask a
:class:`~model.ui.views.Simulation` for the matching view (the LP runs only when its inputs
change) and redraw only the outputs whose inputs changed. Each chart is one ``alt.JupyterChart``
whose ``.chart`` is replaced (offline: its JavaScript comes from vl-convert, nothing is fetched
from the internet). Every error reaches the screen as a French message, never a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import html
import logging
import shutil
import tempfile
import threading
import time
import unicodedata
from pathlib import Path

import altair as alt
import ipywidgets as w
import pandas as pd

from model.costs import POOL_LABELS_FR, POOLS
from model.data.bundled import DATA_DIR, load_epci, search_epci
from model.errors import InputError, ModelError
from model.projection import EPCI_ID
from model.report import charts
from model.report.export import write_report
from model.report.labels import INDICATOR_LABELS_FR, METHOD_LABELS_FR
from model.report.maps import MAP_MEASURES_FR, territory_map_chart
from model.scenario import METHODS, Scenario
from model.ui.vega import PageTitle, VegaChart, runtime
from model.ui.views import (
    Simulation,
    View,
    attribution_table,
    commune_options,
    default_split_sentence,
    display_commune_table,
    display_crossings,
    display_named,
    estimated_invitation,
    headline,
    html_table,
    infeasible_message,
    message_html,
    named_communes,
    payer_signature,
    scenario_overrides,
    table_signature,
)

log = logging.getLogger(__name__)

SCENARIO_DIR = DATA_DIR / "scenarios"
DEFAULT_SCENARIO = SCENARIO_DIR / "beauce_loiretaine.yaml"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_SEARCH_HITS = 60
WIDE = {"description_width": "initial"}
#: Fonts of at least 14 px on the dashboards (RGAA), focus visible for keyboard use.
PANEL_CSS = ("<style>.mcm-panel .widget-label, .mcm-panel .widget-label-basic,"
             ".mcm-panel .widget-readout, .mcm-panel select,"
             ".mcm-panel input, .mcm-panel button, .mcm-panel .widget-html-content,"
             ".mcm-panel .lm-TabBar-tab, .mcm-panel table{font-size:max(14px, 1em)}"
             ".mcm-panel :focus-visible{outline:3px solid #0072b2;outline-offset:1px}"
             ".mcm-busy .mcm-chart{opacity:.45;transition:opacity .15s}</style>")
#: Seconds a panel waits for more changes before it recomputes (slider arrow presses).
COALESCE_S = 0.06
#: Draws of the crossing probability (a button, never a slider, runs them: about 1 s for 43
#: communes).
PROBABILITY_DRAWS = 200
PROBABILITY_LEVELS_FR = [("Ensemble du territoire", "epci"), ("Au moins une commune", "commune")]


def headline_html(text: str, big: bool = False) -> str:
    """The headline sentence, escaped, in a plain readable box."""
    size = 22 if big else 16
    return (f"<div style='font-family:Helvetica,Arial,sans-serif;font-size:{size}px;"
            f"line-height:1.35;margin:6px 0;padding:6px 10px;border-left:4px solid #0072B2;"
            f"background:#f4f8fb'>{html.escape(text)}</div>")


def _fr_law(law) -> str:
    lo, mode, hi = (float(v) for v in law)
    return f"de {_fr_pct(lo)} à {_fr_pct(hi)} par an (le plus probable : {_fr_pct(mode)})"


def enable_offline_charts() -> None:
    """Charts drawn by the page's one Vega runtime (bundled by vl-convert, cached on disk):
    nothing is fetched from the internet. Plain Altair charts displayed in a notebook use
    Altair's own offline renderer."""
    alt.renderers.enable("jupyter", offline=True)
    runtime()


def bundled_scenarios() -> dict[str, Path]:
    """French scenario names -> YAML paths of data/scenarios/."""
    out = {}
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        try:
            out[Scenario.from_yaml(path).name or path.stem] = path
        except InputError:
            continue
    return out


def as_scenario(scenario: Scenario | str | Path | None) -> Scenario:
    """A Scenario from a Scenario, a YAML path, a bundled scenario's file stem, or None."""
    if scenario is None:
        return Scenario.from_yaml(DEFAULT_SCENARIO)
    if isinstance(scenario, Scenario):
        return scenario
    path = Path(scenario)
    if not path.exists() and (SCENARIO_DIR / f"{path.stem}.yaml").exists():
        path = SCENARIO_DIR / f"{path.stem}.yaml"
    return Scenario.from_yaml(path)


def placeholder_chart(text: str = "Aucun résultat à afficher") -> alt.Chart:
    return alt.Chart(pd.DataFrame({"t": [text]})).mark_text(fontSize=16, color="#777").encode(
        text="t:N").properties(width=400, height=60)


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "_".join("".join(c if c.isalnum() else " " for c in text).lower().split())[:60]


def short_error(exc: BaseException) -> str:
    """The first line of an unexpected error, for a French message (no stack, no traceback)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__} : {first[:300]}"


def _fr_pct(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f}".replace(".", ",") + "\u202f%"


class PercentSlider(w.HBox):
    """A slider over a ratio with a French readout (« 5,0 % »); changes fire on release."""

    def __init__(self, description: str, value: float, lo: float, hi: float, step: float,
                 digits: int = 1):
        self.digits = digits
        self.slider = w.FloatSlider(value=value, min=lo, max=hi, step=step, readout=False,
                                    continuous_update=False, description=description,
                                    style=WIDE, layout=w.Layout(
                                        # the label at 14 px (about 7.6 px a character) and
                                        # a track of at least 120 px
                                        width=f"{max(300, round(7.6 * len(description)) + 120)}px"))
        self.readout = w.Label(_fr_pct(value, digits))
        self.slider.observe(self._sync, "value")
        super().__init__([self.slider, self.readout])

    def _sync(self, change):
        self.readout.value = _fr_pct(change["new"], self.digits)

    @property
    def value(self) -> float:
        return self.slider.value

    @value.setter
    def value(self, v: float) -> None:
        self.slider.value = v

    def observe_value(self, fn) -> None:
        self.slider.observe(fn, "value")


class LiveChart:
    """One chart widget (:class:`~model.ui.vega.VegaChart`) redrawn only when the signature of
    its inputs changes; spec, title, text alternative and data table are swapped together.

    A chart that is not on screen (another tab) keeps its update pending and draws it when it
    is shown (:meth:`flush`), so a widget change only pays for what the user sees.
    """

    def __init__(self, build):
        self.build = build
        self.signature = None
        self.pending: tuple | None = None
        self.widget = VegaChart()
        self.chart: alt.TopLevelMixin | None = None
        self._show(placeholder_chart("Calcul en cours…"))
        self.redraws = 0

    def _show(self, chart) -> None:
        spec = chart.to_dict(validate=False)  # the chart functions' specs are validated in tests
        title = spec.get("title", "")
        title = title.get("text", "") if isinstance(title, dict) else title
        self.chart = chart
        self.widget.show(spec, title=" ".join(title) if isinstance(title, list) else str(title),
                         description=spec.get("description", ""),
                         table_html=charts.chart_table_html(spec))

    def update(self, signature, *args, visible: bool = True, **kwargs) -> bool:
        if signature == self.signature:
            self.pending = None
            return False
        self.pending = (signature, args, kwargs)
        return self.flush() if visible else False

    def flush(self) -> bool:
        """Draw the pending update, if any."""
        if self.pending is None:
            return False
        signature, args, kwargs = self.pending
        # Altair checks every object against the schema as it is built: the chart functions'
        # specs are validated in the tests, the screen does not pay for it again
        with alt.utils.schemapi.debug_mode(False):
            self._show(self.build(*args, **kwargs))
        self.signature = signature
        self.pending = None
        self.redraws += 1
        return True

    def clear(self, text: str) -> None:
        self._show(placeholder_chart(text))
        self.signature = self.pending = None

    @property
    def spec(self) -> dict:
        return self.widget.spec


def draw_scenario(view: View, message: w.HTML):
    """`PROBABILITY_DRAWS` sensitivity draws of the scenario on screen (seed 0), with « Tirages en
    cours… » then a French message in `message` on failure (None): never a traceback."""
    from model.sensitivity import sensitivity

    message.value = message_html("Tirages en cours…")
    try:
        return sensitivity(view.projection.resolved, draws=PROBABILITY_DRAWS, seed=0)
    except ModelError as exc:
        message.value = message_html(str(exc), "error")
    except Exception as exc:
        log.debug("draws failed", exc_info=True)
        message.value = message_html(f"Les tirages n'ont pas abouti ({short_error(exc)}).",
                                     "error")
    return None


class Panel:
    """Common plumbing: French status messages and display of the root widget."""

    widget: w.Widget

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def show(self, text: str, kind: str = "info") -> None:
        self.status.value = message_html(text, kind)

    def _finish_layout(self, offline: bool, page: str) -> None:
        """Prepend what every panel needs to its root widget: the page's one Vega runtime, the
        browser tab's title (the territory, set by :meth:`name_page`) and fonts of at least
        14 px on every control and text (RGAA)."""
        self.page = page
        self.page_title = PageTitle(title=page)
        self.widget.add_class("mcm-panel")
        self.widget.children = (*([runtime()] if offline else []), self.page_title,
                                w.HTML(PANEL_CSS), *self.widget.children)

    def request(self, *_args) -> None:
        """A control changed: say « Calcul en cours… » at once, then refresh when the changes stop
        coming. In a kernel the refresh waits `COALESCE_S` and restarts the wait on each new
        change, so five arrow presses on a slider cost one computation with the last value;
        without an event loop (tests, scripts) it refreshes at once."""
        if getattr(self, "_suspend", False):
            return
        self.busy(True)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._run_request()
            return
        if self._request_handle is not None:
            self._request_handle.cancel()
        self._request_handle = loop.call_later(COALESCE_S, self._run_request)

    _request_handle: asyncio.TimerHandle | None = None

    def _run_request(self) -> None:
        self._request_handle = None
        try:
            self.refresh()
        finally:
            self.busy(False)

    def busy(self, on: bool) -> None:
        """Shade the charts and say « Calcul en cours… » while a computation is under way."""
        if on:
            self.widget.add_class("mcm-busy")
            self.show("Calcul en cours…", "info")
        else:
            self.widget.remove_class("mcm-busy")

    def name_page(self, territory: str) -> None:
        self.page_title.title = f"{territory} — {self.page}"

    def _sync_communes(self, view: View) -> str:
        """Refresh the commune selector for the territory of `view` (keeping the commune shown
        when it is still there, else the whole EPCI, without firing its handler); the choice."""
        options = commune_options(view)
        if [tuple(o) for o in self.commune.options] != options:
            self._suspend = True
            try:
                keep = self.commune.value
                self.commune.options = options
                self.commune.value = keep if keep in {v for _, v in options} else EPCI_ID
            finally:
                self._suspend = False
        return self.commune.value or EPCI_ID

    def compute(self, fn, hint: str = ""):
        """``fn()``, or None after showing a French message: the model's own message for bad
        input or settings, the first line of anything unexpected; never a traceback."""
        try:
            return fn()
        except ModelError as exc:
            self.show(str(exc), "error")
        except Exception as exc:
            log.debug("refresh failed", exc_info=True)
            self.show(f"Le calcul n'a pas abouti ({short_error(exc)}).{hint}", "error")
        return None

    @property
    def message(self) -> str:
        """The text of the status box (for tests)."""
        import html as _html
        import re

        return _html.unescape(re.sub(r"<[^>]+>", " ", self.status.value)).strip()


# ------------------------------------------------------------------------------------------------
# Simulateur (finance directors)
# ------------------------------------------------------------------------------------------------

class SimulatorPanel(Panel):
    """EPCI, own data, pools, method, growth, band, EPCI share and thresholds -> table, charts,
    XLSX report of the scenario on screen."""

    def __init__(self, scenario: Scenario | str | Path | None = None,
                 simulation: Simulation | None = None, offline: bool = True):
        if offline:
            enable_offline_charts()
        self.base_scenario = as_scenario(scenario)
        self.sim = simulation or Simulation()
        self.user_table: pd.DataFrame | None = None
        self.user_key: str | None = None
        self.user_file: tuple[str, bytes] | None = None
        self.view: View | None = None
        self.report_bytes: bytes | None = None
        self._suspend = True
        resolved = self.base_scenario.resolve()
        values = resolved.values
        self.defaults = values
        self.base_siren = resolved.epci.siren

        # --- controls ---------------------------------------------------------------------------
        self.search = w.Text(description="Rechercher un EPCI (nom ou SIREN)", style=WIDE,
                             continuous_update=False, layout=w.Layout(width="360px"),
                             placeholder="ex. Blois, Agglopolys, 200030385")
        self.epci = w.Dropdown(description="EPCI", layout=w.Layout(width="360px"))
        self._set_epci_options(search_epci(resolved.epci.siren), resolved.epci.siren)
        self.upload = w.FileUpload(accept=".xlsx,.xlsm,.csv,.txt", multiple=False,
                                   description="Vos données (XLSX/CSV)",
                                   tooltip="Déposer le modèle rempli (XLSX ou CSV, une ligne par "
                                           "commune)",
                                   layout=w.Layout(width="220px"))
        self.template_link = w.HTML()
        self.clear_upload = w.Button(description="Données fournies", icon="undo",
                                     tooltip="Revenir aux données publiques et aux estimations")
        self.data_label = w.HTML(self._data_text())
        self.pools = {p: w.Checkbox(value=p in self.base_scenario.pools,
                                    description=POOL_LABELS_FR[p], indent=False)
                      for p in POOLS}
        self.method = w.Dropdown(options=[(METHOD_LABELS_FR[m], m) for m in METHODS],
                                 value=self.base_scenario.method, description="Méthode",
                                 layout=w.Layout(width="360px"))
        self.year = w.Dropdown(options=resolved.years, value=resolved.years[0],
                               description="Année affichée", style=WIDE)
        p = values["projection"]
        a = values["allocation"]
        share = a["epci_share"]
        self.licences_growth = PercentSlider("Hausse annuelle des licences",
                                             values["licences"]["growth"], 0.0, 0.20, 0.005)
        self.rrf_growth = PercentSlider("Hausse annuelle des recettes (RRF)", p["rrf_growth"],
                                        -0.02, 0.06, 0.002)
        self.band = w.FloatRangeSlider(value=(a["band_lo"], a["band_hi"]), min=0.0, max=4.0,
                                       step=0.05, readout=False, continuous_update=False,
                                       description="Bande d'usage", style=WIDE,
                                       layout=w.Layout(width="300px"))
        self.band_label = w.Label(self._band_text(self.band.value))
        self.epci_share = PercentSlider("Part prise par l'EPCI (tous services)",
                                        sum(share.values()) / max(1, len(share)), 0.0, 1.0,
                                        0.05, digits=0)
        self.burden_cap = PercentSlider("Plafond de charge (0 = aucun)",
                                        a.get("burden_cap") or 0.0, 0.0, 0.05, 0.001)
        self.saving = PercentSlider("Économie garantie (0 = aucune)",
                                    a.get("guaranteed_saving") or 0.0, 0.0, 0.5, 0.01, digits=0)
        self.departure = PercentSlider("Écart maximal à la clé (0 = aucun)",
                                       a.get("key_departure") or 0.0, 0.0, 0.5, 0.05, digits=0)
        self.teb_alert = PercentSlider("Seuil d'alerte (épargne brute)", p["teb_alert"],
                                       0.0, 0.25, 0.005)
        self.teb_degraded = PercentSlider("Seuil dégradé (épargne brute)", p["teb_degraded"],
                                          0.0, 0.25, 0.005)
        self.burden_threshold = PercentSlider("Seuil de charge numérique / RRF",
                                              p["digital_burden_threshold"], 0.0, 0.06, 0.001)
        self.initial = self._slider_values()
        self.report_button = w.Button(description="Préparer le rapport Excel", icon="download",
                                      button_style="primary", layout=w.Layout(width="240px"))
        self.report_link = w.HTML()

        # --- outputs ----------------------------------------------------------------------------
        self.status = w.HTML()
        self.table = w.HTML()
        self.crossings = w.HTML()
        self.commune = w.Dropdown(options=[("Ensemble de l'EPCI", EPCI_ID)], value=EPCI_ID,
                                  description="Territoire affiché", style=WIDE,
                                  layout=w.Layout(width="460px"))
        self.headline = w.HTML()
        self.estimated_note = w.HTML()
        self.charts = {
            "blades": LiveChart(charts.blades_chart),
            "waterfall": LiveChart(charts.attribution_chart),
            "gap": LiveChart(charts.gap_chart),
            "scissor": LiveChart(charts.scissor_chart),
            "burden": LiveChart(charts.burden_chart),
            "allocation": LiveChart(charts.allocation_chart),
            "methods": LiveChart(charts.method_comparison_chart),
            "map": LiveChart(territory_map_chart),
        }
        self.map_measure = w.Dropdown(options=[(v, k) for k, v in MAP_MEASURES_FR.items()],
                                      value="saving", description="Carte", style=WIDE,
                                      layout=w.Layout(width="620px"))
        self.proba_button = w.Button(description=f"Lancer les tirages ({PROBABILITY_DRAWS})",
                                     icon="random", layout=w.Layout(width="240px"),
                                     tooltip="Tire au hasard la hausse des licences, celle des "
                                             "recettes et le saut SaaS (environ une seconde)")
        self.proba_level = w.ToggleButtons(options=PROBABILITY_LEVELS_FR, value="epci")
        self.proba_message = w.HTML()
        self.proba_chart = LiveChart(charts.crossing_probability_chart)
        self.proba_chart.clear("Cliquez « Lancer les tirages » pour voir la probabilité.")
        self.fan_chart = LiveChart(charts.eb_fan_chart)
        self.commune_proba_chart = LiveChart(charts.commune_crossing_chart)
        self.sensitivity = None
        self._sensitivity_sig = None
        self.timings: dict[str, float] = {}
        self.widget = self._layout()
        self._finish_layout(offline, "Simulateur de mutualisation")

        # --- events -----------------------------------------------------------------------------
        self.search.observe(self._on_search, "value")
        self.epci.observe(self._on_epci, "value")
        self.upload.observe(self._on_upload, "value")
        self.clear_upload.on_click(self._on_clear_upload)
        for cb in self.pools.values():
            cb.observe(self.request, "value")
        for widget in (self.method, self.year, self.map_measure):
            widget.observe(self.request, "value")
        for slider in (self.licences_growth, self.rrf_growth, self.epci_share, self.burden_cap,
                       self.saving, self.departure, self.teb_alert, self.teb_degraded, self.burden_threshold):
            slider.observe_value(self.request)
        self.band.observe(self._on_band, "value")
        self.report_button.on_click(self._on_report)
        self.commune.observe(self._on_commune, "value")
        self.proba_button.on_click(self.run_draws)
        self.proba_level.observe(self._on_proba_level, "value")
        self._suspend = False
        self.refresh()

    # --- layout -----------------------------------------------------------------------------------
    def _layout(self) -> w.Widget:
        controls = w.VBox([
            w.HTML("<b>Territoire et données</b>"),
            self.search, self.epci, self.template_link,
            w.HBox([self.upload, self.clear_upload]), self.data_label,
            w.HTML("<b>Services mutualisés</b>"), *self.pools.values(),
            w.HTML("<b>Répartition</b>"), self.method, w.VBox([self.band, self.band_label]),
            self.epci_share, w.HTML("<b>Règles votées</b>"), self.burden_cap, self.saving,
            self.departure,
            w.HTML("<b>Hypothèses d'évolution</b>"), self.licences_growth, self.rrf_growth,
            w.HTML("<b>Seuils</b>"), self.teb_alert, self.teb_degraded, self.burden_threshold,
            w.HTML("<b>Rapport</b>"), self.report_button, self.report_link,
        ], layout=w.Layout(width="440px", border="1px solid #ddd", padding="6px"))
        tabs = w.Tab([
            w.VBox([self.year, self.table]),
            w.VBox([self.commune, self.headline, self.estimated_note,
                    self.charts["blades"].widget, self.charts["waterfall"].widget,
                    self.charts["gap"].widget,
                    w.HTML("<b>Les mêmes montants en indices (base 100), en complément</b>"),
                    self.charts["scissor"].widget, self.charts["burden"].widget,
                    w.HTML("<b>Premières communes à franchir le seuil d'alerte</b> "
                           "(« estimé » : finances estimées à partir de moyennes nationales)"),
                    self.crossings,
                    w.HTML("<b>Incertitude : probabilité de franchir le seuil d'alerte</b>"),
                    w.HBox([self.proba_button, self.proba_level]), self.proba_message,
                    self.proba_chart.widget, self.fan_chart.widget,
                    self.commune_proba_chart.widget]),
            w.VBox([self.charts["allocation"].widget]),
            w.VBox([self.charts["methods"].widget]),
            w.VBox([w.HTML("Année : celle du tableau par commune."), self.map_measure,
                    self.charts["map"].widget]),
        ])
        for i, title in enumerate(["Tableau par commune", "Effet ciseau", "Répartition",
                                   "Comparaison des méthodes", "Carte"]):
            tabs.set_title(i, title)
        self.tabs = tabs
        tabs.observe(self._on_tab, "selected_index")
        # tab titles at their full width (Lumino's fixed tab width cut « Comparaison des mé… »)
        full_tabs = w.HTML("<style>.mcm-simulator .lm-TabBar-tab{flex:0 0 auto !important;"
                           "max-width:none !important;min-width:0 !important}</style>")
        root = w.HBox([controls, w.VBox([full_tabs, self.status, tabs],
                                        layout=w.Layout(flex="1", min_width="600px"))])
        root.add_class("mcm-simulator")
        return root

    # --- helpers ------------------------------------------------------------------------------------
    def _set_epci_options(self, hits: pd.DataFrame, value: str | None = None) -> None:
        hits = hits.sort_values("population", ascending=False).head(MAX_SEARCH_HITS)
        options = [(f"{row.epci_name} ({siren}, {row.nb_communes} communes)", siren)
                   for siren, row in hits.iterrows()]
        self.epci.options = options
        if value is not None and value in hits.index:
            self.epci.value = value

    @staticmethod
    def _band_text(band) -> str:
        lo, hi = band
        return (f"de {lo:.2f} à {hi:.2f} × la part d'usage").replace(".", ",")

    def _slider_values(self) -> dict:
        return {
            "licences": self.licences_growth.value, "rrf": self.rrf_growth.value,
            "band": tuple(self.band.value), "epci_share": self.epci_share.value,
            "teb_alert": self.teb_alert.value, "teb_degraded": self.teb_degraded.value,
            "burden": self.burden_threshold.value, "burden_cap": self.burden_cap.value,
            "guaranteed_saving": self.saving.value, "key_departure": self.departure.value,
        }

    def _data_text(self) -> str:
        if self.user_file is None:
            return ("<i>Données publiques (INSEE, DGCL) ; les champs manquants sont estimés "
                    "(marqués *).</i>")
        table = self.user_table if self.user_table is not None else pd.DataFrame()
        # the template comes with codes, names and populations: a commune is filled when the
        # user gave at least one figure of their own
        own = table.drop(columns=["name", "population"], errors="ignore")
        n = int(own.notna().any(axis=1).sum()) if len(own.columns) else 0
        rest = len(table) - n
        return (f"<i>Vos données : « {html.escape(self.user_file[0])} » : vos chiffres pour {n} "
                f"commune{'s' if n > 1 else ''} sur {len(table)}"
                + (f", les {rest} autres estimées (*)" if rest else "") + ".</i>")

    def current_scenario(self) -> Scenario:
        """The scenario the widgets describe (untouched sliders keep the scenario's own values)."""
        now, first = self._slider_values(), self.initial
        changes: dict[str, dict] = {}
        if now["licences"] != first["licences"]:
            changes.setdefault("licences", {})["growth"] = now["licences"]
        if now["rrf"] != first["rrf"]:
            changes.setdefault("projection", {})["rrf_growth"] = now["rrf"]
        for key, name in (("teb_alert", "teb_alert"), ("teb_degraded", "teb_degraded"),
                          ("burden", "digital_burden_threshold")):
            if now[key] != first[key]:
                changes.setdefault("projection", {})[name] = now[key]
        if now["band"] != first["band"]:
            changes.setdefault("allocation", {}).update(band_lo=now["band"][0],
                                                        band_hi=now["band"][1])
        for key in ("burden_cap", "guaranteed_saving", "key_departure"):
            if now[key] != first[key]:
                changes.setdefault("allocation", {})[key] = now[key] or None
        if now["epci_share"] != first["epci_share"]:
            changes.setdefault("allocation", {})["epci_share"] = {
                p: now["epci_share"] for p in POOLS}
        pools = [p for p, cb in self.pools.items() if cb.value]
        # an EPCI chosen in the list replaces the scenario's territory (a région, a list...)
        territory = self.base_scenario.territory if self.epci.value is None else None
        return dataclasses.replace(
            self.base_scenario, epci=self.epci.value, territory=territory, pools=pools,
            method=self.method.value,
            data_file=(self.base_scenario.data_file if self.epci.value == self.base_siren
                       else None),
            assumptions=scenario_overrides(self.base_scenario.assumptions, changes))

    # --- events ---------------------------------------------------------------------------------------
    def _on_search(self, change) -> None:
        query = change["new"].strip()
        hits = search_epci(query)
        if hits.empty:
            self.show(f"Aucun EPCI ne correspond à « {query} ». Essayez une partie du nom "
                      "(sans accents si besoin) ou le SIREN à 9 chiffres.", "warning")
            return
        self._suspend = True
        try:
            old = self.epci.value
            self._set_epci_options(hits)
            if old in hits.index:
                self.epci.value = old
        finally:
            self._suspend = False
        if self.epci.value != old:
            self._on_epci({"new": self.epci.value})
        else:
            self.show(f"{len(hits)} EPCI trouvé(s) pour « {query} » : choisissez dans la liste.")

    def _on_epci(self, change) -> None:
        if self._suspend:
            return
        if self.user_file is not None:
            name, content = self.user_file
            if not self._accept_file(name, content, quiet=True):
                self.user_table = self.user_key = self.user_file = None
                self.data_label.value = self._data_text()
                kept = self.status.value
                self.refresh()
                self.status.value = kept + message_html(
                    "Votre fichier ne correspond pas à cet EPCI : il a été retiré, les données "
                    "publiques sont utilisées.", "warning")
                return
        self.refresh()

    #: The charts shown in each tab (index of ``self.tabs``).
    TAB_CHARTS = {0: (), 1: ("blades", "waterfall", "gap", "scissor", "burden"),
                  2: ("allocation",), 3: ("methods",), 4: ("map",)}

    def _visible(self, name: str) -> bool:
        return name in self.TAB_CHARTS.get(self.tabs.selected_index, ())

    def _on_tab(self, change) -> None:
        for name in self.TAB_CHARTS.get(change["new"], ()):
            self.charts[name].flush()

    def _on_commune(self, _change) -> None:
        if self._suspend or self.view is None:
            return
        start = time.perf_counter()
        self.compute(lambda: self._draw_scissor(self.view))
        if self.sensitivity is not None:
            self._draw_probability()
        self.timings["commune"] = time.perf_counter() - start

    def _on_proba_level(self, _change) -> None:
        if self.sensitivity is not None:
            self._draw_probability()

    def run_draws(self, _button=None) -> None:
        """The crossing probability of the scenario on screen: a few hundred draws of the
        licence and resources growth and of the SaaS jump (never on a slider move)."""
        view = self.view
        if view is None:
            self.proba_message.value = message_html(
                "Aucun résultat : corrigez d'abord les réglages.", "warning")
            return
        result = draw_scenario(view, self.proba_message)
        if result is None:
            return
        self.sensitivity = result
        self._sensitivity_sig = self._scissor_sig(view)
        self.timings["draws"] = result.seconds
        self._draw_probability()

    def _draw_probability(self) -> None:
        result, view = self.sensitivity, self.view
        level = self.proba_level.value
        name = view.projection.resolved.epci.name
        self.proba_chart.update((self._sensitivity_sig, level), result, level=level,
                                territory=name)
        self.fan_chart.update(self._sensitivity_sig, result, territory=name)
        commune = self.commune.value
        if commune != EPCI_ID:
            self.commune_proba_chart.update((self._sensitivity_sig, commune), result, commune)
        else:
            self.commune_proba_chart.clear(
                "Choisissez une commune ci-dessus pour voir sa probabilité de passer sous le "
                "seuil d'alerte.")
        prob = charts.crossing_probability(result, "teb_alert", level)
        end = int(prob["year"].max())
        last = prob[prob["year"] == end].set_index("case")["probability"]
        st = result.settings
        seconds = f"{result.seconds:.1f}".replace(".", ",")
        self.proba_message.value = message_html(
            f"{len(result.draws)} tirages en {seconds} s (graine {st['seed']}) : hausse des "
            f"licences {_fr_law(st['licence_growth'])}, des recettes "
            f"{_fr_law(st['rrf_growth'])}, saut SaaS une fois sur "
            f"{round(1 / st['saas_jump_probability']) if st['saas_jump_probability'] else 0}"
            f" ; les autres réglages sont ceux affichés. Probabilité que le taux d'épargne "
            f"brute passe sous le seuil d'alerte d'ici {end} : {_fr_pct(last['pooled'], 0)} en "
            f"mutualisant, {_fr_pct(last['standalone'], 0)} si chaque commune achète seule.",
            "info")

    def _on_band(self, change) -> None:
        self.band_label.value = self._band_text(change["new"])
        self.refresh()

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        item = files[-1]
        self.load_user_file(item["name"], bytes(item["content"]))
        # emptied, so that the same file chosen again (corrected, or after a refusal) is read
        self.upload.unobserve(self._on_upload, "value")
        try:
            self.upload.value = ()
        finally:
            self.upload.observe(self._on_upload, "value")

    def _on_clear_upload(self, _button=None) -> None:
        self.user_table = self.user_key = self.user_file = None
        self.data_label.value = self._data_text()
        self.refresh()

    def load_user_file(self, name: str, content: bytes) -> bool:
        """Validate an uploaded template; on success re-run with it, else say why in French."""
        if self._accept_file(name, content):
            self.refresh()
            return True
        return False

    def _accept_file(self, name: str, content: bytes, quiet: bool = False) -> bool:
        from model.data.userfile import read_user_file

        tmp = Path(tempfile.mkdtemp(prefix="mcm-upload-"))
        try:
            path = tmp / (Path(name).name or "fichier")
            path.write_bytes(content)
            table, warnings = read_user_file(path, load_epci(self.epci.value))
            table.attrs["warnings"] = warnings
        except InputError as exc:
            if not quiet:
                self.show("Fichier refusé, rien n'a été modifié.\n" + str(exc), "error")
            return False
        except Exception as exc:  # a file we cannot even parse: still no traceback on screen
            log.debug("upload failed", exc_info=True)
            if not quiet:
                self.show(f"Fichier illisible « {name} » ({short_error(exc)}). Utilisez le "
                          "modèle fourni (data/templates/modele_communes.xlsx).", "error")
            return False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.user_table = table
        self.user_file = (name, content)
        self.user_key = hashlib.sha256(content + self.epci.value.encode()).hexdigest()
        self.data_label.value = self._data_text()
        return True

    def _offer_template(self, view: View) -> None:
        """A link to the template pre-filled with the communes on screen (xlsx)."""
        from model.data.template import template_bytes

        epci = view.projection.resolved.epci
        if getattr(self, "_template_for", None) == epci.siren:
            return
        data = template_bytes(epci)
        name = f"modele_{_slug(epci.name)}.xlsx"
        self.template_link.value = (
            f"<a download='{name}' href='data:{XLSX_MIME};base64,"
            f"{base64.b64encode(data).decode()}'>⬇ Télécharger le modèle pré-rempli "
            f"({len(epci.communes)} communes)</a>")
        self._template_for = epci.siren

    def _on_report(self, _button=None) -> None:
        if self.view is None:
            self.show("Aucun résultat à exporter : corrigez d'abord les réglages.", "warning")
            return
        self.report_link.value = message_html("Préparation du rapport…")
        view, year = self.view, self.year.value
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no kernel (tests, scripts): at once
            self._write_report(view, year)
            return
        # in a kernel, a worker thread: the controls stay usable while the workbook is written
        threading.Thread(target=self._write_report, args=(view, year), daemon=True).start()

    def _write_report(self, view: View, year: int) -> None:
        from model.report.annex import write_annex

        tmp = Path(tempfile.mkdtemp(prefix="mcm-report-"))
        shown = year if year in view.projection.years else None
        try:
            path = tmp / "rapport.xlsx"
            write_report(view.result(), path, year=shown)
            data = path.read_bytes()
            annex = write_annex(view.result(), tmp / "annexe.docx", shown).read_bytes()
        except Exception as exc:
            log.debug("report failed", exc_info=True)
            self.report_link.value = message_html(
                f"Le rapport n'a pas pu être produit ({short_error(exc)}).", "error")
            return
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if view is not self.view:  # the settings changed meanwhile: this report is stale
            self.report_link.value = ""
            return
        self.report_bytes = data
        resolved = view.projection.resolved
        filename = (f"rapport_{_slug(resolved.epci.name)}_{view.scenario.method}_{year}"
                    ".xlsx")
        b64 = base64.b64encode(data).decode()
        self.report_filename = filename
        docx_name = f"annexe_financiere_{_slug(resolved.epci.name)}_{year}.docx"
        self.report_link.value = (
            f"<a download='{filename}' href='data:{XLSX_MIME};base64,{b64}' "
            "style='font-size:15px;font-weight:bold'>⬇ Télécharger "
            f"{filename} ({len(data) // 1024} Ko)</a><br><a download='{docx_name}' "
            f"href='data:{DOCX_MIME};base64,{base64.b64encode(annex).decode()}' "
            "style='font-size:15px'>⬇ Annexe financière de la convention (Word, "
            f"{len(annex) // 1024} Ko)</a>")

    # --- recompute and redraw -------------------------------------------------------------------------
    def refresh(self, *_args) -> None:
        """Recompute what the current widget values need and redraw what changed."""
        if self._suspend:
            return
        self.report_link.value = ""
        self.report_bytes = None
        if not any(cb.value for cb in self.pools.values()):
            self.show("Cochez au moins un service à mutualiser.", "warning")
            return
        start = time.perf_counter()

        def draw():
            view = self.sim.view(self.current_scenario(), self.user_table, self.user_key)
            self.timings["view"] = time.perf_counter() - start
            self._draw(view)
            return view

        view = self.compute(draw, " Modifiez les réglages ou revenez aux données fournies.")
        self.timings["refresh"] = time.perf_counter() - start
        if view is None:
            return
        self.view = view
        self.name_page(view.projection.resolved.epci.name)
        self._offer_template(view)
        warn = infeasible_message(view)
        if warn:
            self.show(warn, "warning")
        else:
            resolved = view.projection.resolved
            seconds = f"{time.perf_counter() - start:.2f}".replace(".", ",")
            year = (self.year.value if self.year.value in view.projection.years
                    else view.projection.years[0])
            text = (f"{resolved.epci.name} : {len(resolved.communes.values)} communes, "
                    f"{METHOD_LABELS_FR[resolved.scenario.method]} ; calcul à jour ({seconds} s)."
                    + (f" {default_split_sentence(view, year)}"
                       if resolved.scenario.method == "voted_key" else ""))
            notes = list(resolved.warnings)
            if notes:  # the user's file is used, with what looked unusual in it
                more = [f"… et {len(notes) - 8} autre(s)"] if len(notes) > 8 else []
                self.show("\n".join([text, *notes[:8], *more]), "warning")
            else:
                self.show(text, "ok")

    def _draw(self, view: View) -> None:
        proj = view.projection
        method = view.scenario.method
        if list(self.year.options) != proj.years:
            self._suspend = True
            try:
                self.year.options = proj.years
                self.year.value = proj.years[0]
            finally:
                self._suspend = False
        year = self.year.value
        thr = view.thresholds
        thr_key = tuple(sorted(thr.items()))
        table_sig = (view.lp_key, method, year)
        if getattr(self, "_table_sig", None) != table_sig:
            self.table.value = html_table(display_commune_table(view, year, method), 460)
            self._table_sig = table_sig
        first = charts.first_crossings(view.scissor, "teb_alert", "pooled", 5)
        vis = self._visible
        self.charts["burden"].update((view.lp_key, method, thr_key), proj.projection, thr,
                                     highlight=list(first["commune"]), visible=vis("burden"))
        self.crossings.value = html_table(display_crossings(view), None)
        self.charts["allocation"].update((view.lp_key, method, year), proj.allocation,
                                         proj.inputs, year, method, visible=vis("allocation"))
        self.charts["methods"].update((view.lp_key, method, year), proj.allocation, proj.inputs,
                                      year, chosen=method, visible=vis("methods"))
        measure = self.map_measure.value
        self.charts["map"].update(
            (view.lp_key, method, year, measure), proj.projection, year, measure,
            title=f"{MAP_MEASURES_FR[measure].split(' (')[0]}, {year}",
            subtitle=f"{proj.resolved.epci.name} ; {METHOD_LABELS_FR[method]}",
            visible=vis("map"))
        self._draw_scissor(view)

    @staticmethod
    def _scissor_sig(view: View) -> tuple:
        return (view.lp_key, view.scenario.method, tuple(sorted(view.thresholds.items())))

    def _draw_scissor(self, view: View) -> None:
        """The Effet ciseau tab in euros: headline, estimated invitation, blades, waterfall and
        gap of the territory shown (the EPCI or one commune), and the index chart."""
        commune = self._sync_communes(view)
        frame = view.projection.projection
        self.headline.value = headline_html(headline(view, commune, attribution_table(view)))
        invitation = estimated_invitation(view)
        self.estimated_note.value = message_html(invitation, "warning") if invitation else ""
        vis = self._visible
        sig = (payer_signature(frame, commune), commune)
        self.charts["blades"].update(sig, frame, commune, visible=vis("blades"))
        self.charts["waterfall"].update(sig, frame, commune, visible=vis("waterfall"))
        self.charts["gap"].update(sig, frame, commune, visible=vis("gap"))
        thr_key = tuple(sorted(view.thresholds.items()))
        # the index chart also marks the first commune to cross, which a new method can move
        self.charts["scissor"].update((*sig, thr_key, table_signature(view.scissor)), frame,
                                      view.scissor, commune=commune, visible=vis("scissor"))
        if self._sensitivity_sig is not None and self._sensitivity_sig != self._scissor_sig(view):
            self.sensitivity = self._sensitivity_sig = None
            self.proba_chart.clear("Réglages modifiés : relancez les tirages.")
            self.fan_chart.clear("")
            self.commune_proba_chart.clear("")
            self.proba_message.value = ""


# ------------------------------------------------------------------------------------------------
# Effet ciseau (analysts and finance directors)
# ------------------------------------------------------------------------------------------------

MEASURES_FR = [("Taux d'épargne brute", "teb"), ("Charge numérique / RRF", "digital_burden")]
CASES_FR = [("Mutualisé", "pooled"), ("Chaque commune seule", "standalone")]


class ScissorPanel(Panel):
    """The scissor told in euros, for a bundled or given scenario: the headline, the blades,
    the waterfall of the épargne brute, the communes named per indicator (negative épargne
    brute first, estimated finances marked); then the indices and each commune's trajectory."""

    def __init__(self, scenario: Scenario | str | Path | None = None,
                 simulation: Simulation | None = None, offline: bool = True, big: bool = False):
        if offline:
            enable_offline_charts()
        self.sim = simulation or Simulation()
        self.big = big
        self._suspend = True
        self.scenarios = bundled_scenarios()
        first = as_scenario(scenario)
        options = list(self.scenarios.items())
        self.custom = None
        if scenario is not None and first not in [as_scenario(p) for _, p in options]:
            self.custom = first
            options = [(first.name or "Scénario fourni", None), *options]
        self.scenario = w.Dropdown(options=options, description="Scénario", style=WIDE,
                                   layout=w.Layout(width="520px"))
        match = [p for _, p in options if p is not None and as_scenario(p) == first]
        self.scenario.value = None if self.custom else (match[0] if match else options[0][1])
        self.commune = w.Dropdown(options=[("Ensemble de l'EPCI", EPCI_ID)], value=EPCI_ID,
                                  description="Territoire affiché", style=WIDE,
                                  layout=w.Layout(width="460px"))
        self.indicator = w.Dropdown(options=[(v, k) for k, v in INDICATOR_LABELS_FR.items()],
                                    value="teb_alert", description="Année du ciseau selon",
                                    style=WIDE, layout=w.Layout(width="520px"))
        self.measure = w.ToggleButtons(options=MEASURES_FR, value="teb")
        self.case = w.ToggleButtons(options=CASES_FR, value="pooled")
        self.status = w.HTML()
        self.headline = w.HTML()
        self.estimated_note = w.HTML()
        self.named = w.HTML()
        self.crossings = w.HTML()
        self.blades_chart = LiveChart(charts.blades_chart)
        self.waterfall_chart = LiveChart(charts.attribution_chart)
        self.scissor_chart = LiveChart(charts.scissor_chart)
        self.burden_chart = LiveChart(charts.burden_chart)
        self.export_dir = w.Text(value="diapos", description="Dossier des images", style=WIDE)
        self.export_button = w.Button(description="Enregistrer en PNG et SVG", icon="save")
        self.export_message = w.HTML()
        self.export_button.on_click(lambda _b: self.save_charts(self.export_dir.value))
        self.widget = w.VBox([
            w.HBox([self.scenario, self.commune]), self.status,
            w.HBox([self.export_dir, self.export_button]), self.export_message,
            self.headline, self.estimated_note,
            self.blades_chart.widget, self.waterfall_chart.widget,
            w.HTML("<h3>Les communes nommées, indicateur par indicateur</h3>"), self.named,
            w.HTML("<h3>Les mêmes montants en indices (base 100), en complément</h3>"),
            self.indicator, self.scissor_chart.widget,
            w.HBox([self.measure, self.case]), self.burden_chart.widget,
            w.HTML("<b>Les communes qui franchissent le seuil en premier</b> "
                   "(« estimé » : finances estimées à partir de moyennes nationales)"),
            self.crossings,
        ])
        self._finish_layout(offline, "Effet ciseau")
        for widget in (self.scenario, self.commune, self.indicator, self.measure, self.case):
            widget.observe(self.request, "value")
        self.view: View | None = None
        self._suspend = False
        self.refresh()

    #: File stem of each chart written by :meth:`save_charts`.
    EXPORTS = ("effet_ciseau_euros", "epargne_brute_cascade", "effet_ciseau",
               "trajectoires_communes")

    def save_charts(self, folder: str | Path) -> list[Path]:
        """Write the four charts as PNG and SVG (for slides) into ``folder``."""
        folder = Path(folder or "diapos")
        written = []
        lives = (self.blades_chart, self.waterfall_chart, self.scissor_chart, self.burden_chart)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, live in zip(self.EXPORTS, lives, strict=True):
                for suffix in (".png", ".svg"):
                    written.append(charts.save_chart(live.chart, folder / f"{name}{suffix}"))
        except Exception as exc:
            log.debug("export failed", exc_info=True)
            self.export_message.value = message_html(
                f"Les images n'ont pas pu être enregistrées ({short_error(exc)}).", "error")
            return written
        self.export_message.value = message_html(
            f"{len(written)} images enregistrées dans « {folder} ».", "ok")
        return written

    def current_scenario(self) -> Scenario:
        return self.custom if self.scenario.value is None else as_scenario(self.scenario.value)

    def refresh(self, *_args) -> None:
        if self._suspend:
            return
        view = self.compute(lambda: self.sim.view(self.current_scenario()))
        if view is None:
            return
        self.view = view
        self.compute(lambda: self._draw(view))

    def _draw(self, view: View) -> None:
        proj = view.projection
        commune = self._sync_communes(view)
        ind = self.indicator.value
        self.name_page(proj.resolved.epci.name)
        self.show(infeasible_message(view) or f"{proj.resolved.epci.name} : "
                  f"{len(proj.resolved.communes.values)} communes, {proj.years[0]}-"
                  f"{proj.years[-1]}.", "warning" if view.infeasible_years else "ok")
        self.headline.value = headline_html(headline(view, commune), self.big)
        invitation = estimated_invitation(view)
        self.estimated_note.value = message_html(invitation, "warning") if invitation else ""
        frame = proj.projection
        self.blades_chart.update((view.lp_key, commune), frame, commune, big=self.big)
        self.waterfall_chart.update((view.lp_key, commune), frame, commune, big=self.big)
        self.named.value = named_html(view)
        self.scissor_chart.update((view.lp_key, ind, commune), frame, view.scissor,
                                  commune=commune, indicator=ind, big=self.big)
        first = charts.first_crossings(view.scissor, ind, self.case.value, 5)
        self.burden_chart.update((view.lp_key, self.measure.value, self.case.value, ind),
                                 frame, view.thresholds, self.measure.value,
                                 self.case.value, list(first["commune"]), self.big)
        self.crossings.value = html_table(display_crossings(view, ind), 320)


def named_html(view: View, n: int = 12) -> str:
    """Per indicator, gravest first, the communes that cross, named (« estimé » marked)."""
    end = view.projection.years[-1]
    thr = view.thresholds
    levels = {"teb_alert": thr["teb_alert"], "teb_degraded": thr["teb_degraded"],
              "digital_burden": thr["digital_burden_threshold"]}
    parts = []
    for indicator, rows in named_communes(view).items():
        label = INDICATOR_LABELS_FR.get(indicator, indicator)
        if indicator in levels:
            label += f" ({_fr_pct(levels[indicator], 1 if indicator == 'digital_burden' else 0)})"
        count = f"{len(rows)} commune{'s' if len(rows) > 1 else ''}" if rows else "aucune commune"
        parts.append(f"<h4 style='margin:10px 0 4px'>{html.escape(label)} : {count} d'ici "
                     f"{end}</h4>")
        if rows:
            parts.append(html_table(display_named(rows, n), 300))
            if len(rows) > n:
                parts.append(f"<div>… et {len(rows) - n} autre(s).</div>")
    return "".join(parts)

