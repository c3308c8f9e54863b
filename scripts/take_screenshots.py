"""Refresh the README's screenshots (docs/img/) from the dashboards as `make dashboard` and
`make simulateur` serve them, in Debian's Chromium.

Usage: ``.venv/bin/python scripts/take_screenshots.py`` (needs /usr/bin/chromium).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from test_browser import CHROMIUM, CHROMIUM_ARGS, open_page, settle, voila  # noqa: E402

IMG = ROOT / "docs" / "img"
TERRITORY = "CC de la Beauce Loirétaine"


def main() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with voila("03_pleniere.ipynb", Path(tmp)) as url:
            for width, height, name in ((1920, 1080, "pleniere.png"),
                                        (1280, 720, "pleniere_1280.png")):
                page = open_page(browser, url, width, height)
                settle(page, TERRITORY)
                time.sleep(1)
                page.screenshot(path=str(IMG / name))
                page.close()
        with voila("01_simulateur.ipynb", Path(tmp)) as url:
            page = open_page(browser, url, 1920, 1080)
            page.wait_for_function("document.body.innerText.includes('calcul à jour')",
                                   timeout=120_000)
            page.screenshot(path=str(IMG / "simulateur.png"))
            for tab, name in (("Effet ciseau", "effet_ciseau.png"), ("Carte", "carte.png")):
                page.locator(".lm-TabBar-tab", has_text=tab).first.click()
                page.wait_for_timeout(2500)
                page.screenshot(path=str(IMG / name))
            page.close()
        browser.close()
    print(f"screenshots written to {IMG}")


if __name__ == "__main__":
    main()
