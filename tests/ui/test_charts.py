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
    # the communes' finances are estimated here: « (estimé) » beside each name
    assert frame.loc[frame["commune"] != EPCI_ID, "finances_estimated"].all()
    names = {f"{n} (estimé)" for n in frame.loc[frame["commune"].isin(first), "name"]}
    assert names <= set(lines["group"])
    assert "estimé" in " ".join(chart.to_dict()["title"]["subtitle"])
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
                                  "allocation", "methods", "scenarios", "blades", "blades_big",
                                  "waterfall", "waterfall_commune", "gap"])
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
        "blades": lambda: charts.blades_chart(frame),
        "blades_big": lambda: charts.blades_chart(frame, first[0], big=True, y_domain=(-1e6, 1e6)),
        "waterfall": lambda: charts.attribution_chart(frame),
        "waterfall_commune": lambda: charts.attribution_chart(frame, first[0], "standalone",
                                                              big=True),
        "gap": lambda: charts.gap_chart(frame, first[0]),
    }[kind]()
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    svg = vlc.vegalite_to_svg(chart.to_dict(), vl_version=vl_version_for_vl_convert())
    assert svg.lstrip().startswith("<svg")


# --- the scissor in euros --------------------------------------------------------------------------

def payer(frame: pd.DataFrame, commune: str = EPCI_ID) -> pd.DataFrame:
    return frame[frame["commune"] == commune].set_index("year").sort_index()


def title_text(chart) -> str:
    title = chart.to_dict()["title"]
    sub = title.get("subtitle", [])
    return " ".join([title["text"], *([sub] if isinstance(sub, str) else sub)])


def not_estimated(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(finances_estimated=False)


@pytest.mark.parametrize("commune", [EPCI_ID, "45008"])
def test_blades_are_euro_changes_that_add_up_to_the_change_of_savings(beauce_view, commune):
    frame = beauce_view.projection.projection
    data = charts.blades_data(frame, commune)
    wide = data.pivot(index="year", columns="key", values="amount_eur")
    p = payer(frame, commune)
    start = p.index[0]
    assert (wide.loc[start] == 0).all()
    pd.testing.assert_series_equal(wide["resources"], p["rrf_eur"] - p.loc[start, "rrf_eur"],
                                   check_names=False)
    pd.testing.assert_series_equal(wide["other"], p["eb_from_other_eur"], check_names=False)
    pd.testing.assert_series_equal(wide["digital_pooled"], p["eb_from_digital_pooled_eur"],
                                   check_names=False)
    pd.testing.assert_series_equal(wide["digital_standalone"],
                                   p["eb_from_digital_standalone_eur"], check_names=False)
    eb = p["epargne_brute_pooled_eur"] - p.loc[start, "epargne_brute_pooled_eur"]
    assert (wide["eb_pooled"] - eb).abs().max() < 0.005  # to the cent
    assert (wide["eb_pooled"] - wide[["resources", "other", "digital_pooled"]].sum(axis=1)
            ).abs().max() < 1e-6


def test_blades_chart_is_in_euros_french_and_says_estimated(beauce_view):
    frame = beauce_view.projection.projection
    chart = charts.blades_chart(frame)
    spec = chart.to_dict()
    assert spec["title"]["text"].startswith("L'effet ciseau en euros")
    assert "(estimé)" in spec["title"]["text"]
    assert "Estimé : finances tirées de moyennes nationales." in title_text(chart)
    line = spec["layer"][1]
    assert line["encoding"]["y"]["field"] == "amount_eur"
    assert "€" in line["encoding"]["y"]["title"] and "indice" not in title_text(chart).lower()
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert spec["description"].startswith("CC de la Beauce Loirétaine, de 2026 à 2032")
    legend = set(dataset_with(chart, "legend")["legend"])
    assert any(label.startswith("Numérique mutualisé : −") for label in legend)
    assert line["encoding"]["color"]["title"] == "En 2032, écart à 2026"
    assert "ce que les recettes apportent" in title_text(chart)
    plain = charts.blades_chart(not_estimated(frame))
    assert "estimé" not in title_text(plain) and "estimé" not in plain.to_dict()["description"]


def test_blades_domain_holds_every_series(beauce_view):
    frame = beauce_view.projection.projection
    a, b = charts.blades_data(frame), charts.blades_data(frame, "45008")
    lo, hi = charts.blades_domain(a, b)
    assert lo < min(a["amount_eur"].min(), b["amount_eur"].min())
    assert hi > max(a["amount_eur"].max(), b["amount_eur"].max())
    spec = charts.blades_chart(frame, y_domain=(lo, hi)).to_dict()
    assert spec["layer"][1]["encoding"]["y"]["scale"]["domain"] == [lo, hi]


@pytest.mark.parametrize("commune, case", [(EPCI_ID, "pooled"), ("45008", "pooled"),
                                           (EPCI_ID, "standalone")])
def test_waterfall_runs_from_start_to_end_savings_to_the_cent(beauce_view, commune, case):
    from model.scissor import attribution

    frame = beauce_view.projection.projection
    chart = charts.attribution_chart(frame, commune, case)
    bars = dataset_with(chart, "step").sort_values("step").reset_index(drop=True)
    p = payer(frame, commune)
    eb = p[f"epargne_brute_{case}_eur"]
    assert list(bars["kind"]) == ["start", "resources", "other", "digital", "end"]
    assert bars.loc[0, "end_eur"] == pytest.approx(eb.iloc[0], abs=0.005)
    assert bars.loc[4, "end_eur"] == pytest.approx(eb.iloc[-1], abs=0.005)
    for i in (1, 2, 3):  # each step starts where the previous one ended
        assert bars.loc[i, "start_eur"] == bars.loc[i - 1, "end_eur"]
        assert bars.loc[i, "end_eur"] - bars.loc[i, "start_eur"] == pytest.approx(
            bars.loc[i, "amount_eur"], abs=1e-6)
    # start + resources - other - digital = end, to the cent
    assert abs(bars.loc[3, "end_eur"] - eb.iloc[-1]) < 0.005
    assert abs(bars.loc[0, "amount_eur"] + bars.loc[1:3, "amount_eur"].sum() - eb.iloc[-1]) < 0.005
    att = attribution(frame, case).loc[commune]
    assert bars.loc[3, "amount_eur"] == att["eb_from_digital_eur"]
    assert bars.loc[3, "amount_eur"] == pytest.approx(
        -(p[f"digital_{case}_eur"].iloc[-1] - p[f"digital_{case}_eur"].iloc[0]))
    assert bars["highlight"].tolist() == [False, False, False, True, False]
    assert bars.loc[1, "label"] == "+ Recettes" and bars.loc[2, "label"] == "− Autres dépenses"
    assert bars.loc[3, "label"].startswith("− Numérique")
    assert bars.loc[0, "label"] == "Épargne brute 2026"
    assert bars.loc[4, "label"] == "= Épargne brute 2032"
    spec = chart.to_dict()
    assert spec["title"]["text"] == "D'où vient la variation de l'épargne brute (estimé)"
    assert "€" in spec["layer"][0]["encoding"]["x"]["title"]
    assert "coût numérique" in spec["description"]


def test_waterfall_accepts_an_attribution_table_a_row_or_a_summary_entry(beauce_view):
    from model.scissor import attribution

    frame = beauce_view.projection.projection
    att = attribution(frame)
    want = charts.waterfall_data(frame)
    pd.testing.assert_frame_equal(charts.waterfall_data(att), want)
    pd.testing.assert_frame_equal(charts.waterfall_data(att.loc[EPCI_ID]), want)
    entry = beauce_view.summary["scissor"]["attribution"][EPCI_ID]
    got = charts.waterfall_data(entry, start=2026, end=2032)
    assert (got["end_eur"] - want["end_eur"]).abs().max() < 0.01
    with pytest.raises(ValueError, match="start and end"):
        charts.waterfall_data(entry)
    text = title_text(charts.attribution_chart(att.loc[EPCI_ID]))
    assert "chaque commune seule" not in text  # only from a frame, or when given
    plain = charts.attribution_chart(not_estimated(frame))
    assert "estimé" not in title_text(plain)
    assert "chaque commune seule" in title_text(plain)


def test_gap_chart_data_is_the_frame_gap(beauce_view):
    frame = beauce_view.projection.projection
    chart = charts.gap_chart(frame)
    data = dataset_with(chart, "gap_cum_eur")
    p = payer(frame)
    for case in ("pooled", "standalone"):
        got = data[data["case"] == case].set_index("year")
        pd.testing.assert_series_equal(got["gap_eur"], p[f"digital_gap_{case}_eur"],
                                       check_names=False)
        pd.testing.assert_series_equal(got["gap_cum_eur"], p[f"digital_gap_cum_{case}_eur"],
                                       check_names=False)
    assert "(estimé)" in chart.to_dict()["title"]["text"]
    assert "de plus" in chart.to_dict()["description"]


@pytest.fixture(scope="module")
def sens(beauce_scenario):
    from model.sensitivity import sensitivity

    return sensitivity(beauce_scenario, draws=40, seed=3)


@pytest.mark.parametrize("level", ["epci", "commune"])
def test_crossing_probability_accumulates_the_scissor_years(sens, level):
    prob = charts.crossing_probability(sens, "teb_alert", level)
    dist = sens.scissor.query("indicator == 'teb_alert' and level == @level")
    years = sorted(sens.shares["year"].unique())
    for case in ("pooled", "standalone"):
        p = prob[prob["case"] == case].set_index("year")["probability"]
        assert list(p.index) == years
        assert p.is_monotonic_increasing and 0 <= p.min() and p.max() <= 1
        never = dist[(dist["case"] == case) & dist["year"].isna()]["share"].sum()
        assert p.iloc[-1] == pytest.approx(1 - never)
        by_draw = sens.draws[f"{'scissor' if level == 'epci' else 'first_commune'}"
                             f"_teb_alert_{case}"]
        assert p.loc[years[-2]] == pytest.approx((by_draw <= years[-2]).sum() / len(sens.draws))


def test_crossing_probability_chart_is_french_and_renders(sens, tmp_path):
    chart = charts.crossing_probability_chart(sens, territory="Beauce")
    spec = chart.to_dict()
    assert spec["title"]["text"] == "Probabilité de franchir le seuil, année par année"
    assert "40 tirages" in title_text(chart)
    assert spec["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert spec["description"].startswith("Sur 40 tirages")
    assert charts.save_chart(chart, tmp_path / "proba.svg").read_text().lstrip().startswith("<svg")
    with pytest.raises(ValueError):
        charts.crossing_probability(sens, "teb_alert", "nowhere")


def test_euro_charts_save_to_png(beauce_view, tmp_path):
    frame = beauce_view.projection.projection
    for name, chart in (("lames", charts.blades_chart(frame)),
                        ("cascade", charts.attribution_chart(frame)),
                        ("ecart", charts.gap_chart(frame))):
        png = charts.save_chart(chart, tmp_path / f"{name}.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eur_signed_is_french():
    assert charts.eur_signed(2854698.2) == "+2\u202f854\u202f698\u00a0€"
    assert charts.eur_signed(-55937.37) == "−55\u202f937\u00a0€"
    assert charts.eur_signed(0.2) == "0\u00a0€"


# --- Accessibility -------------------------------------------------------------------------------

#: Machado, Oliveira & Fernandes (2009) full-severity matrices on linear RGB.
CVD = {
    "deutéranopie": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "protanopie": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
}


def _lab(hex_colour: str, matrix=None):
    import numpy as np

    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    if matrix is not None:
        lin = np.clip(np.array(matrix) @ lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_methods_stay_distinct_under_deuteranopia_and_protanopia():
    """Two methods either differ in shape or stay far apart in colour (ΔE*ab ≥ 20) for normal
    vision and under both red-green deficiencies."""
    import itertools

    import numpy as np

    from model.report.charts import METHOD_STYLE
    from model.scenario import METHODS

    assert set(METHODS) <= set(METHOD_STYLE)
    for (m1, (c1, s1)), (m2, (c2, s2)) in itertools.combinations(METHOD_STYLE.items(), 2):
        if s1 != s2:
            continue
        for name, matrix in {"vision normale": None, **CVD}.items():
            distance = float(np.linalg.norm(_lab(c1, matrix) - _lab(c2, matrix)))
            assert distance >= 20, (m1, m2, name, distance)
    # the pair the issue found: « Clé d'usage » and « Clé potentiel financier »
    assert METHOD_STYLE["usage"][1] != METHOD_STYLE["potentiel_financier"][1]


def test_method_chart_encodes_each_method_by_colour_and_shape(beauce_view):
    from model.report.charts import METHOD_STYLE

    proj = beauce_view.projection
    spec = charts.method_comparison_chart(proj.allocation, proj.inputs).to_dict()
    enc = spec["layer"][0]["encoding"]
    methods = list(dict.fromkeys(proj.allocation["method"]))
    assert enc["color"]["scale"]["range"] == [METHOD_STYLE[m][0] for m in methods]
    assert enc["shape"]["scale"]["range"] == [METHOD_STYLE[m][1] for m in methods]


def test_every_chart_has_a_text_alternative_table_with_french_headers(beauce_view):
    proj = beauce_view.projection
    frame = proj.projection
    built = {
        "blades": charts.blades_chart(frame),
        "waterfall": charts.attribution_chart(frame),
        "burden": charts.burden_chart(frame, beauce_view.thresholds),
        "allocation": charts.allocation_chart(proj.allocation, proj.inputs),
        "methods": charts.method_comparison_chart(proj.allocation, proj.inputs),
    }
    for name, chart in built.items():
        spec = chart.to_dict()
        table = charts.chart_table(spec)
        assert not table.empty, name
        assert not any("_" in str(c) for c in table.columns), (name, list(table.columns))
        html = charts.chart_table_html(spec)
        assert html.startswith("<table>") and "<th scope='col'>" in html, name


def test_the_schema_index_built_once_gives_altair_s_own_specs(beauce_view):
    """charts.py builds Altair's schema index once (a speed-up): the specs must be those of
    Altair's own path, which rebuilds it each time."""
    from altair.utils import schemapi

    frame = beauce_view.projection.projection
    fast = [charts.attribution_chart(frame).to_dict(), charts.blades_chart(frame).to_dict()]
    patched = schemapi._FromDict.__init__
    schemapi._FromDict.__init__ = patched._original
    try:
        slow = [charts.attribution_chart(frame).to_dict(), charts.blades_chart(frame).to_dict()]
    finally:
        schemapi._FromDict.__init__ = patched
    assert fast == slow


def test_a_region_sized_chart_is_drawn_not_refused(beauce_view):
    """A région's communes over seven years exceed Altair's 5,000-row guard: drawn inline."""
    import pandas as pd

    frame = beauce_view.projection.projection
    communes = frame[frame["commune"] != "EPCI"]
    copies = [communes.assign(commune=communes["commune"] + f"-{i}") for i in range(40)]
    big = pd.concat([*copies, frame[frame["commune"] == "EPCI"]], ignore_index=True)
    assert len(big) > 5000
    spec = charts.burden_chart(big, beauce_view.thresholds).to_dict()
    assert sum(len(rows) for rows in spec["datasets"].values()) > 5000
