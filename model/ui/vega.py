"""Chart widgets that share one Vega runtime per page and never show a stale chart.

``alt.JupyterChart`` offline copies the whole Vega bundle (0.9 MB) into every chart widget and
re-embeds into the same element on each change, so a slow first load or two quick changes could
leave a chart on a previous territory. Here:

- :class:`VegaRuntime` carries the bundle once per kernel (a singleton, :func:`runtime`). Its
  module publishes ``vegaEmbed`` on a page-wide promise; the bundle is built by vl-convert once
  and cached on disk (:func:`runtime_source`), so a new kernel does not pay the 2-7 s build.
- :class:`VegaChart` is a small widget: its spec, title, text alternative and data table change
  together under one ``revision``; the browser draws each revision into a detached element and
  swaps it in only if no newer revision arrived meanwhile (the last one wins, atomically). The
  element carries ``data-title`` and ``data-revision`` for browser tests and timing.
- :class:`PageTitle` sets the browser tab's title (the territory shown, not a file name).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import anywidget
import traitlets

#: The module bundled with Vega, Vega-Lite and Vega-Embed: it resolves the page-wide promise.
RUNTIME_SNIPPET = """
const g = globalThis;
if (!g.__mcmVegaReady) {
  g.__mcmVegaReady = new Promise((resolve) => { g.__mcmVegaResolve = resolve; });
}
g.__mcmVegaResolve({ vegaEmbed, vega, vegaLite });
export default { render() {} };
"""

CHART_ESM = """
function vegaRuntime() {
  const g = globalThis;
  if (!g.__mcmVegaReady) {
    g.__mcmVegaReady = new Promise((resolve) => { g.__mcmVegaResolve = resolve; });
  }
  return g.__mcmVegaReady;
}

export default {
  async render({ model, el }) {
    el.classList.add("mcm-chart");
    const figure = document.createElement("figure");
    figure.className = "mcm-figure";
    const box = document.createElement("div");
    box.className = "mcm-chart-box";
    box.setAttribute("role", "img");
    box.setAttribute("tabindex", "0");
    const details = document.createElement("details");
    details.className = "mcm-chart-data";
    const summary = document.createElement("summary");
    summary.textContent = "Données du graphique";
    const table = document.createElement("div");
    details.append(summary, table);
    figure.append(box, details);
    el.replaceChildren(figure);

    let current = null;
    let latest = 0;
    const draw = async () => {
      const revision = model.get("revision");
      latest = Math.max(latest, revision);
      const spec = model.get("spec");
      if (!spec || Object.keys(spec).length === 0) return;
      const { vegaEmbed } = await vegaRuntime();
      if (revision !== latest) return;
      const target = document.createElement("div");
      let result;
      try {
        result = await vegaEmbed(target, structuredClone(spec), { actions: false, renderer: "svg" });
      } catch (error) {
        if (revision === latest) {
          box.textContent = "Le graphique n'a pas pu être dessiné : " + error.message;
        }
        return;
      }
      if (revision !== latest) { result.finalize(); return; }
      box.replaceChildren(target);
      if (current) current.finalize();
      current = result;
      box.setAttribute("aria-label", model.get("description") || model.get("title"));
      details.style.display = model.get("table_html") ? "" : "none";
      table.innerHTML = model.get("table_html");
      el.dataset.title = model.get("title");
      el.dataset.revision = String(revision);
    };
    model.on("change:revision", draw);
    await draw();
    return () => { latest = Infinity; if (current) current.finalize(); };
  },
};
"""

CHART_CSS = """
.mcm-chart figure.mcm-figure { margin: 0; }
.mcm-chart details.mcm-chart-data { font-size: 14px; margin: 2px 0 6px 0; }
.mcm-chart details.mcm-chart-data summary { cursor: pointer; color: #1f4e8a; }
.mcm-chart details.mcm-chart-data table { border-collapse: collapse; }
.mcm-chart details.mcm-chart-data td, .mcm-chart details.mcm-chart-data th {
  padding: 1px 8px; border-bottom: 1px solid #ddd; text-align: right; }
.mcm-chart details.mcm-chart-data td:first-child,
.mcm-chart details.mcm-chart-data th:first-child { text-align: left; }
"""

PAGE_TITLE_ESM = """
export default {
  render({ model, el }) {
    el.style.display = "none";
    const apply = () => { if (model.get("title")) document.title = model.get("title"); };
    model.on("change:title", apply);
    apply();
  },
};
"""



def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA")
    return Path(base) if base else Path.home() / ".cache"


def runtime_cache_path() -> Path:
    """Where the bundle of this vl-convert version is cached."""
    import vl_convert as vlc

    key = hashlib.sha256(f"{vlc.__version__}\n{RUNTIME_SNIPPET}".encode()).hexdigest()[:16]
    return _cache_dir() / "mutualisation-cost-modeller" / f"vega-runtime-{key}.js"


@lru_cache(maxsize=1)
def runtime_source() -> str:
    """The Vega runtime module: read from the disk cache, else built by vl-convert (offline,
    2-7 s) and cached; a cache that cannot be written is not an error."""
    path = runtime_cache_path()
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    import vl_convert as vlc

    source = vlc.javascript_bundle(RUNTIME_SNIPPET)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         delete=False, suffix=".tmp") as tmp:
            tmp.write(source)
        os.replace(tmp.name, path)
    except OSError:
        pass
    return source


class VegaRuntime(anywidget.AnyWidget):
    """Carries the Vega bundle to the page once; shows nothing."""

    _esm = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(_esm=runtime_source(), **kwargs)
        self.layout.display = "none"


@lru_cache(maxsize=1)
def runtime() -> VegaRuntime:
    """The kernel's one runtime widget (include it in every panel's layout)."""
    return VegaRuntime()


class VegaChart(anywidget.AnyWidget):
    """One chart: spec, title, text alternative and data table, swapped together."""

    _esm = CHART_ESM
    _css = CHART_CSS
    spec = traitlets.Dict().tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    table_html = traitlets.Unicode("").tag(sync=True)
    revision = traitlets.Int(0).tag(sync=True)

    def show(self, spec: dict, title: str = "", description: str = "",
             table_html: str = "") -> None:
        """Replace what the chart shows, in one message."""
        with self.hold_sync():
            self.spec = spec
            self.title = title
            self.description = description
            self.table_html = table_html
            self.revision += 1


class PageTitle(anywidget.AnyWidget):
    """The browser tab's title."""

    _esm = PAGE_TITLE_ESM
    title = traitlets.Unicode("").tag(sync=True)


if __name__ == "__main__":  # `python -m model.ui.vega`: build the cached bundle (make setup)
    runtime_source()
