"""Benchmark of the dashboards in a real browser (Debian's Chromium through Playwright).

Serves a notebook as `make dashboard` does (Voilà, the French template, one preheated kernel),
then measures, for a few page loads:
- first paint: from navigation to the first-screen charts drawn (SVG in place);
- input to last chart: from a control changed in the page (the variant's method, or a slider
  arrow press) to the last chart redrawn because of it (a MutationObserver on the charts'
  ``data-revision``), that is Python, the widget messages and Vega together.
Targets (issue 13/15): first paint under 3 s, input to last chart under 200 ms.
Run: ``.venv/bin/python bench/bench_browser.py [--notebook 03_pleniere.ipynb] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from test_browser import CHROMIUM, CHROMIUM_ARGS, select_starting, settle, voila  # noqa: E402

WATCH = """() => {
  window.__mcmRedraws = [];
  new MutationObserver((records) => {
    for (const r of records) window.__mcmRedraws.push(performance.now());
  }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ["data-revision"]});
}"""


def input_to_last_chart(page, act, territory: str) -> float:
    """Milliseconds from `act()` (a control changed) to the last chart redrawn after it."""
    page.evaluate(WATCH)
    start = page.evaluate("performance.now()")
    act()
    settle(page, territory)
    stamps = [t for t in page.evaluate("window.__mcmRedraws") if t >= start]
    return (max(stamps) - start) if stamps else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default="03_pleniere.ipynb")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} missing: install Debian's chromium")
        return 1
    from playwright.sync_api import sync_playwright

    territory = "CC de la Beauce Loirétaine"
    rows = []
    with tempfile.TemporaryDirectory() as tmp, voila(args.notebook, Path(tmp)) as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i in range(args.repeats):
            time.sleep(20 if i else 25)  # the preheated kernel of this load is ready
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            start = time.perf_counter()
            page.goto(url, timeout=120_000)
            page.wait_for_function("document.querySelectorAll('.mcm-chart[data-revision] svg')"
                                   ".length >= 2", timeout=120_000)
            first = (time.perf_counter() - start) * 1000
            settle(page, territory)
            method = page.locator(".widget-dropdown", has_text="Méthode B").locator("select")
            change = input_to_last_chart(
                page, lambda m=method, k=i: select_starting(m, ["Parts égales", "Valeur de Shapley",
                                                                 "Clé population"][k % 3]),
                territory)
            handle = page.locator(".noUi-handle").first
            handle.focus()
            slider = input_to_last_chart(page, lambda h=handle: h.press("ArrowRight"), territory)
            rows.append((first, change, slider))
            page.close()
        browser.close()
    cpu = f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    print(f"Machine: {platform.node()} ({cpu}), Chromium headless, notebook {args.notebook}")
    print(f"{'load':>4} {'first paint (ms)':>17} {'method B -> last chart (ms)':>28} "
          f"{'slider press -> last chart (ms)':>32}")
    for i, (first, change, slider) in enumerate(rows, 1):
        print(f"{i:>4} {first:>17.0f} {change:>28.0f} {slider:>32.0f}")
    med = [statistics.median(c) for c in zip(*rows, strict=True)]
    print(f"{'med':>4} {med[0]:>17.0f} {med[1]:>28.0f} {med[2]:>32.0f}")
    print("Targets: first paint < 3000 ms; input to last chart < 200 ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
