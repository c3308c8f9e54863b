"""The Plénière dashboard served by Voilà (as `make dashboard` serves it), in Debian's Chromium:
offline, French only, one screen at 1920x1080, charts that always show the territory on screen.

Runs when /usr/bin/chromium exists (always in CI, where .ci/run installs it and CI=true: there a
missing browser is a failure, not a skip). The screenshot is kept in tests/artifacts/.
"""

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "tests" / "artifacts"
VOILA = Path(sys.executable).with_name("voila")

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "static/nonexistent", timeout=2):
                return
        except urllib.error.HTTPError:  # the server answers (404): it is up
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"voila did not answer on {url}")


def wait_until(fn, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run should install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


EPCI_A = "CC de la Beauce Loirétaine"
EPCI_SWITCH = 'CA de Blois "Agglopolys"'  # the EPCI's registered name (BANATIC)
ENGLISH = ["Executing", "Running", "View Source", "Open in Vega Editor", "Save as SVG",
           "Loading", "Error", "Traceback", "undefined", "null"]


@contextlib.contextmanager
def voila(notebook: str, tmp_path: Path):
    """The dashboard as `make dashboard` serves it: the French template, one preheated kernel."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = (tmp_path / "voila.log").open("w")
    env = dict(os.environ, JUPYTER_PATH=str(ROOT / "notebooks"))
    proc = subprocess.Popen(
        [str(VOILA), "--template=mcm", "--preheat_kernel=True", "--pool_size=1",
         "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         str(ROOT / "notebooks" / notebook)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        wait_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


@pytest.fixture(scope="module")
def pleniere(tmp_path_factory):
    with voila("03_pleniere.ipynb", tmp_path_factory.mktemp("voila")) as url:
        yield url


def open_page(browser, url: str, width: int, height: int):
    """The dashboard at a screen size, once its first charts are drawn; the page's outside
    requests (to anything but this machine) are recorded in ``page.outside``."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.outside = []
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else page.outside.append(r.url))
    page.goto(url, timeout=120_000)
    page.wait_for_function(
        "document.querySelectorAll('.mcm-chart[data-revision] svg').length >= 2", timeout=120_000)
    return page


def norm(text: str) -> str:
    """Unbreakable and narrow spaces as plain spaces (French typography, ipywidgets' options)."""
    return re.sub(r"[\u00a0\u202f]", " ", text)


def select_starting(select, text: str) -> None:
    """Choose the option of a <select> whose label starts with `text`."""
    labels = [norm(t) for t in select.evaluate("s => [...s.options].map(o => o.textContent)")]
    select.select_option(index=[i for i, t in enumerate(labels) if t.startswith(text)][0])


def settle(page, territory: str, timeout: float = 90) -> None:
    """Wait until no computation runs, the heading names `territory` and every drawn chart has
    stopped changing."""
    def quiet():
        if page.locator(".mcm-busy").count() or territory not in norm(page.inner_text("h1")):
            return False
        before = page.evaluate("[...document.querySelectorAll('.mcm-chart')]"
                               ".map(e => e.dataset.revision + e.dataset.title)")
        time.sleep(0.8)
        return before == page.evaluate("[...document.querySelectorAll('.mcm-chart')]"
                                       ".map(e => e.dataset.revision + e.dataset.title)")
    wait_until(quiet, timeout, f"the dashboard to settle on {territory}")


def charts_on_screen(page) -> list[dict]:
    """Title, text alternative, data-table text and box of every visible chart."""
    return page.evaluate("""[...document.querySelectorAll('.mcm-chart[data-revision]')]
        .filter(e => e.offsetParent !== null)
        .map(e => { const r = e.getBoundingClientRect();
                    const box = e.querySelector('.mcm-chart-box');
                    return {title: e.dataset.title, label: box.getAttribute('aria-label'),
                            table: e.querySelector('.mcm-chart-data').textContent,
                            right: r.right, bottom: r.bottom}; })""")


def euros(text: str) -> list[int]:
    """The euro amounts of a French text, signed."""
    return [int(re.sub(r"\D", "", m.group(2))) * (-1 if m.group(1) in ("−", "-") else 1)
            for m in re.finditer(r"([−+-]?)(\d{1,3}(?:[\u202f\u00a0 ]\d{3})+|\d+)\s?€", text)]


def test_pleniere_one_screen_in_french_and_offline(browser, pleniere):
    page = open_page(browser, pleniere, 1920, 1080)
    settle(page, EPCI_A)
    assert norm(page.title()).startswith(EPCI_A)  # the tab names the territory, not « 03_pleniere »
    body = page.inner_text("body")
    assert not [w for w in ENGLISH if re.search(rf"\b{w}\b", body)], body[:500]
    assert page.locator(".vega-actions, details[title='Click to view actions']").count() == 0
    assert "t*" not in body
    # one screen: the headline, the scissor and the split, nothing past 1920x1080
    shown = charts_on_screen(page)
    titles = [c["title"] for c in shown]
    assert any(t.startswith("L'effet ciseau en euros") for t in titles), titles
    assert "Qui paie plus, qui paie moins avec B" in titles
    assert any(t.startswith("Économie par commune") for t in titles), titles  # the map
    for chart in shown[:3]:
        assert chart["right"] <= 1920 and chart["bottom"] <= 1080, chart
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    headline = page.locator(".mcm-headline, .mcm-plenary div", has_text="De 20").first
    assert headline.bounding_box()["y"] < 400
    # text alternatives: every chart says what it shows and carries its data
    for chart in shown:
        assert chart["label"] and "Données du graphique" in chart["table"], chart["title"]
    smallest = page.evaluate("""Math.min(...[...document.querySelectorAll(
        '.mcm-plenary label, .mcm-plenary select, .mcm-plenary td, .mcm-plenary th')]
        .filter(e => e.offsetParent !== null && e.textContent.trim())
        .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
    assert smallest >= 14
    assert not page.outside, page.outside  # no CDN, no font, no icon: nothing leaves the room
    # every control is reached with the keyboard alone
    page.locator("body").click(position={"x": 5, "y": 5})
    reached = []
    for _ in range(14):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("(e => e.tagName + '.' + e.className)"
                                     "(document.activeElement)"))
    assert sum(r.startswith("SELECT") for r in reached) >= 2, reached
    assert sum("noUi-handle" in r for r in reached) >= 2, reached
    assert any("mcm-chart-box" in r for r in reached), reached  # a chart's text alternative
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pleniere.png"))
    page.close()


def test_pleniere_territory_switch_leaves_no_chart_behind(browser, pleniere):
    page = open_page(browser, pleniere, 1920, 1080)
    settle(page, EPCI_A)
    territory = page.locator(".widget-dropdown", has_text="Territoire").locator("select")
    method_b = page.locator(".widget-dropdown", has_text="Méthode B").locator("select")
    for label in ("CC de Lacq", "CA de Blois « Agglopolys » — scénario"):  # two switches in a row,
        select_starting(territory, label)  # as a hurried presenter would
    select_starting(method_b, "Parts égales")
    settle(page, EPCI_SWITCH)
    assert norm(page.title()).startswith(EPCI_SWITCH)
    shown = charts_on_screen(page)
    blades = [c for c in shown if c["title"].startswith("L'effet ciseau en euros — A")][0]
    assert EPCI_SWITCH in norm(blades["label"]) and EPCI_A not in norm(blades["label"])
    change = [c for c in shown if c["title"] == "Qui paie plus, qui paie moins avec B"][0]
    assert "Blois" in change["table"] and "Patay" not in change["table"]
    commune_map = [c for c in shown if c["title"].startswith("Économie par commune")][0]
    assert "43 communes" in commune_map["label"] and "Vineuil" in commune_map["table"]
    assert "Parts égales" in page.inner_text(".mcm-plenary")
    # the chart's numbers are the headline's: the change of the épargne brute, in euros
    headline = page.locator("div", has_text="la hausse du coût numérique réduit").last.inner_text()
    eb = euros(headline.split("Épargne brute :")[1])
    assert len(eb) == 2
    assert f"{eb[1] - eb[0]:+,}".replace(",", "\u202f").replace("-", "−") in blades["table"]
    page.close()


def test_pleniere_slider_presses_coalesce_and_redraw_b(browser, pleniere):
    page = open_page(browser, pleniere, 1280, 720)
    settle(page, EPCI_A)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # usable, nothing cut
    figures = page.locator(".mcm-table").first
    before = figures.inner_text()
    handle = page.locator(".noUi-handle").first  # « Hausse des licences B »
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    wait_until(lambda: "8\u202f%" in page.inner_text(".mcm-plenary")
               and figures.inner_text() != before, 60, "the figures of B to follow the slider")
    settle(page, EPCI_A)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pleniere_1280.png"))
    page.close()


def test_simulateur_in_french_with_its_map_and_fonts_of_14_px(browser, tmp_path):
    with voila("01_simulateur.ipynb", tmp_path) as url:
        page = open_page(browser, url, 1920, 1080)
        page.wait_for_function("document.body.innerText.includes('calcul à jour')",
                               timeout=120_000)
        assert norm(page.title()).startswith(EPCI_A)
        body = page.inner_text("body")
        assert not [w for w in ENGLISH if re.search(rf"\b{w}\b", body)], body[:500]
        smallest = page.evaluate("""Math.min(...[...document.querySelectorAll(
            '.mcm-panel label, .mcm-panel select, .mcm-panel td, .mcm-panel button, ' +
            '.mcm-panel .widget-readout')]
            .filter(e => e.offsetParent !== null && e.textContent.trim())
            .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
        assert smallest >= 14
        page.locator(".lm-TabBar-tab", has_text="Carte").first.click()
        wait_until(lambda: any(c["title"].startswith("Économie par rapport à l'achat seul")
                               and "23 communes" in c["label"] for c in charts_on_screen(page)),
                   60, "the map of the communes")
        assert not page.outside, page.outside
        page.close()
