"""The scissor year on constructed cases where the answer is known by hand."""

import pandas as pd

from model.projection import (
    INDICATORS,
    add_indicators,
    indicator_column,
    scissor_table,
    scissor_year,
)

THRESHOLDS = {"teb_alert": 0.10, "teb_degraded": 0.07, "digital_burden_threshold": 0.019,
              "eb_negative_threshold": 0.0}


def test_scissor_year_first_crossing():
    s = pd.Series([0.14, 0.12, 0.099, 0.11, 0.05], index=range(2026, 2031))
    assert scissor_year(s, 0.10, "below") == 2028
    assert scissor_year(s, 0.01, "below") is None
    assert scissor_year(s, 0.13, "above") == 2026


def test_hand_computed_scissor_and_years_gained():
    # RRF 1,000,000 € flat; other spending 860,000 € flat; digital alone 20,000 € + 10,000 €/yr,
    # pooled 15,000 € + 5,000 €/yr. TEB alone = (140,000 - 20,000 - 10,000 k) / 1e6:
    # 2026 12 %, 2027 11 %, 2028 10 %, 2029 9 % -> alert (< 10 %) in 2029.
    # Pooled: 12.5 %, 12 %, 11.5 %, 11 %, 10.5 %, 10 %, 9.5 % -> 2032. Pooling buys 3 years.
    years = list(range(2026, 2033))
    k = pd.Series(range(7))
    frame = pd.DataFrame({
        "year": years, "commune": "41001", "name": "Exemple",
        "rrf_eur": 1_000_000.0, "other_drf_eur": 860_000.0,
        "digital_standalone_eur": 20_000.0 + 10_000.0 * k,
        "digital_pooled_eur": 15_000.0 + 5_000.0 * k,
    })
    proj = add_indicators(frame, THRESHOLDS)
    table = scissor_table(proj, THRESHOLDS).set_index("indicator")
    assert table.loc["teb_alert", "year_standalone"] == 2029
    assert table.loc["teb_alert", "year_pooled"] == 2032
    assert table.loc["teb_alert", "years_gained"] == 3
    # TEB alone 7 % is crossed when 20,000 + 10,000 k > 70,000, i.e. k = 6 -> 2032 (6 %)
    assert table.loc["teb_degraded", "year_standalone"] == 2032
    assert pd.isna(table.loc["teb_degraded", "year_pooled"])
    # digital burden > 1.9 %: alone from 2026 (2 %), pooled when 15,000 + 5,000 k > 19,000 -> 2027
    assert table.loc["digital_burden", "year_standalone"] == 2026
    assert table.loc["digital_burden", "year_pooled"] == 2027


def reference_table(proj: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """The scissor table by its definition: one commune at a time, with `scissor_year`."""
    rows = []
    for commune, df in proj.groupby("commune", sort=False):
        df = df.set_index("year").sort_index()
        for indicator, (col, direction, key) in INDICATORS.items():
            pooled = scissor_year(df[indicator_column(col, "pooled")], thresholds[key], direction)
            alone = scissor_year(df[indicator_column(col, "standalone")], thresholds[key],
                                 direction)
            end = int(df.index.max()) + 1
            gained = None if alone is None else (pooled if pooled is not None else end) - alone
            rows.append({"commune": commune, "name": df["name"].iloc[0], "indicator": indicator,
                         "threshold": thresholds[key], "year_pooled": pooled,
                         "year_standalone": alone, "years_gained": gained})
    out = pd.DataFrame(rows)
    return out.astype({"year_pooled": "Int64", "year_standalone": "Int64", "years_gained": "Int64"})


def test_vectorised_table_equals_its_definition_on_a_real_run():
    from model.run import run
    from model.scenario import Scenario

    frame = run(Scenario(epci="200035764")).projection.projection
    thr = dict(THRESHOLDS, teb_alert=0.15, digital_burden_threshold=0.012)
    pd.testing.assert_frame_equal(scissor_table(frame, thr), reference_table(frame, thr))


def test_the_headline_says_de_la_region_and_du_departement():
    from model.scissor import of_territory

    assert of_territory("Département du Loir-et-Cher") == "du département du Loir-et-Cher"
    assert of_territory("Région Centre-Val de Loire (1 754 communes)").startswith(
        "de la région Centre-Val de Loire")
    assert of_territory("Territoire de 2 EPCI : A, B") == "du territoire de 2 EPCI : A, B"
    assert of_territory("CC de la Beauce Loirétaine") == "de CC de la Beauce Loirétaine"
