"""Inputs that cannot lie: every scenario key and assumption is typed (data/assumptions_schema.yaml),
every problem is reported at once in French with the file, the key path, the value and what is
allowed, and scenario files are read strictly (duplicate keys, aliases, size, encoding)."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.cli import main
from model.costs import POOLS
from model.data.assumptions import (
    INVALID,
    MAX_YAML_BYTES,
    apply_overrides,
    assumption_values,
    check_overrides,
    check_value,
    intervals,
    load_assumptions,
    load_schema,
    read_yaml,
)
from model.data.estimate import strata
from model.errors import InputError, ModelError
from model.scenario import METHODS, SETTLEMENTS, SOLVERS, Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "data" / "scenarios"
BEAUCE = "200035764"
PETITE_TERRE = "200050532"  # 2 communes: a full run is quick


def write(tmp_path: Path, text: str, name: str = "bad.yaml", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def refused(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        Scenario.from_yaml(path)
    return info.value


def scenario_with(tmp_path: Path, assumptions: str, name: str = "bad.yaml") -> Path:
    return write(tmp_path, f'epci: "{BEAUCE}"\nassumptions:\n{assumptions}\n', name)


def assert_names(err: InputError, path: Path, key: str, *fragments: str) -> str:
    """One problem names the file as given, the key path and each fragment; returns it."""
    hits = [str(p) for p in err.problems if f"« {key} »" in str(p)]
    assert hits, f"no problem names {key}: {err}"
    text = hits[0]
    assert f"fichier « {path} »" in text
    assert "scénario »" not in text.split(":")[0]
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    return text


# --------------------------------------------------------------------------------------------
# The schema covers every assumption, and the defaults pass it


def test_every_assumption_has_a_schema_entry():
    schema = load_schema()["assumptions"]
    tree = load_assumptions()
    missing = [f"{t}.{n}" for t, entries in tree.items() for n in entries
               if n not in schema.get(t, {})]
    assert not missing, f"assumptions without a schema entry: {missing}"
    stale = [f"{t}.{n}" for t, entries in schema.items() for n in entries
             if n not in tree.get(t, {})]
    assert not stale, f"schema entries without an assumption: {stale}"


def test_every_schema_entry_is_complete():
    for section in (load_schema()["scenario"], *load_schema()["assumptions"].values()):
        for name, spec in section.items():
            assert spec["type"] in ("int", "float", "str", "bool", "list", "mapping"), name
            assert spec.get("label"), f"{name} has no French label"
            if spec["type"] in ("int", "float"):
                assert "range" in spec or "allowed" in spec, f"{name} has no range"
                for interval in intervals(spec):  # parses, and lo <= hi for fixed bounds
                    if not interval.has_refs:
                        assert interval.lo.offset <= interval.hi.offset, name
            if spec["type"] == "str" and name not in ("epci", "name", "data_file"):
                assert spec.get("allowed"), f"{name} has no allowed values"
    for topic, entries in load_schema()["assumptions"].items():
        for name, spec in entries.items():
            assert spec.get("unit"), f"{topic}.{name} has no unit"


def test_default_assumptions_pass_the_schema():
    normalised, problems = check_overrides({})
    assert problems == [] and normalised == {}


def test_schema_and_code_agree_on_the_closed_sets():
    scenario = load_schema()["scenario"]
    allocation = load_schema()["assumptions"]["allocation"]
    assert tuple(scenario["method"]["allowed"]) == METHODS
    assert tuple(scenario["settlement"]["allowed"]) == SETTLEMENTS
    assert tuple(scenario["solver"]["allowed"]) == SOLVERS
    assert tuple(scenario["pools"]["items"]["allowed"]) == POOLS
    assert tuple(allocation["epci_share"]["keys"]) == POOLS
    assert set(allocation["capacity"]["allowed"]) == {"potentiel_financier", "rrf"}
    for year in load_schema()["assumptions"]["finance"]["potentiel_financier_year"]["allowed"]:
        assert f"potentiel_financier_{year}_eur_per_hab" in strata().columns
    assert set(scenario) == {f.name for f in dataclasses.fields(Scenario) if f.init} - {"base_dir"}


def test_allocation_keys_have_the_documented_domains():
    spec = load_schema()["assumptions"]["allocation"]
    assert spec["reference_key"]["allowed"] == [
        "usage", "population", "potentiel_financier", "agents", "workstations", "equal", "weighted",
        "grid"]

    def ok(name, value):
        return check_value(spec[name], value, name, []) is not INVALID

    assert ok("burden_cap", None) and ok("burden_cap", 1) and not ok("burden_cap", 0)
    assert ok("guaranteed_saving", 0) and not ok("guaranteed_saving", 1)
    assert ok("key_departure", 0) and ok("key_departure", 1) and not ok("key_departure", 1.01)
    assert ok("usage_band_rule", True) and not ok("usage_band_rule", 1)
    assert ok("epci_share", {"dsi": 1}) and not ok("epci_share", {"dsi": 1.5})


def test_all_bundled_scenarios_still_load():
    paths = sorted(SCENARIOS.glob("*.yaml"))
    assert len(paths) >= 7
    for path in paths:
        scenario = Scenario.from_yaml(path)
        scenario.check()
        assert scenario.origin == str(path)
        assert scenario.epci.isdigit() or scenario.territory  # an EPCI, or a wider territory


# --------------------------------------------------------------------------------------------
# The cases of the issue: each refused with the file, the key, the value and what is allowed


@pytest.mark.parametrize("value, suggestion", [("rff", "« rrf »"), ("RRF", "« rrf »"),
                                               ("recettes", None),
                                               ("potentiel", "« potentiel_financier »")])
def test_capacity_accepts_only_its_two_values(tmp_path, value, suggestion):
    path = scenario_with(tmp_path, f"  allocation: {{capacity: {value}}}")
    text = assert_names(refused(path), path, "assumptions.allocation.capacity", f"« {value} »",
                        "potentiel_financier, rrf", "ligne 3")
    assert (suggestion in text) if suggestion else ("vouliez-vous dire" not in text)


@pytest.mark.parametrize("share", ["-0.2", "1.5", "true", '"20 %"'])
def test_epci_share_is_a_fraction_per_pool(tmp_path, share):
    path = scenario_with(tmp_path, f"  allocation: {{epci_share: {{dsi: {share}}}}}")
    text = assert_names(refused(path), path, "assumptions.allocation.epci_share.dsi",
                        "entre 0 et 1")
    assert "to_split" not in text and "capacity" not in text


def test_epci_share_of_an_unknown_pool_or_as_a_number(tmp_path):
    path = scenario_with(tmp_path, "  allocation: {epci_share: {dpoo: 0.1}}")
    assert_names(refused(path), path, "assumptions.allocation.epci_share.dpoo",
                 "vouliez-vous dire « dpo »")
    path = scenario_with(tmp_path, "  allocation: {epci_share: 0.2}")
    assert_names(refused(path), path, "assumptions.allocation.epci_share", "{dsi: 0.2}")


@pytest.mark.parametrize("topic, name, value", [
    ("dsi", "growth", "-1.5"), ("licences", "growth", "-1"), ("projection", "rrf_growth", "-1"),
    ("projection", "other_drf_growth", "2"), ("projection", "teb_alert", "1.2"),
    ("sensitivity", "saas_jump_probability", "-0.1"),
])
def test_rates_out_of_range_name_the_key_not_internal_columns(tmp_path, topic, name, value):
    path = scenario_with(tmp_path, f"  {topic}: {{{name}: {value}}}")
    err = refused(path)
    assert len(err.problems) == 1
    text = assert_names(err, path, f"assumptions.{topic}.{name}", f"valeur {value}", "entre")
    for internal in ("to_split", "capacity_eur", "Traceback"):
        assert internal not in text


def test_growth_given_as_a_percentage_text(tmp_path):
    path = scenario_with(tmp_path, '  licences: {growth: "5 %"}')
    assert_names(refused(path), path, "assumptions.licences.growth", "« 5 % »", "pas un texte",
                 "écrivez 0.05 pour 5 %")
    path = scenario_with(tmp_path, '  licences: {growth: "0,05"}')
    assert_names(refused(path), path, "assumptions.licences.growth", "écrivez 0.05")


def test_the_file_is_named_by_its_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sous").mkdir()
    write(tmp_path / "sous", f'epci: "{BEAUCE}"\nmethod: lpp\n', "mon_scenario.yaml")
    err = refused(Path("sous/mon_scenario.yaml"))
    assert str(err).startswith("fichier « sous/mon_scenario.yaml », ligne 2 : clé « method »")
    assert "vouliez-vous dire « lp »" in str(err)


@pytest.mark.parametrize("text, hint", [("pools: dsi", "écrivez [dsi]"),
                                        ("pools: []", "au moins 1"),
                                        ("pools: [dsi, dsi]", "double"),
                                        ("pools: [dsi, rh]", "« rh »")])
def test_pools_must_be_a_list_of_known_pools(tmp_path, text, hint):
    path = write(tmp_path, f'epci: "{BEAUCE}"\n{text}\n')
    assert_names(refused(path), path, "pools" if "rh" not in text else "pools[1]", hint)


def test_integer_years_are_not_truncated(tmp_path):
    path = scenario_with(tmp_path, "  projection: {start_year: 2026.5}")
    assert_names(refused(path), path, "assumptions.projection.start_year", "2026.5",
                 "nombre entier", "n'est pas entier")
    ok = Scenario.from_yaml(scenario_with(tmp_path, "  projection: {start_year: 2026.0}", "ok.yaml"))
    year = ok.assumptions["projection"]["start_year"]
    assert year == 2026 and isinstance(year, int)


@pytest.mark.parametrize("end, fragment", [(2025, "entre 2026 (projection.start_year)"),
                                           (3000, "entre 2020 et 2055"),
                                           (2042, "2041 (projection.start_year + 15)")])
def test_end_year_follows_the_start(tmp_path, end, fragment):
    path = scenario_with(tmp_path, f"  projection: {{end_year: {end}}}")
    assert_names(refused(path), path, "assumptions.projection.end_year", fragment)


def test_a_later_start_flags_the_defaults_it_breaks(tmp_path):
    path = scenario_with(tmp_path, "  projection: {start_year: 2035}")
    err = refused(path)
    keys = sorted(str(p).split("« ")[2].split(" »")[0] for p in err.problems)
    assert keys == ["assumptions.finance.accounts_year", "assumptions.projection.end_year"]
    assert "valeur par défaut" in str(err)
    Scenario.from_yaml(scenario_with(
        tmp_path, "  projection: {start_year: 2035, end_year: 2041}\n"
        "  finance: {accounts_year: 2033}", "ok.yaml"))


def test_accounts_year_within_six_years_before_the_start(tmp_path):
    path = scenario_with(tmp_path, "  finance: {accounts_year: 2019}")
    assert_names(refused(path), path, "assumptions.finance.accounts_year",
                 "entre 2020 (projection.start_year - 6) et 2026 (projection.start_year)")


def test_sensitivity_laws_are_three_increasing_rates(tmp_path):
    for law, fragment in (("[0.1, 0.05, 0.2]", "croissantes"), ("[0.01, 0.02]", "3 éléments"),
                          ('"0.01, 0.02, 0.03"', "pas un texte"), ("[0.01, 0.02, 3]", "[2]")):
        path = scenario_with(tmp_path, f"  sensitivity: {{licence_growth: {law}}}")
        err = refused(path)
        assert "assumptions.sensitivity.licence_growth" in str(err) and fragment in str(err), err


def test_booleans_are_not_numbers_and_numbers_not_booleans(tmp_path):
    path = scenario_with(tmp_path, "  allocation: {burden_cap: true, usage_band_rule: 1}\n"
                         "  projection: {start_year: false}")
    err = refused(path)
    assert len(err.problems) == 3
    assert_names(err, path, "assumptions.allocation.burden_cap", "pas un booléen")
    assert_names(err, path, "assumptions.allocation.usage_band_rule", "true ou false")
    assert_names(err, path, "assumptions.projection.start_year", "pas un booléen")


def test_yes_no_read_as_booleans_get_a_hint(tmp_path):
    path = write(tmp_path, f'epci: "{BEAUCE}"\nsettlement: no\n')
    assert_names(refused(path), path, "settlement", "entre guillemets")


def test_data_file_must_be_a_path(tmp_path):
    path = write(tmp_path, f'epci: "{BEAUCE}"\ndata_file: 42\n')
    assert_names(refused(path), path, "data_file", "valeur 42", "un texte, ou null")


def test_unknown_keys_get_a_suggestion(tmp_path):
    path = write(tmp_path, f'epci: "{BEAUCE}"\nmethode: lp\nassumptions:\n'
                 "  licences: {growht: 0.05}\n  alocation: {}\n")
    err = refused(path)
    text = str(err)
    assert "clé(s) inconnue(s) : methode" in text and "« methode » -> « method »" in text
    assert "« assumptions.licences.growht »" in text and "« growth »" in text
    assert "« assumptions.alocation »" in text and "« allocation »" in text


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, f'epci: "{BEAUCE}"\npools: dsi\nmethod: lpp\nsolver: cbc\n'
                 "assumptions:\n  allocation: {capacity: rff, epci_share: {dsi: -0.2}}\n"
                 '  licences: {growth: "5 %"}\n  projection: {start_year: 2026.5}\n')
    err = refused(path)
    assert len(err.problems) == 7
    assert str(err).startswith("7 problèmes")
    assert [p.row for p in err.problems] == sorted(p.row for p in err.problems)
    assert all(p.file == str(path) for p in err.problems)


# --------------------------------------------------------------------------------------------
# Safe YAML reading


def test_duplicate_keys_are_refused(tmp_path):
    path = write(tmp_path, f'epci: "{BEAUCE}"\nmethod: lp\nmethod: shapley\n')
    err = refused(path)
    assert err.problems[0].row == 3 and "« method » en double (déjà donnée ligne 2)" in str(err)
    path = scenario_with(tmp_path, "  licences:\n    growth: 0.05\n    growth: 0.08")
    assert "« growth » en double" in str(refused(path))


def test_billion_laughs_is_refused_at_once(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{c}: &{c} [{','.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi",
                                                                      strict=True)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    assert len(path.read_bytes()) < 400
    start = time.perf_counter()
    err = refused(path)
    assert time.perf_counter() - start < 1
    assert "alias" in str(err) and err.problems[0].row == 1


def test_anchor_and_merge_keys_are_refused(tmp_path):
    path = write(tmp_path, f'epci: "{BEAUCE}"\nassumptions:\n  dsi: &x {{growth: 0.1}}\n'
                 "  dpo: {<<: *x}\n")
    assert "alias" in str(refused(path))


def test_windows_1252_scenario_is_read(tmp_path):
    path = write(tmp_path, f'epci: "{BEAUCE}"\nname: "Scénario « Beauce » — été"\n',
                 encoding="cp1252")
    assert Scenario.from_yaml(path).name == "Scénario « Beauce » — été"


def test_undecodable_file_is_refused_in_french(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(f'epci: "{BEAUCE}"\nname: "'.encode() + b'\x81\x8d"\n')
    err = refused(path)
    assert "ni UTF-8" in str(err) and "Windows-1252" in str(err)
    assert err.problems[0].row == 2 and err.problems[0].file == str(path)


def test_oversized_file_is_refused(tmp_path):
    path = write(tmp_path, f'epci: "{BEAUCE}"\n' + "#" * MAX_YAML_BYTES + "\n")
    assert "trop volumineux" in str(refused(path))


@pytest.mark.parametrize("text, fragment", [
    ("- a\n- b\n", "dictionnaire"), ("epci: [unclosed\n", "YAML illisible"),
    ("x: " + "[" * 100 + "]" * 100 + "\n", "imbrication"), ("epci: 'x'\n\x00\n", "caractère"),
    ("epci: " + "9" * 5000 + "\n", "illisible"), ("epci: a\n---\nepci: b\n", "YAML illisible"),
    ("? [a, b]\n: 1\n", "clé"), ("epci: !!python/object:os.system x\n", "YAML illisible"),
])
def test_malformed_yaml_is_an_input_error(tmp_path, text, fragment):
    assert fragment in str(refused(write(tmp_path, text)))


def test_missing_file_and_folder(tmp_path):
    assert "introuvable" in str(refused(tmp_path / "nope.yaml"))
    assert "dossier" in str(refused(tmp_path))


def test_bundled_files_are_read_strictly_too(tmp_path):
    path = write(tmp_path, "a: {value: 1}\na: {value: 2}\n", "assumptions.yaml")
    with pytest.raises(InputError, match="en double"):
        read_yaml(path, trusted=True)


# --------------------------------------------------------------------------------------------
# Scenarios built in code (the Simulateur, batch) are checked the same way at resolve


def test_resolve_checks_a_scenario_built_in_code():
    scenario = Scenario(epci=BEAUCE, pools="dsi", assumptions={
        "allocation": {"epci_share": {"dsi": -0.4}, "capacity": "recettes"},
        "dsi": {"growth": -1.5}})
    with pytest.raises(InputError) as info:
        scenario.resolve()
    err = info.value
    assert len(err.problems) == 4
    assert all(p.file is None for p in err.problems)  # no file: not « scénario »
    assert "« pools »" in str(err) and "« assumptions.dsi.growth »" in str(err)


def test_replaced_scenario_no_longer_names_the_file():
    scenario = Scenario.from_yaml(SCENARIOS / "beauce_loiretaine.yaml")
    changed = dataclasses.replace(scenario, method="equal")
    assert changed.origin is None and changed == dataclasses.replace(scenario, method="equal")
    assert "origin" not in scenario.to_dict()


def test_apply_overrides_checks_and_normalises():
    with pytest.raises(InputError, match="projection.start_year"):
        apply_overrides(load_assumptions(), {"projection": {"start_year": "2026"}})
    tree = apply_overrides(load_assumptions(), {"projection": {"start_year": 2026.0},
                                                 "licences": {"growth": {"value": 0.05,
                                                                         "source": "Devis"}}})
    values = assumption_values(tree)
    assert values["projection"]["start_year"] == 2026
    assert isinstance(values["projection"]["start_year"], int)
    assert tree["licences"]["growth"]["source"] == "Devis"
    assert tree["projection"]["start_year"]["source"] == "Valeur du scénario"


def test_epci_given_as_a_number_is_read_as_its_siren(tmp_path):
    path = write(tmp_path, f"epci: {BEAUCE}\n", "ok.yaml")
    assert Scenario.from_yaml(path).epci == BEAUCE


# --------------------------------------------------------------------------------------------
# Through the command line: exit status 2, the French message, nothing written


@pytest.mark.parametrize("text, key", [
    ("assumptions:\n  allocation: {capacity: rff}\n", "assumptions.allocation.capacity"),
    ("assumptions:\n  allocation: {epci_share: {dsi: -0.5}}\n",
     "assumptions.allocation.epci_share.dsi"),
    ("assumptions:\n  projection: {end_year: 3000}\n", "assumptions.projection.end_year"),
    ("data_file: 42\n", "data_file"),
    ("method: lp\nmethod: shapley\n", "method"),
])
def test_cli_run_exits_2_naming_file_and_key(tmp_path, capsys, monkeypatch, text, key):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, f'epci: "{BEAUCE}"\n{text}')
    assert main(["run", "bad.yaml", "--out", "tmp/out"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : fichier « bad.yaml », ligne ")
    assert f"« {key} »" in err
    assert "Traceback" not in err
    assert not (tmp_path / "tmp").exists()


# --------------------------------------------------------------------------------------------
# Fuzzing: whatever the file holds, the loader raises nothing but InputError

KEYS = st.sampled_from(["epci", "name", "data_file", "pools", "method", "settlement", "solver",
                        "assumptions", "methode", "", "0"])
SCALARS = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.sampled_from(["dsi", "rrf", "lp", "2026", "5 %", "0,05", "yes", BEAUCE]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8) | KEYS, inner, max_size=4),
                      max_leaves=12)
TREE = load_assumptions()
TOPICS = st.sampled_from([*TREE, "nope"])


@st.composite
def assumption_overrides(draw):
    out = {}
    for topic in draw(st.lists(TOPICS, max_size=4)):
        names = [*TREE.get(topic, {"x": None}), "nope"]
        out[topic] = {n: draw(VALUES) for n in draw(st.lists(st.sampled_from(names), max_size=4))}
    return out


def _load_only_input_errors(path: Path) -> None:
    try:
        Scenario.from_yaml(path)
    except InputError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(KEYS, VALUES, max_size=6), assumption_overrides())
def test_fuzzed_scenarios_raise_only_input_errors(tmp_path, top, overrides):
    if "assumptions" in top and top["assumptions"] is None:
        top["assumptions"] = overrides
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump({**top, "assumptions": overrides} if overrides else top,
                                   allow_unicode=True), encoding="utf-8")
    _load_only_input_errors(path)
    try:
        Scenario(epci=BEAUCE, assumptions=overrides).check()
    except InputError:
        pass


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_fuzzed_bytes_raise_only_input_errors(tmp_path, data):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    _load_only_input_errors(path)


def _valid_value(spec: dict) -> st.SearchStrategy:
    """Values the schema accepts (fixed bounds; bounds naming others are left to the check)."""
    t = spec["type"]
    if t == "bool":
        return st.booleans()
    if t == "str":
        return st.sampled_from(spec["allowed"])
    if t in ("int", "float"):
        if "allowed" in spec:
            return st.sampled_from(spec["allowed"])
        fixed = [i for i in intervals(spec) if not i.has_refs][0]
        lo, hi = fixed.lo.offset, fixed.hi.offset
        if t == "int":
            return st.integers(math.ceil(lo), min(math.floor(hi), math.ceil(lo) + 2000))
        return st.floats(lo, hi, exclude_min=fixed.lo_open, exclude_max=fixed.hi_open)
    if t == "mapping" and isinstance(spec.get("keys"), list):
        return st.dictionaries(st.sampled_from(spec["keys"]), _valid_value(spec["values"]),
                               max_size=len(spec["keys"]))
    return st.nothing()


SCHEMA = load_schema()["assumptions"]
RUN_TOPICS = ["dsi", "dpo", "archivage", "licences", "allocation", "projection", "drivers"]


@st.composite
def valid_overrides(draw):
    out = {}
    for topic in draw(st.lists(st.sampled_from(RUN_TOPICS), min_size=1, max_size=3, unique=True)):
        names = [n for n, s in SCHEMA[topic].items()
                 if not _valid_value(s).is_empty and n not in ("start_year", "end_year")]
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
        out[topic] = {n: draw(_valid_value(SCHEMA[topic][n])) for n in chosen}
    return out


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(valid_overrides(), st.sampled_from(METHODS))
def test_values_the_schema_accepts_run_without_crashing(overrides, method):
    """What the check lets through, the model computes: no traceback, at most a French error."""
    from model.run import run

    scenario = Scenario(epci=PETITE_TERRE, method=method, assumptions=overrides)
    if scenario.problems():
        return
    try:
        run(scenario)
    except ModelError:
        pass


def test_to_yaml_round_trips_through_the_strict_reader(tmp_path):
    scenario = Scenario.from_yaml(scenario_with(
        tmp_path, "  projection: {start_year: 2030.0, end_year: 2036}\n"
        "  allocation: {epci_share: {dsi: 1}, capacity: rrf}", "in.yaml"))
    scenario.to_yaml(tmp_path / "out.yaml")
    again = Scenario.from_yaml(tmp_path / "out.yaml")
    assert again == scenario and again.assumptions["projection"]["start_year"] == 2030
