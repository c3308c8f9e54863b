"""Commune contours and the commune map: coverage, communes nouvelles, values, offline render."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from model.data.bundled import load_epci
from model.data.contours import commune_contours, former_contours, missing_reasons
from model.errors import InputError
from model.projection import EPCI_ID
from model.report.maps import MAP_MEASURES_FR, commune_map_chart, map_values
from model.run import run
from model.scenario import Scenario

DATA = Path(__file__).resolve().parents[1] / "data"
SCENARIOS = DATA / "scenarios"
#: The seven reference EPCIs of data-sources.md (the bundled scenarios' six and Grand Nancy).
REFERENCE_EPCIS = ["200030385", "200035764", "200067684", "241700640", "200040590", "200039204",
                   "245400676"]
YEAR = 2030


@pytest.fixture(scope="module")
def beauce_run():
    return run(Scenario.from_yaml(SCENARIOS / "beauce_loiretaine.yaml"))


def ring_area(ring: list) -> float:
    """Shoelace area in square degrees (negative when clockwise)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)) / 2


def polygons(geometry: dict) -> list:
    return ([geometry["coordinates"]] if geometry["type"] == "Polygon"
            else geometry["coordinates"])


def area(geometry: dict) -> float:
    """Area of a geometry (exteriors clockwise, holes anticlockwise), positive."""
    return -sum(ring_area(ring) for poly in polygons(geometry) for ring in poly)


# --- contours ------------------------------------------------------------------------------------

def test_every_commune_of_the_bundled_scenarios_has_a_contour():
    sirens = {yaml.safe_load(p.read_text(encoding="utf-8")).get("epci")
              for p in sorted(SCENARIOS.glob("*.yaml"))} - {None}  # a territory has no epci
    assert sirens and sirens <= set(REFERENCE_EPCIS)
    codes = [c for siren in REFERENCE_EPCIS for c in load_epci(siren).communes.index]
    assert len(codes) == 244
    contours = commune_contours(codes)
    assert contours["missing"] == []
    assert [f["properties"]["insee"] for f in contours["features"]] == codes
    names = {c: n for siren in REFERENCE_EPCIS
             for c, n in load_epci(siren).communes["name"].items()}
    for feature in contours["features"]:
        assert feature["properties"]["name"] == names[feature["properties"]["insee"]]
        for poly in polygons(feature["geometry"]):
            assert ring_area(poly[0]) < 0  # exterior clockwise: what d3-geo and Vega expect
            assert all(ring[0] == ring[-1] and len(ring) >= 4 for ring in poly)


def test_every_epci_member_has_a_contour_but_the_listed_ones():
    members = pd.read_csv(DATA / "epci_communes.csv", dtype=str)["commune_insee"]
    contours = commune_contours(members)
    assert len(contours["features"]) == len(members) - 10 == 34_861
    assert sorted(contours["missing"]) == sorted(missing_reasons()) == [
        "14666", "14712", "15031", "15035", "15047", "15141", "15171", "85084", "85165", "85212"]


def test_a_commune_nouvelle_is_the_union_of_its_former_communes():
    # Le Controis-en-Sologne (41059), formed in 2019: anciensCodes of communes.json 6.0.0
    commune = commune_contours(["41059"])["features"][0]
    former = ["41059", "41082", "41092", "41170", "41257"]
    assert commune["properties"]["former"] == former
    parts = former_contours(former)
    assert parts["missing"] == []
    assert {f["properties"]["commune"] for f in parts["features"]} == {"41059"}
    assert [f["properties"]["name"] for f in parts["features"]] == [
        "Contres", "Feings", "Fougères-sur-Bièvre", "Ouchamps", "Thenay"]
    # same area, no border left inside, every vertex of the union on a former commune's border
    total = sum(area(f["geometry"]) for f in parts["features"])
    assert area(commune["geometry"]) == pytest.approx(total, rel=1e-9)
    assert len(polygons(commune["geometry"])) == 1
    outline = {tuple(p) for poly in polygons(commune["geometry"]) for ring in poly for p in ring}
    vertices = {tuple(p) for f in parts["features"] for poly in polygons(f["geometry"])
                for ring in poly for p in ring}
    assert outline < vertices
    xs = [p[0] for p in outline]
    assert min(xs) == min(p[0] for p in vertices) and max(xs) == max(p[0] for p in vertices)


def test_codes_without_contour_are_listed_not_raised():
    contours = commune_contours(["41018", "99999", "97501", "15031", "41018"])
    assert [f["properties"]["insee"] for f in contours["features"]] == ["41018"]
    assert contours["missing"] == ["99999", "97501", "15031"]  # no commune, COM, rétablie
    assert "rétablie" in missing_reasons()["15031"]


@pytest.mark.parametrize("bad", ["4101", "410180", "ABCDE", "", None, 41018])
def test_a_malformed_code_is_a_french_input_error(bad):
    with pytest.raises(InputError, match="code.*INSEE.*invalide"):
        commune_contours(["41018", bad])


# --- values --------------------------------------------------------------------------------------

def test_values_match_the_allocation(beauce_run):
    proj = beauce_run.projection
    method = proj.resolved.scenario.method
    alloc = proj.allocation[(proj.allocation["year"] == YEAR)
                            & (proj.allocation["method"] == method)]
    paid = alloc[alloc["payer_id"] != EPCI_ID].groupby("payer_id")["amount_eur"].sum()
    epci_paid = alloc.loc[alloc["payer_id"] == EPCI_ID, "amount_eur"].sum()
    inputs = proj.inputs[(proj.inputs["year"] == YEAR) & (proj.inputs["payer_id"] != EPCI_ID)]
    alone = inputs.groupby("payer_id")["standalone_eur"].sum()
    summary = next(y for y in beauce_run.summary["years"] if y["year"] == YEAR)
    pooled = sum(summary["pooled_cost_eur"].values())

    saving = map_values(proj.projection, YEAR, "saving")
    assert sorted(saving.index) == sorted(proj.resolved.communes.values.index)
    expected = (alone - paid).reindex(saving.index)
    assert saving["value"].to_numpy() == pytest.approx(expected.to_numpy(), abs=0.01)
    total = proj.projection[(proj.projection["year"] == YEAR)
                            & (proj.projection["commune"] == EPCI_ID)]["saving_eur"].item()
    # what the communes save, less what the EPCI's own budget pays, is the territory's saving
    assert saving["value"].sum() - epci_paid == pytest.approx(total, abs=0.05)

    share = map_values(proj.projection, YEAR, "share")
    assert share["value"].to_numpy() == pytest.approx((paid / pooled).reindex(share.index),
                                                      abs=1e-6)
    assert share["value"].sum() + epci_paid / pooled == pytest.approx(1.0, abs=1e-6)

    burden = map_values(proj.projection, YEAR, "burden")
    rows = proj.projection[proj.projection["year"] == YEAR].set_index("commune")
    assert burden["value"].to_numpy() == pytest.approx(
        (paid.reindex(burden.index) / rows["rrf_eur"].reindex(burden.index)).to_numpy())


def test_bad_measure_or_year_is_a_french_input_error(beauce_run):
    frame = beauce_run.projection.projection
    with pytest.raises(InputError, match="mesure de carte inconnue"):
        map_values(frame, YEAR, "savings")
    with pytest.raises(InputError, match="année 2040 absente"):
        map_values(frame, 2040, "saving")


# --- the chart -----------------------------------------------------------------------------------

def render(chart) -> str:
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    return vlc.vegalite_to_svg(chart.to_dict(), vl_version=vl_version_for_vl_convert())


@pytest.mark.parametrize("measure", list(MAP_MEASURES_FR))
def test_the_map_renders_offline_one_shape_per_commune(beauce_run, measure):
    values = map_values(beauce_run.projection.projection, YEAR, measure)
    chart = commune_map_chart(values, commune_contours(values.index), measure=measure,
                              title="Carte", big=measure == "share")
    spec = chart.to_dict()
    assert '"url"' not in json.dumps(spec)  # the data is inline
    svg = render(chart)
    assert svg.count('aria-roledescription="geoshape"') == len(values) == 23
    drawn = re.findall(r"Code INSEE: (\w{5})", svg)
    assert sorted(drawn) == sorted(values.index)
    hi = values.loc[values["value"].idxmax(), "name"]
    lo = values.loc[values["value"].idxmin(), "name"]
    assert spec["description"].startswith("Carte des 23 communes")
    assert hi in spec["description"] and lo in spec["description"]
    assert "Carte indisponible" not in json.dumps(spec["title"])


def test_the_map_names_the_communes_without_contour(beauce_run):
    extra = pd.DataFrame({"name": ["Nulle-Part"], "value": [-1200.0], "paid_eur": [2000.0],
                          "standalone_eur": [800.0], "rrf_eur": [1e6],
                          "finances_estimated": [False]}, index=pd.Index(["99999"],
                                                                          name="commune"))
    values = pd.concat([map_values(beauce_run.projection.projection, YEAR, "saving"), extra])
    contours = commune_contours(values.index)
    assert contours["missing"] == ["99999"]
    chart = commune_map_chart(values, contours, measure="saving", title="Carte",
                              subtitle="Année 2030")
    spec = chart.to_dict()
    subtitle = " ".join(spec["title"]["subtitle"])
    assert subtitle.startswith("Année 2030")
    assert "Carte indisponible pour 1 commune : Nulle-Part." in subtitle
    assert "Carte indisponible pour 1 commune" in spec["description"]
    assert render(chart).count('aria-roledescription="geoshape"') == 23
