"""Territories beyond one EPCI: every form resolves to the right communes, bad inputs are refused
in French naming the key, file, row and column, settlement ac is refused, and a département-sized
run balances every pool to the cent with no commune paying more than alone."""

from pathlib import Path

import pandas as pd
import pytest

from model.batch import load_template
from model.cli import main
from model.data.bundled import load_epci
from model.data.territory import TERRITORY_FINANCING, TERRITORY_TYPE
from model.errors import InputError
from model.projection import EPCI_ID
from model.run import run
from model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
BLOIS, BEAUCE = "200030385", "200035764"


@pytest.fixture(scope="module")
def members() -> pd.DataFrame:
    """The bundled memberships, read here independently of the model."""
    return pd.read_csv(ROOT / "data" / "epci_communes.csv", dtype=str)


def scenario_file(folder: Path, body: str, name: str = "territoire.yaml") -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(InputError) as err:
        Scenario.from_yaml(path).resolve()
    return str(err.value)


@pytest.mark.parametrize("territory, column, code", [
    ('{region: "24"}', "region", "24"),
    ("{region: 24}", "region", "24"),  # YAML reads an unquoted code as a number
    ('{departement: "41"}', "departement", "41"),
    ('{departement: "2A"}', "departement", "2A"),
])
def test_region_and_departement_hold_all_their_communes(tmp_path, members, territory, column,
                                                        code):
    epci = Scenario.from_yaml(scenario_file(tmp_path, f"territory: {territory}\n")).load_territory()
    expected = set(members.loc[members[column] == code, "commune_insee"])
    assert set(epci.communes.index) == expected and len(epci.communes) == len(expected)
    assert epci.communes.index.is_unique
    assert (epci.type, epci.mode_financement) == (TERRITORY_TYPE, TERRITORY_FINANCING)
    assert epci.population == members.loc[members[column] == code, "population"].astype(int).sum()
    assert list(epci.communes.columns) == list(load_epci(BLOIS).communes.columns)


def test_names_are_readable_french():
    region = Scenario(epci="", territory={"region": "24"}).load_territory()
    assert region.name == "Région Centre-Val de Loire (1 754 communes)"
    assert Scenario(epci="", territory={"departement": "36"}).load_territory().name == \
        "Département de l'Indre"
    two = Scenario(epci="", territory={"epcis": [BLOIS, BEAUCE]}).load_territory()
    assert two.name.startswith("Territoire de 2 EPCI : CA de Blois")


def test_a_list_of_epcis_and_a_file_of_communes(tmp_path, members):
    path = scenario_file(tmp_path, f'territory: {{epcis: ["{BLOIS}", {BEAUCE}]}}\n')
    epci = Scenario.from_yaml(path).load_territory()
    expected = set(members.loc[members["epci_siren"].isin([BLOIS, BEAUCE]), "commune_insee"])
    assert set(epci.communes.index) == expected
    assert epci.communes["population"].is_monotonic_decreasing  # largest first, as load_epci

    codes = sorted(expected)[:5] + ["1053"]  # a leading zero lost by a spreadsheet
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "communes.csv").write_text(
        "code_insee;nom\n" + "".join(f"{c};x\n" for c in codes), encoding="utf-8")
    path = scenario_file(tmp_path / "sub", "territory: {communes: communes.csv}\n")
    epci = Scenario.from_yaml(path).load_territory()
    assert set(epci.communes.index) == set(codes[:5]) | {"01053"}
    n_epci = members.loc[members["commune_insee"].isin(epci.communes.index), "epci_siren"].nunique()
    assert epci.name == f"Territoire de 6 communes ({n_epci} EPCI)"
    listed = Scenario(epci="", territory={"communes": codes[:2]}).load_territory()
    assert set(listed.communes.index) == set(codes[:2])


def test_one_epci_in_a_list_is_that_epci(tmp_path):
    path = scenario_file(tmp_path, f'territory: {{epcis: ["{BLOIS}"]}}\n')
    epci = Scenario.from_yaml(path).load_territory()
    assert (epci.siren, epci.name) == (BLOIS, load_epci(BLOIS).name)


@pytest.mark.parametrize("body, words", [
    ('territory: {region: "99"}\n', ["ligne 1", "territory.region", "région inconnu", "« 99 »",
                                     "24"]),
    ('territory: {departement: "420"}\n', ["territory.departement", "département inconnu"]),
    ('territory: {epcis: ["200030385", "999999999", "200030385"]}\n',
     ["territory.epcis[1]", "EPCI inconnu", "territory.epcis[2]", "donné deux fois"]),
    ("territory: {epcis: []}\n", ["territory.epcis", "liste non vide"]),
    ('territory: {region: "24", departement: "41"}\n', ["une seule forme", "region, departement"]),
    ('territory: {canton: "4101"}\n', ["territory.canton", "nom inconnu"]),
    ('epci: "200030385"\nterritory: {region: "24"}\n', ["ligne 2", "pas les deux"]),
    ("name: x\n", ["« epci »", "« territory »", "obligatoire"]),
])
def test_bad_territories_are_refused_in_french(tmp_path, body, words):
    message = refused(scenario_file(tmp_path, body))
    assert message.startswith("fichier « ") or "problèmes" in message
    for word in words:
        assert word in message, (word, message)


def test_bad_commune_files_name_the_file_row_and_column(tmp_path):
    (tmp_path / "communes.csv").write_text("commune\n41018\n99999\n41269\n41018\n",
                                           encoding="utf-8")
    path = scenario_file(tmp_path, "territory: {communes: communes.csv}\n")
    message = refused(path)
    assert "fichier « communes.csv », ligne 3, colonne « commune » : code INSEE inconnu « 99999 »" \
        in message
    assert "ligne 5, colonne « commune » : la commune 41018 (Blois) est déjà donnée ligne 2" in message

    (tmp_path / "communes.csv").write_text("commune\n", encoding="utf-8")
    assert "aucune commune" in refused(path)
    (tmp_path / "communes.csv").write_text("Ville;Population\nBlois;45000\n", encoding="utf-8")
    assert "ligne 1, colonne « A » : en-tête non reconnu" in refused(path)
    (tmp_path / "communes.csv").unlink()
    assert "fichier « communes.csv » : fichier de communes introuvable" in refused(path)


def test_settlement_ac_is_refused_for_a_territory(tmp_path):
    path = scenario_file(tmp_path, f'territory: {{epcis: ["{BLOIS}", "{BEAUCE}"]}}\n'
                                   "settlement: ac\n")
    message = refused(path)
    assert "colonne « settlement »" in message and "attribution de compensation" in message
    assert "2 EPCI représentés" in message and "settlement: invoice" in message


def test_a_batch_template_cannot_name_a_territory(tmp_path):
    with pytest.raises(InputError, match="« territory »"):
        load_template(scenario_file(tmp_path, 'territory: {region: "24"}\n'))


@pytest.fixture(scope="module")
def loir_et_cher():
    return run(Scenario.from_yaml(ROOT / "data" / "scenarios" / "loir_et_cher.yaml"))


def test_a_departement_run_balances_every_pool_to_the_cent(loir_et_cher):
    proj = loir_et_cher.projection
    assert len(proj.resolved.communes.values) == 267
    alloc = proj.allocation
    cents = (alloc["amount_eur"] * 100).round().astype("int64")
    paid = cents.groupby([alloc["year"], alloc["method"], alloc["pool"]]).sum()
    for year in proj.years:
        pooled = proj.voted[year].amounts.sum()
        epci = alloc[(alloc["year"] == year) & (alloc["method"] == "voted_key")
                     & (alloc["payer_id"] == EPCI_ID)].set_index("pool")["amount_eur"]
        for method in alloc["method"].unique():
            for pool in pooled.index:
                expected = round((pooled[pool] + epci.get(pool, 0.0)) * 100)
                assert paid[(year, method, pool)] == expected, (year, method, pool)


def test_no_commune_pays_more_than_alone_under_the_default_split(loir_et_cher):
    proj = loir_et_cher.projection
    inputs = proj.inputs[proj.inputs["payer_id"] != EPCI_ID]
    alone = inputs.set_index(["year", "payer_id", "pool"])["standalone_eur"]
    alloc = proj.allocation
    default = alloc[(alloc["method"] == "voted_key") & (alloc["payer_id"] != EPCI_ID)]
    paid = default.set_index(["year", "payer_id", "pool"])["amount_eur"]
    assert (paid <= alone.reindex(paid.index) + 0.01).all()
    summary = loir_et_cher.summary
    assert summary["epci"]["name"] == "Département du Loir-et-Cher"
    assert summary["epci"]["type"] == TERRITORY_TYPE
    assert summary["scenario"]["territory"] == {"departement": "41"}
    assert "epci" not in summary["scenario"]
    for y in summary["years"]:
        assert y["core"]["voted_key"]["in_core"] is True


def test_the_cli_runs_a_territory_and_refuses_a_bad_one(tmp_path, capsys, members):
    path = scenario_file(tmp_path, f'territory: {{epcis: ["{BLOIS}", "{BEAUCE}"]}}\n')
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    assert "Territoire de 2 EPCI" in capsys.readouterr().out
    assert (tmp_path / "out" / "report.xlsx").is_file()
    groups = tmp_path / "groupes.txt"
    beauce = members.loc[members["epci_siren"] == BEAUCE, "commune_insee"].iloc[0]
    groups.write_text(f"41018,{beauce}\n", encoding="utf-8")  # Blois with a commune of Beauce
    assert main(["coalition", str(path), "--year", "2026", "--file", str(groups)]) == 0
    assert "group,pool,cost_eur" in capsys.readouterr().out
    bad = scenario_file(tmp_path, 'territory: {region: "99"}\n', "bad.yaml")
    assert main(["run", str(bad), "--out", str(tmp_path / "out2")]) == 2
    assert "région inconnu" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()
