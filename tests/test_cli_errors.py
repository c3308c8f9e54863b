"""Every failure of the command line is a French line and an exit status, never a traceback.

Usage errors (argparse) are French with status 2 for each command; a fault of the tool gives
status 1 and a French line naming the log file that holds the traceback; an unwritable output
folder gives status 2 naming it. batch.csv and the sensitivity's CSVs are escaped against
formula injection like run's.
"""

import errno
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import model.report.export as export
from model.cli import main, translate_argparse
from model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "data" / "scenarios" / "beauce_loiretaine.yaml"
BEAUCE = "200035764"
ENGLISH = ("usage:", "error:", "the following", "invalid", "expected", "unrecognized",
           "not allowed", "choose from", "Traceback")


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "etude" / "scenario.yaml"
    path.parent.mkdir()
    shutil.copy(SCENARIO, path)
    return path


def usage_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert "utilisation : python -m model" in err and " : erreur : " in err, err
    for word in ENGLISH:
        assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", err), (word, err)
    return err


@pytest.mark.parametrize(("argv", "expected"), [
    ([], "arguments obligatoires manquants"),
    (["lancer"], "choix invalide : « lancer »"),
    (["run"], "arguments obligatoires manquants : SCÉNARIO, --out"),
    (["run", "s.yaml", "--out", "x", "--vite"], "arguments non reconnus : --vite"),
    (["run", "s.yaml", "--out"], "argument --out : une valeur est attendue"),
    (["batch", "s.yaml"], "arguments obligatoires manquants : --out"),
    (["batch", "s.yaml", "--out", "x", "--workers", "deux"],
     "argument --workers : nombre entier attendu, reçu « deux »"),
    (["batch", "s.yaml", "--out", "x", "--workers", "0"], "supérieur ou égal à 1"),
    (["batch", "s.yaml", "--out", "x", "--epci", "1", "--all"],
     "argument --all : incompatible avec l'argument --epci"),
    (["batch", "s.yaml", "--out", "x", "--epci"], "au moins une valeur est attendue"),
    (["sensitivity", "s.yaml", "--out", "x", "--draws", "1e3"], "nombre entier attendu"),
    (["sensitivity", "s.yaml", "--out", "x", "--proba-saut-saas", "moitié"],
     "argument --proba-saut-saas : nombre attendu"),
    (["sensitivity", "s.yaml", "--out", "x", "--croissance-rrf", "0.01", "0.02"],
     "argument --croissance-rrf : 3 valeur(s) attendue(s)"),
    (["template"], "arguments obligatoires manquants : --out"),
    (["template", "a", "b", "--out", "m.xlsx"], "arguments non reconnus : b"),
    (["coalition", "s.yaml", "--file", "g.txt"], "arguments obligatoires manquants : --year"),
    (["coalition", "s.yaml", "--file", "g.txt", "--year", "2028.5"],
     "argument --year : nombre entier attendu, reçu « 2028.5 »"),
    (["epci"], "arguments obligatoires manquants : {list,show}"),
    (["epci", "montrer"], "choix invalide : « montrer »"),
    (["epci", "list", "--departement"], "argument --departement/-d : une valeur est attendue"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_usage_errors_are_french_with_status_2(capsys, argv, expected):
    assert expected in usage_error(capsys, argv)


def test_help_is_french(capsys):
    assert main(["sensitivity", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("utilisation : python -m model sensitivity")
    assert "afficher cette aide et quitter" in out and "options:" in out
    assert "arguments positionnels:" in out and "show this help" not in out


def test_french_decimal_comma_is_accepted(tmp_path, capsys, scenario):
    out = tmp_path / "sens"
    assert main(["sensitivity", str(scenario), "--draws", "3", "--proba-saut-saas", "0,5",
                 "--croissance-rrf", "0,01", "0,02", "0,03", "--out", str(out)]) == 0
    import json

    meta = json.loads((out / "sensitivity.json").read_text(encoding="utf-8"))
    assert meta["saas_jump_probability"] == 0.5 and meta["rrf_growth"] == [0.01, 0.02, 0.03]


def test_unknown_messages_are_kept_and_nested_ones_translated():
    assert translate_argparse("quelque chose d'autre") == "quelque chose d'autre"
    assert (translate_argparse("argument --x: invalid choice: 'a' (choose from 'b', 'c')")
            == "argument --x : choix invalide : « a » (possibles : 'b', 'c')")


def test_usage_error_through_python_m(tmp_path):
    done = subprocess.run([sys.executable, "-m", "model", "run", "--nimporte"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert "erreur : arguments obligatoires manquants" in done.stderr
    assert "Traceback" not in done.stderr


# --- faults of the tool: status 1, a French line, the traceback in a log file --------------------

def _boom(*args, **kwargs):
    raise KeyError("clé interne absente")


FAULTS = {
    "run": ("model.run.run", lambda s, t: ["run", s, "--out", t]),
    "sensitivity": ("model.sensitivity.sensitivity",
                    lambda s, t: ["sensitivity", s, "--draws", "3", "--out", t]),
    "batch": ("model.batch.run_batch",
              lambda s, t: ["batch", s, "--epci", BEAUCE, "--sans-progression", "--out", t]),
    "coalition": ("model.coalition.coalition_costs",
                  lambda s, t: ["coalition", s, "--year", "2028", "--file", s]),
    "template": ("model.data.template.write_template",
                 lambda s, t: ["template", BEAUCE, "--out", t + ".xlsx"]),
    "epci": ("model.data.bundled.search_epci", lambda s, t: ["epci", "list", "blois"]),
}


@pytest.mark.parametrize("cmd", list(FAULTS))
def test_fault_of_the_tool_gives_status_1_and_a_log(tmp_path, capsys, monkeypatch, scenario, cmd):
    import tempfile

    target, argv = FAULTS[cmd]
    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(__import__(module, fromlist=[name]), name, _boom)
    if cmd == "coalition":  # coalition reads the groups before computing
        monkeypatch.setattr("model.coalition.read_groups", lambda *a, **k: [])
    logs = tmp_path / "journaux"
    logs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(logs))
    assert main(argv(str(scenario), str(tmp_path / "sortie"))) == 1
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in err and "clé interne absente" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("Erreur interne de l'outil (KeyError)"), err
    found = re.search(r"le détail technique est dans (\S+) ", err)
    assert found, err
    log = Path(found.group(1))
    assert log.parent == logs and log.name.startswith("mutualisation-erreur-")
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "clé interne absente" in text and f"commande : python -m model {cmd}" in text
    assert not (tmp_path / "sortie").exists()


def test_input_error_stays_status_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epci: '200035764'\nmethode: lp\n", encoding="utf-8")
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : ") and "bad.yaml" in err and "Traceback" not in err


# --- the system refuses: status 2, the path named --------------------------------------------------

def test_unwritable_out_dir(tmp_path, capsys, scenario):
    if os.geteuid() == 0:
        # chmod does not stop root: a path under a file fails the same way for everyone
        blocker = tmp_path / "fichier"
        blocker.write_text("x", encoding="utf-8")
        out = blocker / "sortie"
    else:
        locked = tmp_path / "verrou"
        locked.mkdir()
        locked.chmod(0o500)
        out = locked / "sortie"
    try:
        before = sorted(p.name for p in tmp_path.rglob("*"))
        assert main(["run", str(scenario), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("Erreur : ") and f"« {out} »" in err and "Traceback" not in err
        assert sorted(p.name for p in tmp_path.rglob("*")) == before
    finally:
        if os.geteuid() != 0:
            (tmp_path / "verrou").chmod(0o700)


@pytest.mark.parametrize(("exc", "words"), [
    (PermissionError(errno.EACCES, "Permission denied"), "accès refusé"),
    (OSError(errno.ENOSPC, "No space left on device"), "disque plein"),
    (OSError(errno.EROFS, "Read-only file system"), "lecture seule"),
])
def test_system_errors_while_writing(tmp_path, capsys, monkeypatch, scenario, exc, words):
    def fail(result, path):
        exc.filename = str(path)
        raise exc

    monkeypatch.setattr(export, "write_report", fail)
    out = tmp_path / "sortie"
    assert main(["run", str(scenario), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"« {out} »" in err and words in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["etude"]


def test_system_error_outside_the_output_helpers(tmp_path, capsys):
    folder = tmp_path / "modele.xlsx"
    folder.mkdir()  # a folder where the template file should go
    assert main(["template", BEAUCE, "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : ") and str(folder) in err and "dossier" in err


def test_permission_error_when_the_parent_is_locked(tmp_path, capsys, scenario):
    if os.geteuid() == 0:
        pytest.skip("chmod does not stop root (see test_unwritable_out_dir)")
    locked = tmp_path / "verrou"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["sensitivity", str(scenario), "--draws", "3", "--out",
                     str(locked / "sens")]) == 2
        err = capsys.readouterr().err
        assert "accès refusé" in err and str(locked / "sens") in err
    finally:
        locked.chmod(0o700)


# --- escaping outside run ---------------------------------------------------------------------

def test_batch_csv_is_escaped(tmp_path, capsys):
    tpl = tmp_path / "modele.yaml"
    tpl.write_text("method: population\n", encoding="utf-8")
    evil = ["=1+1", "@SOMME(A1)", "+33 1 23"]
    out = tmp_path / "lot"
    assert main(["batch", str(tpl), "--epci", *evil, "--workers", "1", "--sans-progression",
                 "--out", str(out)]) == 0
    text = (out / "batch.csv").read_text(encoding="utf-8")
    for value in evil:
        assert f"'{value}" in text
    for line in text.splitlines():
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "@")), line


def test_sensitivity_csvs_are_escaped(tmp_path):
    from model.data.bundled import load_epci
    from model.sensitivity import sensitivity, write_sensitivity

    codes = load_epci(BEAUCE).communes.index[:3]
    evil = ['=HYPERLINK("http://x")', "+33 commune", "@sum"]
    user = pd.DataFrame({"name": evil}, index=pd.Index(codes, name="commune"))
    result = sensitivity(Scenario(epci=BEAUCE).resolve(user_table=user), draws=3)
    out = write_sensitivity(result, tmp_path / "sens")
    text = (out / "shares.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'+33 commune" in text and "'@sum" in text
    assert ",=HYPERLINK" not in text and ",+33" not in text and ",@sum" not in text
    shares = pd.read_csv(out / "shares.csv", dtype={"commune": str})
    assert set(shares["name"]) >= {"'" + e for e in evil}
