"""The dossier de plénière in Debian's Chromium, as an elected official opens it: from a file,
with every request that is not a file aborted (none is attempted), its SVG charts visible on
screen and in print, its text large enough; and the PDF the same browser prints of it.

Runs when /usr/bin/chromium exists (always in CI: there a missing browser is a failure). The
first screen is kept in tests/artifacts/dossier.png.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401 - the fixture, reused

from model.report.dossier import HTML_NAME, PDF_NAME, dossier_results, write_dossier
from model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "data" / "scenarios" / "agglopolys.yaml"
#: 11 pt in CSS pixels (1 pt = 96/72 px).
PT11_PX = 11 * 96 / 72
#: The printable width of an A4 page (210 mm less the dossier's 14 mm margins) in CSS pixels:
#: print emulation lays the page out at the viewport's width, without the @page margins.
A4_WIDTH_PX = round((210 - 2 * 14) / 25.4 * 96)

pytestmark = pytest.mark.browser

#: The smallest text outside the charts: [font size in px, where].
SMALLEST_TEXT_JS = """() => {
  let size = 1e9, where = "";
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("svg")) continue;
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!text || !el.getClientRects().length) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < size) { size = px; where = el.tagName + ": " + el.textContent.slice(0, 40); }
  }
  return [size, where];
}"""
#: The smallest text inside the charts as drawn (its size times the SVG's scale).
SMALLEST_CHART_TEXT_JS = """() => {
  let size = 1e9, where = "";
  for (const svg of document.querySelectorAll("figure svg")) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll("text")) {
      if (!t.textContent.trim()) continue;
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (px < size) { size = px; where = t.textContent.slice(0, 40); }
    }
  }
  return [size, where];
}"""


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Agglopolys with a variant B, the dossier and its PDF written by Debian's Chromium."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run should install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    a, b = dossier_results(Scenario.from_yaml(SCENARIO), "potentiel_financier")
    files = write_dossier(a, tmp_path_factory.mktemp("dossier") / "out", variant=b)
    return a, files


def open_offline(browser, path: Path, width: int, height: int):  # noqa: F811
    """The dossier from file://, every other request aborted and kept in ``page.outside``."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.outside = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            page.outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    return page


def charts_shown(page) -> list[dict]:
    svgs = page.locator("figure svg[role=img]")
    boxes = []
    for i in range(svgs.count()):
        svg = svgs.nth(i)
        svg.scroll_into_view_if_needed()
        assert svg.is_visible()
        assert len(svg.get_attribute("aria-label")) > 30
        boxes.append(svg.bounding_box())
    return boxes


def test_the_dossier_opens_offline_with_its_charts(browser, written):  # noqa: F811
    result, files = written
    page = open_offline(browser, files[0], 1280, 800)
    name = result.projection.resolved.epci.name
    assert page.title() == f"Dossier de plénière — {name}"
    assert name in page.locator("h1").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dossier.png"))
    boxes = charts_shown(page)
    assert len(boxes) >= 5  # blades, waterfall, burdens, the map, who pays more with B
    assert all(b["width"] > 400 and b["height"] > 200 for b in boxes), boxes
    assert page.locator("figure table").count() == len(boxes)
    size, where = page.evaluate(SMALLEST_TEXT_JS)
    assert size >= 16, where
    size, where = page.evaluate(SMALLEST_CHART_TEXT_JS)
    assert size >= 16, where
    assert page.outside == []
    page.close()


def test_print_keeps_the_charts_whole_and_the_text_at_11_pt(browser, written):  # noqa: F811
    _, files = written
    page = open_offline(browser, files[0], A4_WIDTH_PX, 1123)
    page.emulate_media(media="print")
    boxes = charts_shown(page)
    assert len(boxes) >= 5
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= A4_WIDTH_PX and b["height"] > 150
               for b in boxes), boxes
    size, where = page.evaluate(SMALLEST_TEXT_JS)
    assert size >= PT11_PX - 0.01, where
    size, where = page.evaluate(SMALLEST_CHART_TEXT_JS)  # the charts fitted to the page
    assert size >= PT11_PX, where
    assert page.outside == []
    page.close()


def test_the_pdf_is_printed_from_the_same_page(written):
    result, files = written
    assert [p.name for p in files] == [HTML_NAME, PDF_NAME], files.pdf_note
    pdf = files[1].read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert 200_000 < len(pdf) < 20_000_000
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(files[1])], capture_output=True, text=True,
                              check=True).stdout
        pages = int(next(line.split()[-1] for line in info.splitlines()
                         if line.startswith("Pages:")))
        assert 8 <= pages <= 60
        assert "A4" in info or "595" in info  # 595 x 842 pts
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(files[1]), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert result.projection.resolved.epci.name in text
        assert "Qui paie quoi en" in text and "Annexe financière" in text
        assert "Page 1 / " in text
