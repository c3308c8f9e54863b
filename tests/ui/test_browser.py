"""The Plénière dashboard served by Voilà, in Debian's Chromium: loads offline, reacts to a control.

Runs when /usr/bin/chromium exists (always in CI, where .ci/run installs it and CI=true: there a
missing browser is a failure, not a skip). The screenshot is kept in tests/artifacts/.
"""

import os
import shutil
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


def test_pleniere_dashboard_in_chromium(browser, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = (tmp_path / "voila.log").open("w")
    proc = subprocess.Popen(
        [str(VOILA), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         str(ROOT / "notebooks" / "03_pleniere.ipynb")],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_http(url, proc)
        page = browser.new_page(viewport={"width": 1500, "height": 2300})
        failed = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(url, timeout=90_000)
        page.wait_for_selector(".mcm-table", timeout=90_000)
        charts = page.locator(".vega-embed")
        wait_until(lambda: charts.count() >= 4 and page.locator(".vega-embed svg, "
                                                                ".vega-embed canvas").count() >= 4,
                   60, "four rendered charts")
        assert "Traceback" not in page.content()
        assert "In [" not in page.inner_text("body")  # no code on screen
        table = page.locator(".mcm-table").first
        table_before = table.inner_text()
        assert "Année du ciseau" in table_before
        time.sleep(1.0)
        chart_b = charts.nth(1)
        shot_before = chart_b.screenshot()

        handle = page.locator(".noUi-handle").first  # « Hausse des licences B »
        handle.focus()
        for _ in range(5):
            handle.press("ArrowRight")
        wait_until(lambda: table.inner_text() != table_before, 60, "the figures table to change")

        def chart_changed():
            time.sleep(0.5)
            return chart_b.screenshot() != shot_before

        wait_until(chart_changed, 30, "the scissor chart B to redraw")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "pleniere.png"), full_page=True)
        assert (ARTIFACTS / "pleniere.png").stat().st_size > 50_000
        external = [u for u in failed if "127.0.0.1" not in u and "fontawesome" not in u.lower()
                    and "font-awesome" not in u.lower()]
        assert not [u for u in external if "vega" in u or "esm.sh" in u or "jsdelivr" in u], \
            external
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        shutil.rmtree(tmp_path / "unused", ignore_errors=True)
