"""Regenerate the user templates in data/templates/ (blank XLSX and CSV, Agglopolys example).

Run from the repository root: ``.venv/bin/python scripts/make_templates.py``. The output is
reproducible: rerunning it on unchanged code and data leaves the files identical.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.data.bundled import load_epci  # noqa: E402
from model.data.template import write_template  # noqa: E402

OUT = ROOT / "data" / "templates"
EXAMPLE_SIREN = "200030385"  # CA de Blois "Agglopolys", 43 communes


def main() -> list[Path]:
    """Write the three templates and return their paths."""
    return [
        write_template(OUT / "modele_communes.xlsx"),
        write_template(OUT / "modele_communes.csv"),
        write_template(OUT / "modele_communes_agglopolys.xlsx", load_epci(EXAMPLE_SIREN)),
    ]


if __name__ == "__main__":
    for path in main():
        sys.stdout.write(f"{path.relative_to(ROOT)}\n")
