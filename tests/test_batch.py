"""Batch over real EPCIs: same numbers as single runs, resume, failures flagged, pool and Dask."""

import json

import numpy as np
import pandas as pd
import pytest

from model.allocation import largest_remainder
from model.allocation.inputs import to_arrays
from model.allocation.rounding import largest_remainder_columns
from model.batch import (
    BATCH_COLUMNS,
    PARTS_FILE,
    WORK_DIR,
    epci_rows,
    load_template,
    read_table,
    rows_from_run,
    run_batch,
)
from model.cli import main
from model.errors import InputError
from model.projection import (
    YearArrays,
    allocation_inputs,
    base_costs,
    price_index,
    resource_index,
    year_costs,
)
from model.run import run
from model.scenario import Scenario

BEAUCE = "200035764"      # CC de la Beauce Loirétaine, 23 communes, FPU
PETITE_TERRE = "200050532"  # CC de Petite-Terre, 2 communes (exact Shapley)
AIGUEBLANCHE = "247300015"  # CC des Vallées d'Aigueblanche, 3 communes, FA
VERSANTS = "247300817"    # CC Les Versants d'Aime, 4 communes
ROUSSES = "243900354"     # CC de la Station des Rousses-Haut Jura, 4 communes
FIVE = [PETITE_TERRE, AIGUEBLANCHE, VERSANTS, ROUSSES, BEAUCE]


def template(**kwargs) -> Scenario:
    return Scenario(epci="", **kwargs)


@pytest.mark.parametrize("scenario", [
    Scenario(epci=BEAUCE),
    Scenario(epci=PETITE_TERRE, method="population"),
    Scenario(epci=BEAUCE, pools=["dsi", "licences"], settlement="ac", method="shapley",
             assumptions={"allocation": {"epci_share": {"dsi": 0.25}},
                          "projection": {"rrf_growth": 0.0}}),
], ids=["beauce", "petite-terre-population", "beauce-epci-share-ac"])
def test_fast_rows_equal_a_full_run(scenario):
    fast = epci_rows(scenario.resolve())
    ref = rows_from_run(run(scenario))
    assert list(fast.columns) == BATCH_COLUMNS
    pd.testing.assert_frame_equal(fast, ref, check_exact=False, rtol=1e-12, atol=0)
    # the case with rrf_growth 0 must actually cross thresholds, or the scissor check is idle
    if scenario.assumptions:
        assert fast["first_commune_digital_burden_standalone"].notna().all()


def test_year_arrays_equal_the_official_ones():
    scenario = Scenario(epci=BEAUCE, assumptions={"allocation": {"epci_share": {"dpo": 0.4}}})
    resolved = scenario.resolve()
    base = base_costs(resolved)
    pools = list(base.pooled.index)
    ym = YearArrays(resolved, base, pools)
    prices, cap = price_index(resolved), resource_index(resolved)
    for k, year in enumerate(resolved.years):
        official = to_arrays(allocation_inputs(
            resolved, year_costs(resolved, base, prices.loc[year], year, cap.loc[year])))
        mine = ym.arrays(prices[pools].to_numpy()[k], cap.to_numpy()[k])
        for name in ("total", "lower", "upper", "standalone", "incremental", "capacity", "usage"):
            assert np.array_equal(getattr(mine, name), getattr(official, name)), (year, name)


def test_vectorised_rounding_equals_largest_remainder():
    rng = np.random.default_rng(1)
    labels = pd.Index([f"{c:05d}" for c in rng.permutation(90000)[:40] + 10000])
    raw = rng.random((40, 12)) * 1e4
    raw[:, 3] = 1234.565  # every remainder tied: the label breaks ties
    raw[:, 4] = np.round(raw[:, 4], 2)  # already in cents
    targets = np.round(raw.sum(axis=0) * 100).astype(np.int64)
    targets[5] += 37  # more cents to hand out than remainders
    targets[6] -= 25  # cents to take back
    rank = np.empty(40, dtype=np.int64)
    rank[np.lexsort((np.array([str(x) for x in labels]),))] = np.arange(40)
    mine = largest_remainder_columns(raw, targets, rank)
    for j in range(raw.shape[1]):
        ref = largest_remainder(pd.Series(raw[:, j], index=labels), int(targets[j]))
        assert np.array_equal(mine[:, j], ref.to_numpy()), j


def test_resume_computes_only_the_new_epcis(tmp_path):
    out = tmp_path / "lot"
    first = run_batch(template(), FIVE[:3], out, workers=1, progress=False)
    assert sorted(first.computed) == sorted(FIVE[:3])
    before = read_table(first.table)
    second = run_batch(template(), FIVE, out, workers=1, progress=False)
    assert sorted(second.computed) == sorted(FIVE[3:])
    assert sorted(second.skipped) == sorted(FIVE[:3])
    table = read_table(second.table)
    assert table["epci_siren"].nunique() == 5 and len(table) == 5 * 7
    kept = table[table["epci_siren"].isin(FIVE[:3])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before.reset_index(drop=True))


def test_interrupted_line_is_redone(tmp_path):
    out = tmp_path / "lot"
    run_batch(template(), FIVE[:2], out, workers=1, progress=False)
    parts = out / WORK_DIR / PARTS_FILE
    lines = parts.read_text(encoding="utf-8").splitlines()
    cut = json.loads(lines[-1])["siren"]
    parts.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2], encoding="utf-8")
    again = run_batch(template(), FIVE[:2], out, workers=1, progress=False)
    assert again.computed == [cut]
    assert read_table(again.table)["epci_siren"].nunique() == 2


def test_failing_epci_is_flagged_not_fatal(tmp_path):
    result = run_batch(template(settlement="ac"), [BEAUCE, AIGUEBLANCHE, "999999999"],
                       tmp_path / "lot", workers=1, progress=False)
    table = read_table(result.table)
    assert sorted(result.failed) == sorted([AIGUEBLANCHE, "999999999"])
    fa = table[table["epci_siren"] == AIGUEBLANCHE]
    assert len(fa) == 1 and fa["status"].iloc[0] == "erreur"
    assert "fiscalité professionnelle unique" in fa["error"].iloc[0]
    assert fa["epci_name"].iloc[0] == "CC des Vallées d'Aigueblanche"
    assert "EPCI inconnu" in table.loc[table["epci_siren"] == "999999999", "error"].iloc[0]
    ok = table[table["epci_siren"] == BEAUCE]
    assert len(ok) == 7 and (ok["status"] == "ok").all() and (ok["error"] == "").all()


def test_another_template_in_the_same_folder_is_refused(tmp_path):
    run_batch(template(), FIVE[:1], tmp_path / "lot", workers=1, progress=False)
    with pytest.raises(InputError, match="autre scénario"):
        run_batch(template(method="equal"), FIVE[:1], tmp_path / "lot", workers=1,
                  progress=False)


def test_process_pool_and_dask_give_the_serial_table(tmp_path):
    serial = read_table(run_batch(template(), FIVE[:3], tmp_path / "serial", workers=1,
                                  progress=False).table)
    pool = run_batch(template(), FIVE[:3], tmp_path / "pool", workers=2, progress=False)
    pd.testing.assert_frame_equal(read_table(pool.table), serial)
    dask = run_batch(template(), FIVE[:3], tmp_path / "dask", workers=2, dask="local",
                     dask_processes=False, progress=False)
    assert sorted(dask.computed) == sorted(FIVE[:3])
    pd.testing.assert_frame_equal(read_table(dask.table), serial)
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        remote = run_batch(template(), FIVE[:2], tmp_path / "remote",
                           dask=cluster.scheduler_address, progress=False)
    assert sorted(remote.computed) == sorted(FIVE[:2])
    pd.testing.assert_frame_equal(read_table(remote.table),
                                  serial[serial["epci_siren"].isin(FIVE[:2])].reset_index(drop=True))


def test_template_with_user_data_is_refused(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("data_file: mes_donnees.xlsx\n", encoding="utf-8")
    with pytest.raises(InputError, match="data_file"):
        load_template(path)
    path.write_text("methode: lp\n", encoding="utf-8")
    with pytest.raises(InputError, match="methode"):
        load_template(path)


def test_cli_batch_with_per_epci_outputs(tmp_path, capsys):
    tpl = tmp_path / "modele.yaml"
    tpl.write_text("method: lp\nsolver: highs-fast\n", encoding="utf-8")
    out = tmp_path / "lot"
    code = main(["batch", str(tpl), "--epci", PETITE_TERRE, "--out", str(out), "--workers", "1",
                 "--per-epci", "--sans-progression"])
    assert code == 0
    assert "1 EPCI : 1 calculés" in capsys.readouterr().out
    summary = json.loads((out / "epci" / PETITE_TERRE / "summary.json").read_text("utf-8"))
    table = read_table(out / "batch.csv")
    assert table["max_burden"].tolist() == pytest.approx([y["max_burden"] for y in summary["years"]])
    assert main(["batch", str(tpl), "--out", str(tmp_path / "x")]) == 2
