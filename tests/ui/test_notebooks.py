"""Every notebook runs headless (nbclient / papermill), is stored without outputs and is thin."""

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIMEOUT = 120


def test_the_four_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01_simulateur.ipynb", "02_effet_ciseau.ipynb",
                                           "03_pleniere.ipynb", "04_analyse.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_stored_without_outputs_and_stay_thin(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert len(code) <= 3
    assert all(len(c.source.splitlines()) <= 8 for c in code)
    assert any("from model" in c.source for c in code)


def _errors(nb) -> list[str]:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error" or o.get("name") == "stderr":
                out.append(json.dumps(o)[:500])
            if "Traceback" in json.dumps(o):
                out.append(json.dumps(o)[:500])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "analyse" not in p.name],
                         ids=lambda p: p.stem)
def test_widget_notebooks_execute_headless(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert not _errors(nb)
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    views = [o for o in last.outputs
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, "the panel was not displayed as a widget"


@pytest.mark.slow
def test_analysis_notebook_runs_with_papermill_parameters(tmp_path):
    out_dir = tmp_path / "sorties"
    output = tmp_path / "analyse.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "04_analyse.ipynb"), str(output),
        parameters={"scenarios": ["beauce_loiretaine"], "epcis": [], "out_dir": str(out_dir),
                    "save_charts": False},
        cwd=str(tmp_path), kernel_name="python3", execution_timeout=TIMEOUT, progress_bar=False)
    nb = nbformat.read(output, as_version=4)
    assert not _errors(nb)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    folder = out_dir / "cc_de_la_beauce_loiretaine_scenario_de_reference"
    assert (folder / "summary.json").exists() and (folder / "report.xlsx").exists()
    assert not (folder / "graphiques").exists()
    assert (out_dir / "synthese.csv").read_text(encoding="utf-8-sig").count("\n") == 2
