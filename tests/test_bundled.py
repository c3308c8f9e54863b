"""The bundled INSEE/DGCL data: completeness, vintage checks, EPCI lookup."""

import pytest

from model.data.bundled import _memberships, epci_catalog, find_epci, load_epci, search_epci
from model.errors import InputError


def test_catalog_covers_france():
    cat = epci_catalog()
    assert len(cat) == 1255
    assert cat.index.is_unique and cat.index.str.fullmatch(r"\d{9}").all()
    assert cat["epci_type"].value_counts().to_dict() == {"CC": 989, "CA": 230, "METRO": 21,
                                                          "CU": 14, "MET69": 1}
    assert len(_memberships()) == 34871
    assert cat["nb_communes"].sum() == 34871


def test_members_add_up_to_epci_population():
    members = _memberships()
    sums = members.groupby("epci_siren")["population"].sum()
    cat = epci_catalog()
    assert (sums.reindex(cat.index) == cat["population"]).all()
    counts = members.groupby("epci_siren").size()
    assert (counts.reindex(cat.index) == cat["nb_communes"]).all()


def test_insee_codes_are_strings_with_corsica():
    codes = _memberships()["commune_insee"]
    assert codes.str.fullmatch(r"(\d{5}|2[AB]\d{3})").all()
    assert codes.str.startswith("2A").any()


def test_agglopolys(agglopolys):
    assert agglopolys.name == 'CA de Blois "Agglopolys"'
    assert len(agglopolys.communes) == 43
    assert agglopolys.population == 106574
    assert agglopolys.communes.index[0] == "41018"  # Blois, largest first
    assert agglopolys.communes.loc["41018", "population"] == 47092
    assert agglopolys.mode_financement == "FPU"


def test_beauce(beauce):
    assert len(beauce.communes) == 23
    assert beauce.population == 16991


@pytest.mark.parametrize("query", ["agglopolys", "AGGLOPOLYS", "Agglopolys", "200030385",
                                   "ca de blois agglopolys"])
def test_find_by_name_is_accent_and_case_insensitive(query):
    assert find_epci(query) == "200030385"


def test_find_accented_name():
    assert find_epci("Beauce Loirétaine") == find_epci("beauce loiretaine") == "200035764"


def test_unknown_epci_is_a_french_error():
    with pytest.raises(InputError, match="EPCI inconnu"):
        find_epci("Communauté imaginaire du Bout du Monde")


def test_ambiguous_name_lists_candidates():
    with pytest.raises(InputError, match="désigne .* EPCI"):
        find_epci("loire")


def test_search_by_departement():
    hits = search_epci("", departement="41")
    assert "200030385" in hits.index
    assert all("41" in d.split("|") for d in hits["departements"])


def test_load_epci_returns_communes_indexed_by_insee(largest_epci_siren):
    epci = load_epci(largest_epci_siren)
    assert len(epci.communes) == 158
    assert epci.communes.index.name == "commune"
    assert epci.communes.index.is_unique
