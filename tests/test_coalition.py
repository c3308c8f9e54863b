"""`python -m model coalition`: what a group of communes would pay alone, on the real Agglopolys."""

import io
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main
from model.coalition import COLUMNS
from model.projection import EPCI_ID
from model.run import run
from model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "data" / "scenarios" / "agglopolys.yaml"
POOLS = ["dsi", "dpo", "archivage", "licences"]
CENT = 0.011  # two independently rounded amounts differ by at most a cent


@pytest.fixture(scope="module")
def agglo_run():
    return run(Scenario.from_yaml(SCENARIO))


@pytest.fixture(scope="module")
def codes(agglo_run):
    return list(agglo_run.resolved.communes.values.index)


def coalition(tmp_path, capsys, lines, year=2028, scenario=SCENARIO) -> pd.DataFrame:
    groups = tmp_path / "groupes.txt"
    groups.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["coalition", str(scenario), "--year", str(year), "--file", str(groups)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("group,pool,cost_eur\n")
    return pd.read_csv(io.StringIO(out), dtype={"group": str})


def costs_of(table: pd.DataFrame) -> pd.DataFrame:
    """group x pool euros (a group given twice has the same costs twice: keep one)."""
    return table.drop_duplicates(["group", "pool"]).pivot(index="group", columns="pool", values="cost_eur")


def error(tmp_path, capsys, text, year=2028, scenario=SCENARIO, name="groupes.txt") -> str:
    """Run the command on a groups file reading ``text``; it must fail with status 2, silently."""
    groups = tmp_path / name
    if text is not None:
        groups.write_text(text, encoding="utf-8")
    assert main(["coalition", str(scenario), "--year", str(year), "--file", str(groups)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Erreur : ")
    return captured.err


@pytest.mark.parametrize("year", [2026, 2028, 2032])
def test_singleton_is_the_standalone_cost_of_the_run(tmp_path, capsys, agglo_run, codes, year):
    table = coalition(tmp_path, capsys, codes, year=year)
    assert list(table.columns) == COLUMNS
    assert len(table) == len(codes) * len(POOLS)
    assert list(table["pool"][:4]) == POOLS
    got = costs_of(table)
    inputs = agglo_run.projection.inputs
    inputs = inputs[(inputs["year"] == year) & (inputs["payer_id"] != EPCI_ID)]
    expected = inputs.pivot(index="payer_id", columns="pool", values="standalone_eur")
    assert sorted(got.index) == sorted(expected.index)
    diff = (got - expected.loc[got.index, got.columns]).abs()
    assert (diff.to_numpy() <= 0.005 + 1e-9).all()


@pytest.mark.parametrize("year", [2026, 2028, 2032])
def test_whole_epci_is_the_pooled_cost_of_the_year(tmp_path, capsys, agglo_run, codes, year):
    got = costs_of(coalition(tmp_path, capsys, [",".join(codes)], year=year))
    assert list(got.index) == ["+".join(codes)]
    summary = next(y for y in agglo_run.summary["years"] if y["year"] == year)
    for pool in POOLS:
        assert got.loc["+".join(codes), pool] == pytest.approx(
            summary["pooled_cost_eur"][pool], abs=CENT)


def test_cost_of_a_union_is_at_most_the_sum_of_its_parts(tmp_path, capsys, codes):
    rng = random.Random(0)
    pairs = [([codes[0]], [codes[1]]), (codes[:1], codes[1:]), (codes[-3:], codes[-6:-3])]
    for _ in range(20):
        picked = rng.sample(codes, rng.randint(2, len(codes)))
        cut = rng.randint(1, len(picked) - 1)
        pairs.append((picked[:cut], picked[cut:]))
    lines = [",".join(g) for pair in pairs for g in (*pair, pair[0] + pair[1])]
    got = costs_of(coalition(tmp_path, capsys, lines, year=2030))
    strict = 0
    for a, b in pairs:
        union = got.loc["+".join(a + b)]
        parts = got.loc["+".join(a)] + got.loc["+".join(b)]
        assert (union <= parts + CENT).all()
        strict += int((union < parts - 1).any())
    assert strict == len(pairs)  # pooling saves at least a euro on some pool for every pair


def test_groups_file_is_read_leniently(tmp_path, capsys, codes):
    a, b = codes[0], codes[1]
    lines = ["# Blois et Vineuil, puis Vineuil seule", "", f"  {a} , {b}  ", "   ",
             f"  # {a}", b]
    table = coalition(tmp_path, capsys, lines)
    assert list(dict.fromkeys(table["group"])) == [f"{a}+{b}", b]


def test_user_figures_are_used(tmp_path, capsys, codes):
    csv = tmp_path / "communes.csv"
    csv.write_text(f"Code INSEE;Postes de travail\n{codes[0]};3 000\n", encoding="cp1252")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"epci: '200030385'\ndata_file: {csv.name}\n", encoding="utf-8")
    got = costs_of(coalition(tmp_path, capsys, [codes[0]], scenario=scenario))
    result = run(Scenario.from_yaml(scenario))
    assert result.resolved.communes.values.loc[codes[0], "workstations"] == 3000
    inputs = result.projection.inputs
    row = inputs[(inputs["year"] == 2028) & (inputs["payer_id"] == codes[0])
                 & (inputs["pool"] == "dsi")].iloc[0]
    assert got.loc[codes[0], "dsi"] == pytest.approx(row["standalone_eur"], abs=0.005)
    base = costs_of(coalition(tmp_path, capsys, [codes[0]]))
    assert got.loc[codes[0], "dsi"] != base.loc[codes[0], "dsi"]


def test_command_line_prints_csv_with_dot_decimals(tmp_path, codes):
    groups = tmp_path / "g.txt"
    groups.write_text(f"{codes[0]},{codes[1]}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "model", "coalition", str(SCENARIO), "--year", "2027",
         "--file", str(groups)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "group,pool,cost_eur"
    assert [ln.split(",")[:2] for ln in lines[1:]] == [[f"{codes[0]}+{codes[1]}", p] for p in POOLS]
    for ln in lines[1:]:
        amount = ln.split(",")[2]
        assert amount.count(".") == 1 and len(amount.split(".")[1]) == 2


# --- errors: French, file and line named, status 2, nothing on stdout --------------------------

def test_unknown_code(tmp_path, capsys, codes):
    err = error(tmp_path, capsys, f"{codes[0]}\n{codes[1]},99999\n")
    assert "fichier « groupes.txt », ligne 2" in err
    assert "code INSEE 99999 inconnu" in err


def test_malformed_code(tmp_path, capsys, codes):
    err = error(tmp_path, capsys, f"{codes[0]};{codes[1]}\n")
    assert "fichier « groupes.txt », ligne 1" in err and "invalide" in err


def test_code_outside_the_epci_names_the_epci(tmp_path, capsys, codes):
    err = error(tmp_path, capsys, f"# Blois et Vendôme\n{codes[0]},41269\n")
    assert "fichier « groupes.txt », ligne 2" in err
    assert "41269 (Vendôme) n'est pas membre de l'EPCI CA de Blois" in err
    assert "200030385" in err and "Territoires Vendômois" in err


def test_duplicate_code_on_a_line(tmp_path, capsys, codes):
    err = error(tmp_path, capsys, f"{codes[0]},{codes[1]}\n\n{codes[2]}, {codes[3]},{codes[2]}\n")
    assert "fichier « groupes.txt », ligne 3" in err
    assert f"code INSEE {codes[2]} en double" in err


@pytest.mark.parametrize("text", ["", "\n  \n", "# rien\n\n# encore rien\n"])
def test_empty_file(tmp_path, capsys, text):
    err = error(tmp_path, capsys, text)
    assert "fichier « groupes.txt »" in err and "aucun groupe de communes" in err


def test_empty_code_between_commas(tmp_path, capsys, codes):
    err = error(tmp_path, capsys, f"{codes[0]},,{codes[1]},\n")
    assert "fichier « groupes.txt », ligne 1" in err and err.count("code INSEE vide") == 1


@pytest.mark.parametrize("year", [2025, 2040])
def test_year_outside_the_projection(tmp_path, capsys, codes, year):
    err = error(tmp_path, capsys, f"{codes[0]}\n", year=year)
    assert "fichier « agglopolys.yaml »" in err
    assert f"année {year} hors de la période de projection" in err
    assert "entre 2026 et 2032" in err


def test_missing_groups_file(tmp_path, capsys):
    err = error(tmp_path, capsys, None, name="absent.txt")
    assert "absent.txt" in err and "introuvable" in err


def test_uninhabited_commune_is_not_in_the_pool(tmp_path, capsys):
    # CA du Grand Verdun: the villages destroyed in 1916 have no inhabitant and are left out.
    scenario = tmp_path / "verdun.yaml"
    scenario.write_text("epci: '200049187'\n", encoding="utf-8")
    resolved = Scenario.from_yaml(scenario).resolve()
    assert "55039" in resolved.excluded.index
    inhabited = resolved.communes.values.index[0]
    err = error(tmp_path, capsys, f"{inhabited},55039\n", scenario=scenario)
    assert "fichier « groupes.txt », ligne 1" in err
    assert "55039 (Beaumont-en-Verdunois) est hors de la mutualisation" in err
    assert "sans habitant" in err


def test_every_problem_is_reported_at_once(tmp_path, capsys, codes):
    err = error(tmp_path, capsys, f"{codes[0]},00000\n{codes[1]},{codes[1]}\n{codes[2]}\n")
    assert "2 problèmes" in err
    assert "ligne 1" in err and "ligne 2" in err and "ligne 3" not in err


def test_exit_status_through_python_m(tmp_path):
    groups = tmp_path / "g.txt"
    groups.write_text("99999\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "model", "coalition", str(SCENARIO), "--year", "2028",
         "--file", str(groups)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "g.txt" in done.stderr and "ligne 1" in done.stderr
