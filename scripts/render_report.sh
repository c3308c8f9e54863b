#!/usr/bin/env bash
# Print the Synthèse and the financial annex of report.xlsx as LibreOffice prints them, to PNG:
#   scripts/render_report.sh [SCENARIO.yaml] [OUT_DIR]
# (defaults: data/scenarios/beauce_loiretaine.yaml, docs/img). Writes OUT_DIR/rapport_synthese.png
# and OUT_DIR/rapport_annexe.png, the first printed page of each sheet.
# Needs Debian's libreoffice-calc (soffice) and poppler-utils (pdftoppm); the tests do not.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario="${1:-data/scenarios/beauce_loiretaine.yaml}"
out="${2:-docs/img}"
python="${PYTHON:-.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# one workbook per sheet, laid out exactly as in report.xlsx (charts included)
"$python" - "$scenario" "$work" <<'EOF'
import sys
from pathlib import Path

from model.report.export import report_layouts
from model.run import run
from model.scenario import Scenario
from model.xlsx import write_workbook

scenario, work = Path(sys.argv[1]), Path(sys.argv[2])
layouts = report_layouts(run(Scenario.from_yaml(scenario)))
for name, prefix in (("synthese", "Synthèse"), ("annexe", "Annexe financière")):
    lay = next(lay for lay in layouts if lay.title.startswith(prefix))
    (work / f"{name}.xlsx").write_bytes(write_workbook([lay]))
EOF

for name in synthese annexe; do
  soffice --headless --norestore "-env:UserInstallation=file://$work/profile" \
    --convert-to pdf --outdir "$work" "$work/$name.xlsx" >/dev/null 2>&1
  pdftoppm -png -r 90 -f 1 -l 1 -singlefile "$work/$name.pdf" "$out/rapport_$name"
  echo "$out/rapport_$name.png ($(pdfinfo "$work/$name.pdf" | awk '/^Pages/ {print $2}') page(s) imprimée(s))"
done
