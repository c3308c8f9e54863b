"""Output folders that never destroy: --out must be absent, empty or a folder this tool wrote.

Every hostile case is built here in code: a folder of someone else's files, the scenario's own
folder, a file, the current folder, a symbolic link, a path under a file. Each is refused with
exit status 2 and a French message naming the path, and nothing on disk changes. A folder with
the tool's marker is replaced; temporary folders of killed runs are cleaned; batch workers die
with their parent.
"""

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import model.report.export as export
from model.cli import main
from model.errors import OutputError
from model.report.export import (
    MARKER_FILE,
    check_out_dir,
    clean_stale,
    is_tool_dir,
    marker_text,
    scenario_inputs,
)
from model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "data" / "scenarios" / "beauce_loiretaine.yaml"
BEAUCE = "200035764"


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (dotfiles included) with its bytes (None for a folder)."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), folder) + "/"] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, folder)] = Path(p).read_bytes()
    return out


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A user's folder: the scenario (and a note) in ``etude/``, someone else's files in
    ``autres/``, a file ``note.txt``; the current folder is ``tmp_path``."""
    study = tmp_path / "etude"
    study.mkdir()
    shutil.copy(SCENARIO, study / "scenario.yaml")
    (study / "notes.md").write_text("mes notes\n", encoding="utf-8")
    others = tmp_path / "autres"
    (others / "photos").mkdir(parents=True)
    (others / "budget.xlsx").write_bytes(b"PK\x03\x04 pas a moi")
    (tmp_path / "note.txt").write_text("à garder\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def command(name: str, scenario: Path, out: str) -> list[str]:
    if name == "run":
        return ["run", str(scenario), "--out", out]
    if name == "sensitivity":
        return ["sensitivity", str(scenario), "--draws", "3", "--out", out]
    return ["batch", str(scenario), "--epci", BEAUCE, "--workers", "1", "--sans-progression",
            "--out", out]


CASES = {
    # out (relative to tmp_path) and a word the message must hold
    "foreign-folder": ("autres", "n'a pas été écrit par cet outil"),
    "scenario-folder": ("etude", "dossier du scénario"),
    "a-file": ("note.txt", "fichier"),
    "dot": (".", "dossier courant"),
    "under-a-file": ("note.txt/resultats", "fichier"),
    "parent": ("..", "contient le dossier courant"),
}


@pytest.mark.parametrize("cmd", ["run", "sensitivity", "batch"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_out_is_refused_and_nothing_changes(place, capsys, cmd, case):
    out, words = CASES[case]
    before = snapshot(place)
    code = main(command(cmd, place / "etude" / "scenario.yaml", out))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("Erreur : ") and f"« {out} »" in err and words in err, err
    assert "rien n'a été modifié" in err or "choisissez" in err, err
    assert "Traceback" not in err
    assert snapshot(place) == before


def test_folder_containing_the_scenario_folder_is_refused(place, capsys, monkeypatch):
    # from elsewhere, so that only the scenario rule applies: out = the scenario's parent
    monkeypatch.chdir(ROOT)
    (place / MARKER_FILE).write_text(marker_text(), encoding="utf-8")  # even a marked one
    before = snapshot(place)
    assert main(command("run", place / "etude" / "scenario.yaml", str(place))) == 2
    err = capsys.readouterr().err
    assert f"« {place} » contient le dossier du scénario" in err
    assert snapshot(place) == before


def test_scenario_inside_a_marked_output_folder_is_kept(place, capsys):
    """A scenario copied into a previous output folder: replacing the folder would delete it."""
    out = place / "resultats"
    assert main(command("run", place / "etude" / "scenario.yaml", "resultats")) == 0
    shutil.copy(place / "etude" / "scenario.yaml", out / "scenario.yaml")
    capsys.readouterr()
    before = snapshot(place)
    assert main(command("run", out / "scenario.yaml", "resultats")) == 2
    assert "est le dossier du scénario" in capsys.readouterr().err
    assert snapshot(place) == before


def test_data_file_is_protected(tmp_path):
    marked = tmp_path / "sorties"
    marked.mkdir()
    (marked / MARKER_FILE).write_text(marker_text(), encoding="utf-8")
    scenario = Scenario(epci=BEAUCE, data_file="../sorties/communes.xlsx",
                        base_dir=tmp_path / "etude")
    with pytest.raises(OutputError, match="contient le fichier de données du scénario"):
        check_out_dir(marked, scenario_inputs(scenario))


def test_symbolic_link_is_refused(tmp_path):
    target = tmp_path / "vrai"
    target.mkdir()
    (target / MARKER_FILE).write_text(marker_text(), encoding="utf-8")
    (tmp_path / "lien").symlink_to(target)
    with pytest.raises(OutputError, match="lien symbolique"):
        check_out_dir(tmp_path / "lien")


def test_absent_and_empty_folders_are_allowed(tmp_path):
    check_out_dir(tmp_path / "absent" / "plus-bas")
    (tmp_path / "vide").mkdir()
    check_out_dir(tmp_path / "vide")


def test_marked_folder_is_replaced_and_bytes_are_the_same(place, capsys):
    assert main(command("run", place / "etude" / "scenario.yaml", "resultats")) == 0
    out = place / "resultats"
    assert is_tool_dir(out)
    first = snapshot(out)
    assert first[MARKER_FILE] == marker_text().encode("utf-8")
    (out / "ancien.csv").write_text("x\n", encoding="utf-8")  # outputs of an older version
    assert main(command("run", place / "etude" / "scenario.yaml", "resultats")) == 0
    second = snapshot(out)
    assert "ancien.csv" not in second  # replaced as a whole
    assert set(second) == set(first)
    for name in first:
        if name != "summary.json":  # solver timings differ
            assert second[name] == first[name], name
    # nothing left beside it
    assert sorted(p.name for p in place.iterdir()) == [
        "autres", "etude", "note.txt", "resultats"]
    assert "Résultats écrits dans resultats/" in capsys.readouterr().out


def test_sensitivity_and_batch_folders_carry_the_marker(place, capsys):
    assert main(command("sensitivity", place / "etude" / "scenario.yaml", "sens")) == 0
    assert main(command("batch", place / "etude" / "scenario.yaml", "lot")) == 0
    assert is_tool_dir(place / "sens") and is_tool_dir(place / "lot")
    # again: a marked folder is accepted (the batch resumes, the sensitivity is replaced)
    assert main(command("sensitivity", place / "etude" / "scenario.yaml", "sens")) == 0
    assert main(command("batch", place / "etude" / "scenario.yaml", "lot")) == 0
    assert "1 repris" in capsys.readouterr().out


def test_batch_folder_of_an_earlier_version_is_resumed(place, capsys):
    assert main(command("batch", place / "etude" / "scenario.yaml", "lot")) == 0
    (place / "lot" / MARKER_FILE).unlink()  # as written before the marker existed
    assert main(command("batch", place / "etude" / "scenario.yaml", "lot")) == 0
    assert "1 repris" in capsys.readouterr().out
    assert is_tool_dir(place / "lot")


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_folders_are_cleaned(place, capsys):
    gone = dead_pid()
    stale_tmp = place / f".resultats.mutualisation-tmp-{gone}-abc123"
    stale_tmp.mkdir()
    (stale_tmp / MARKER_FILE).write_text(marker_text(), encoding="utf-8")
    (stale_tmp / "inputs.csv").write_text("moitié", encoding="utf-8")
    empty_tmp = place / f".resultats.mutualisation-tmp-{gone}-def456"
    empty_tmp.mkdir()  # killed between mkdtemp and the marker
    stale_old = place / f".resultats.mutualisation-old-{gone}"
    stale_old.mkdir()
    (stale_old / MARKER_FILE).write_text(marker_text(), encoding="utf-8")
    # not ours to clean: a living process's folder, a look-alike without the marker
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = place / f".resultats.mutualisation-tmp-{sleeper.pid}-zzz"
        live.mkdir()
        (live / MARKER_FILE).write_text(marker_text(), encoding="utf-8")
        lookalike = place / f".resultats.mutualisation-tmp-{gone}-user"
        lookalike.mkdir()
        (lookalike / "mes-donnees.csv").write_text("à garder", encoding="utf-8")
        assert main(command("run", place / "etude" / "scenario.yaml", "resultats")) == 0
        assert not stale_tmp.exists() and not empty_tmp.exists() and not stale_old.exists()
        assert live.exists() and (lookalike / "mes-donnees.csv").exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_outputs_cut_between_the_two_renames_are_put_back(tmp_path):
    """A run killed after moving the old outputs aside, before moving the new ones in."""
    gone = dead_pid()
    old = tmp_path / f".res.mutualisation-old-{gone}"
    old.mkdir()
    (old / MARKER_FILE).write_text(marker_text(), encoding="utf-8")
    (old / "summary.json").write_text("{}", encoding="utf-8")
    new = tmp_path / f".res.mutualisation-tmp-{gone}-x"
    new.mkdir()
    (new / MARKER_FILE).write_text(marker_text(), encoding="utf-8")
    clean_stale(tmp_path / "res")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
    assert (tmp_path / "res" / "summary.json").read_text(encoding="utf-8") == "{}"


def test_full_disk_writes_nothing_and_names_the_folder(place, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[1]))

    monkeypatch.setattr(export, "write_report", full)
    before = snapshot(place)
    assert main(command("run", place / "etude" / "scenario.yaml", "a/b/resultats")) == 2
    err = capsys.readouterr().err
    assert "« a/b/resultats »" in err and "disque plein" in err and "Traceback" not in err
    assert snapshot(place) == before  # not even the parents it created


def test_failure_keeps_the_previous_outputs(place, capsys, monkeypatch):
    assert main(command("run", place / "etude" / "scenario.yaml", "resultats")) == 0
    before = snapshot(place)
    monkeypatch.setattr(export, "write_report", lambda *a, **k: 1 / 0)
    assert main(command("run", place / "etude" / "scenario.yaml", "resultats")) == 1
    assert snapshot(place) == before


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # state, ppid, ...


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat and int(stat[1]) == pid:
                out.append(int(entry))
    return out


def _running(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")  # a zombie no longer runs


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_batch_workers_die_with_their_parent(tmp_path):
    """kill -9 of a batch leaves no worker computing: the workers go within a few seconds."""
    tpl = tmp_path / "modele.yaml"
    tpl.write_text("method: voted_key\n", encoding="utf-8")
    big = ["200067106", "200067213", "200054781", "200067205"]  # 158, 143, 130, 129 communes
    proc = subprocess.Popen(
        [sys.executable, "-m", "model", "batch", str(tpl), "--epci", *big, "--workers", "2",
         "--per-epci", "--sans-progression", "--out", str(tmp_path / "lot")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.1)
            workers = [p for p in _children(proc.pid) if _running(p)]
            assert proc.poll() is None, "the batch ended before its workers were seen"
        assert len(workers) >= 2, workers
        time.sleep(1.0)  # the workers are computing
        assert all(_running(p) for p in workers)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_running(p) for p in workers):
            time.sleep(0.1)
        assert not [p for p in workers if _running(p)], "orphan workers still running"
        assert not (tmp_path / "lot" / "batch.csv").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in workers:  # only the workers this test started, should the check fail
            if _running(p):
                os.kill(p, signal.SIGKILL)
