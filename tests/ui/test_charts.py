"""Chart specs carry the expected data and encodings, in French, and save to PNG and SVG."""

import dataclasses

import pandas as pd
import pytest

from model.projection import EPCI_ID
from model.report import charts


def datasets(chart) -> list[pd.DataFrame]:
    spec = chart.to_dict()
    return [pd.DataFrame(rows) for rows in spec.get("datasets", {}).values()]


def dataset_with(chart, column: str) -> pd.DataFrame:
    hits = [d for d in datasets(chart) if column in d.columns]
    assert hits, f"no dataset with column {column!r}"
    return hits[0]


def test_scissor_indices_start_at_100_and_follow_the_totals(beauce_view):
    frame = beauce_view.projection.projection
    data = charts.scissor_indices(frame)
    assert set(data["key"]) == {"digital_pooled_eur", "digital_standalone_eur", "rrf_eur"}
    start = data["year"].min()
    assert (data.loc[data["year"] == start, "index"].round(9) == 100).all()
    tot = frame[frame["commune"] == EPCI_ID].set_index("year")["digital_pooled_eur"]
    pooled = data[data["key"] == "digital_pooled_eur"].set_index("year")["index"]
    expected = 100 * tot / tot.iloc[0]
    pd.testing.assert_series_equal(pooled, expected, check_names=False)


def test_scissor_chart_spec_is_french_and_marks_the_scissor_year(beauce_view):
    frame = beauce_view.projection.projection
    chart = charts.scissor_chart(frame, beauce_view.scissor, indicator="digital_burden")
    spec = chart.to_dict()
    assert spec["title"]["text"].startswith("L'effet ciseau")
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    line = spec["layer"][0]
    assert line["encoding"]["x"]["field"] == "year"
    assert line["encoding"]["y"]["field"] == "index"
    assert "base 100" in line["encoding"]["y"]["title"]
    rules = dataset_with(chart, "label")
    expected = charts.scissor_years(beauce_view.scissor, EPCI_ID, "digital_burden")
    assert expected["standalone"] is not None
    assert expected["standalone"] in set(rules["year"])
    assert any("Ciseau" in label for label in rules["label"])


def test_scissor_chart_without_crossing_says_never(beauce_view):
    frame = beauce_view.projection.projection
    never = beauce_view.scissor.assign(year_pooled=pd.NA, year_standalone=pd.NA)
    spec = charts.scissor_chart(frame, never).to_dict()
    assert len(spec["layer"]) == 1
    assert "jamais" in " ".join(spec["title"]["subtitle"])


def test_scissor_chart_falls_back_to_the_first_commune(beauce_view):
    sc = beauce_view.scissor.copy()
    sc.loc[sc["commune"] == EPCI_ID, ["year_pooled", "year_standalone"]] = pd.NA
    first = sc[(sc["indicator"] == "digital_burden") & (sc["commune"] != EPCI_ID)]
    chart = charts.scissor_chart(beauce_view.projection.projection, sc, indicator="digital_burden")
    rules = dataset_with(chart, "label")
    assert int(first["year_standalone"].min()) in set(rules["year"])
    assert all(label.startswith("1re commune") for label in rules["label"])


def test_burden_chart_has_the_10_and_7_percent_thresholds(beauce_view):
    frame = beauce_view.projection.projection
    thr = dict(beauce_view.thresholds)
    first = list(frame.loc[frame["commune"] != EPCI_ID, "commune"].unique()[:2])
    chart = charts.burden_chart(frame, thr, "teb", "pooled", highlight=first)
    rules = dataset_with(chart, "kind")
    assert sorted(rules["value"]) == [0.07, 0.10]
    assert any("10" in label for label in rules["label"])
    lines = dataset_with(chart, "group")
    names = set(frame.loc[frame["commune"].isin(first), "name"])
    assert names <= set(lines["group"])
    assert "Ensemble des communes" in set(lines["group"])
    expected = frame.set_index(["year", "commune"])["teb_pooled"]
    got = lines.set_index(["year", "commune"])["value"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_burden_chart_digital_burden_uses_its_own_threshold(beauce_view):
    thr = dict(beauce_view.thresholds, digital_burden_threshold=0.023)
    chart = charts.burden_chart(beauce_view.projection.projection, thr, "digital_burden",
                                "standalone")
    assert list(dataset_with(chart, "kind")["value"]) == [0.023]
    assert "isolé" in chart.to_dict()["layer"][0]["encoding"]["y"]["title"] or \
        "seule" in chart.to_dict()["layer"][0]["encoding"]["y"]["title"]


def test_allocation_chart_bars_sum_to_what_each_commune_pays(beauce_view):
    proj = beauce_view.projection
    year = proj.years[2]
    chart = charts.allocation_chart(proj.allocation, proj.inputs, year, "population", top=5)
    bars = dataset_with(chart, "pool_fr")
    amounts = proj.amounts("population", year).sum(axis=1)
    names = proj.resolved.communes.names
    assert bars["commune"].nunique() == 5
    for commune, total in bars.groupby("commune")["amount_eur"].sum().items():
        code = names[names == commune].index[0]
        assert total == pytest.approx(amounts[code])
    ticks = dataset_with(chart, "standalone_eur")
    assert ticks["standalone_eur"].is_monotonic_decreasing


def test_allocation_chart_shows_the_epci_budget_when_it_pays(sim, beauce_scenario):
    scenario = dataclasses.replace(beauce_scenario, assumptions={
        "allocation": {"epci_share": {"dsi": 0.3}}})
    proj = sim.view(scenario).projection
    bars = dataset_with(charts.allocation_chart(proj.allocation, proj.inputs), "pool_fr")
    assert charts.EPCI_BUDGET_FR in set(bars["commune"])


def test_method_comparison_chart_has_every_method(beauce_view):
    proj = beauce_view.projection
    chart = charts.method_comparison_chart(proj.allocation, proj.inputs, chosen="shapley", top=4)
    points = dataset_with(chart, "method_fr")
    assert set(points["method"]) == set(proj.allocation["method"])
    assert points.loc[points["chosen"], "method"].unique().tolist() == ["shapley"]
    assert points["commune"].nunique() == 4


def test_big_charts_use_larger_fonts(beauce_view):
    frame = beauce_view.projection.projection
    small = charts.scissor_chart(frame).to_dict()
    big = charts.scissor_chart(frame, big=True).to_dict()
    assert big["config"]["axis"]["labelFontSize"] > small["config"]["axis"]["labelFontSize"]
    assert big["title"]["fontSize"] >= 28


def test_save_chart_png_and_svg(beauce_view, tmp_path):
    chart = charts.scissor_chart(beauce_view.projection.projection, beauce_view.scissor)
    png = charts.save_chart(chart, tmp_path / "ciseau.png")
    svg = charts.save_chart(chart, tmp_path / "ciseau.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<svg") and "ciseau" in text
    with pytest.raises(ValueError, match="format non pris en charge"):
        charts.save_chart(chart, tmp_path / "ciseau.pdf")


def test_first_crossings_are_sorted_and_exclude_the_epci(beauce_view):
    df = charts.first_crossings(beauce_view.scissor, "digital_burden", "standalone", None)
    assert EPCI_ID not in set(df["commune"])
    assert df["year_standalone"].is_monotonic_increasing
    assert len(df) == int(beauce_view.scissor.query(
        "indicator == 'digital_burden' and commune != @EPCI_ID")["year_standalone"].notna().sum())


@pytest.mark.parametrize("kind", ["scissor_marked", "scissor_big", "burden_teb", "burden_digital",
                                  "allocation", "methods", "scenarios"])
def test_every_chart_compiles_and_renders_to_svg(beauce_view, kind):
    proj = beauce_view.projection
    frame, thr = proj.projection, beauce_view.thresholds
    first = list(charts.first_crossings(beauce_view.scissor, "digital_burden", "standalone", 3)[
        "commune"])
    chart = {
        "scissor_marked": lambda: charts.scissor_chart(frame, beauce_view.scissor,
                                                       indicator="digital_burden"),
        "scissor_big": lambda: charts.scissor_chart(frame, beauce_view.scissor, big=True,
                                                    y_domain=(90, 140)),
        "burden_teb": lambda: charts.burden_chart(frame, thr, highlight=first),
        "burden_digital": lambda: charts.burden_chart(frame, thr, "digital_burden", "standalone",
                                                      highlight=first, big=True),
        "allocation": lambda: charts.allocation_chart(proj.allocation, proj.inputs),
        "methods": lambda: charts.method_comparison_chart(proj.allocation, proj.inputs),
        "scenarios": lambda: charts.scenario_comparison_chart({"A": frame, "B": frame}),
    }[kind]()
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    svg = vlc.vegalite_to_svg(chart.to_dict(), vl_version=vl_version_for_vl_convert())
    assert svg.lstrip().startswith("<svg")
