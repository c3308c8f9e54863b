"""Assumptions are sourced and overridable; missing commune figures are estimated and flagged."""

import numpy as np
import pandas as pd
import pytest

from model.data.assumptions import apply_overrides, load_assumptions
from model.data.estimate import complete_communes, drf_per_hab, potentiel_financier_per_hab
from model.data.schema import NUMERIC
from model.errors import InputError


def test_every_assumption_has_value_unit_source_note():
    tree = load_assumptions()
    for topic, entries in tree.items():
        for name, entry in entries.items():
            assert set(entry) == {"value", "unit", "source", "note"}, (topic, name)
            assert entry["source"].strip(), f"{topic}.{name} has no source"
            assert entry["unit"].strip(), f"{topic}.{name} has no unit"


def test_pools_are_grouped_with_the_same_parameters():
    tree = load_assumptions()
    params = {"driver", "fixed", "unit", "ref_volume", "scale_elasticity", "floor_share",
              "min_price", "growth"}
    for pool in ("dsi", "dpo", "archivage", "licences"):
        assert params <= set(tree[pool]), pool


def test_override_changes_value_and_records_origin():
    tree = apply_overrides(load_assumptions(), {"licences": {"growth": 0.08}})
    assert tree["licences"]["growth"]["value"] == 0.08
    assert "scénario" in tree["licences"]["growth"]["source"]
    assert load_assumptions()["licences"]["growth"]["value"] == 0.032  # default untouched


def test_override_of_a_mapping_merges_keys():
    tree = apply_overrides(load_assumptions(), {"allocation": {"epci_share": {"dsi": 0.3}}})
    assert tree["allocation"]["epci_share"]["value"] == {
        "dsi": 0.3, "dpo": 0.0, "archivage": 0.0, "licences": 0.0}


def test_unknown_overrides_are_all_reported():
    with pytest.raises(InputError) as err:
        apply_overrides(load_assumptions(), {"licences": {"growht": 1}, "nope": {"x": 1}})
    assert len(err.value.problems) == 2
    assert "growht" in str(err.value) and "nope" in str(err.value)


def test_potentiel_financier_uses_dgcl_strata():
    pop = pd.Series([120, 750, 4000, 9999, 12000, 250000])
    per_hab = potentiel_financier_per_hab(pop, 2026)
    assert per_hab.round(2).tolist() == [836.19, 870.85, 1113.2, 1276.02, 1232.25, 1722.04]


def test_drf_interpolation_hits_the_anchors():
    anchors = {50: 900, 500: 760, 100000: 1700}
    got = drf_per_hab(pd.Series([10, 50, 500, 100000, 500000]), anchors)
    assert got.tolist() == pytest.approx([900, 900, 760, 1700, 1700])


def test_complete_communes_estimates_and_flags(agglopolys, values):
    given = agglopolys.communes[["name", "population"]].astype({"population": float})
    given["agents"] = np.nan
    given.loc["41018", "agents"] = 900.0
    table = complete_communes(given, values)
    assert not table.values[list(NUMERIC)].isna().any().any()
    assert table.values.loc["41018", "agents"] == 900.0
    assert not table.estimated.loc["41018", "agents"]
    assert table.estimated.loc["41295", "agents"]
    assert not table.estimated["population"].any()
    # workstations follow the user's agents, and are still flagged estimated
    assert table.values.loc["41018", "workstations"] == pytest.approx(
        900.0 * values["drivers"]["workstations_per_agent"])
    assert table.estimated.loc["41018", "workstations"]
    # RRF from DRF and the national taux d'épargne brute
    teb = values["finance"]["taux_epargne_brute"]
    v = table.values
    assert ((v["rrf_eur"] - v["drf_eur"]) / v["rrf_eur"]).round(6).eq(round(teb, 6)).all()


def test_user_rrf_gives_drf_by_national_ratio(values):
    given = pd.DataFrame({"name": ["A"], "population": [1000.0], "rrf_eur": [1_000_000.0]},
                         index=pd.Index(["41001"], name="commune"))
    t = complete_communes(given, values)
    assert t.values.loc["41001", "rrf_eur"] == 1_000_000.0
    assert t.values.loc["41001", "drf_eur"] == pytest.approx(
        1_000_000.0 * (1 - values["finance"]["taux_epargne_brute"]))
    assert t.estimated.loc["41001", "drf_eur"] and not t.estimated.loc["41001", "rrf_eur"]
