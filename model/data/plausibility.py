"""Plausibility of the per-commune figures a user gives: per inhabitant and as ratios.

A figure can be well formed and still wrong: 11,90 € of DRF for a commune of 262 inhabitants (a
total typed as « 11.905 » and read with a decimal point), 1e30 € of RRF, 1,250 agents for 262
inhabitants, a population of 0 for a commune INSEE counts as inhabited. Each figure is brought
back to a scale where communes compare (per inhabitant, per 1,000 inhabitants, per agent, DRF
over RRF) and held against two ranges of ``data/assumptions.yaml`` (section ``plausibility``):

* outside the **impossible** range: an error (the file is refused), naming the commune (name and
  INSEE code), the figure, the ratio and the bound;
* outside the **usual** range: a warning starting with « Attention : », the figure is used.

Only what the user gave is checked (estimates are the model's own); a ratio needs both of its
figures given. Upper per-inhabitant bounds are applied as if the commune had at least
``plausibility.small_commune_floor_hab`` inhabitants: a commune of 3 inhabitants still pays a
secretary and an insurance, and its budget per inhabitant is not comparable.

The population a ratio uses is the file's, or the bundled INSEE one (``model.data.bundled``)
when the file leaves it blank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import pandas as pd

SECTION = "plausibility"


@dataclass(frozen=True)
class Finding:
    """One implausible figure: the user's row, the field blamed, and the French message."""

    row: int
    field: str
    message: str
    error: bool  # True: impossible (refused); False: unusual (warning)
    kind: str  # the bound broken, e.g. "drf_per_hab_impossible" (groups repeated findings)

    @property
    def headline(self) -> str:
        """Words for many rows with this finding: « 120 lignes <headline> »."""
        if self.kind.startswith("population"):
            return ("à la population nulle" if self.error
                    else "à la population éloignée de celle de l'INSEE")
        return "aux chiffres impossibles" if self.error else "aux chiffres inhabituels"


def load_bounds(tree: dict | None = None) -> dict:
    """The ``plausibility`` values of an assumption tree (default: data/assumptions.yaml)."""
    section = (_default_tree() if tree is None else tree)[SECTION]
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v)
            for k, v in section.items()}


@cache
def _default_tree() -> dict:
    from model.data.assumptions import load_assumptions

    return load_assumptions()


@cache
def national_communes() -> pd.DataFrame:
    """Every bundled commune (index INSEE code): name and municipal population (INSEE, DGCL)."""
    from model.data.bundled import _memberships

    members = _memberships()
    table = (members.drop_duplicates("commune_insee")
             .rename(columns={"commune_insee": "commune", "commune_name": "name"})
             .set_index("commune")[["name", "population"]])
    return table


# --------------------------------------------------------------------------------------------
# French numbers
# --------------------------------------------------------------------------------------------

def fr(value: float, decimals: int | None = None) -> str:
    """A number as a French reader writes it: 30 534 ; 0,05 ; 1,2e30."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    value = float(value)
    if math.isinf(value) or abs(value) >= 1e15:
        return f"{value:.3g}".replace(".", ",").replace("e+", "e")
    if decimals is not None and value and abs(value) < 10.0 ** -decimals:
        decimals = None  # 0,0001 would read 0
    if decimals is None:
        magnitude = abs(value)
        if magnitude == 0 or magnitude >= 100:
            decimals = 0
        elif magnitude >= 10:
            decimals = 1
        elif magnitude >= 0.01:
            decimals = 2
        else:  # two significant digits: 0,00025
            decimals = min(12, 1 - math.floor(math.log10(magnitude)))
    text = f"{value:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",")


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------

#: Money fields checked per inhabitant: (field, French noun, prefix of the bound keys).
_PER_HAB = (
    ("rrf_eur", "recettes réelles de fonctionnement", "rrf_per_hab"),
    ("drf_eur", "dépenses réelles de fonctionnement", "drf_per_hab"),
    ("potentiel_financier_eur", "potentiel financier", "potentiel_financier_per_hab"),
)
_MONEY_LOW = ("Donnez le montant annuel total de la commune en euros : ni en milliers "
              "d'euros, ni par habitant, ni avec un point des milliers lu comme une virgule "
              "(« 11.905 » pour 11 905 €).")
_MONEY_HIGH = ("Vérifiez l'unité (des centimes ?) et qu'il s'agit du seul budget principal "
               "d'une année.")
#: Count fields with an impossible maximum per 1,000 inhabitants: (field, noun, bound key).
_PER_1000 = (
    ("agents", "agents (ETP)", "agents_per_1000_hab_impossible_max"),
    ("workstations", "postes de travail", "workstations_per_1000_hab_impossible_max"),
    ("licence_seats", "licences (sièges)", "licence_seats_per_1000_hab_impossible_max"),
    ("archive_gb", "Go d'archives", "archive_gb_per_1000_hab_impossible_max"),
)
#: Ratios of two given fields with a usual maximum: (field, over, noun, unit, bound key, hint).
_PER_UNIT = (
    ("workstations", "agents", "postes de travail", "par agent (ETP)",
     "workstations_per_agent_usual_max",
     "Comptez les postes gérés pour les agents de la commune (les postes des écoles "
     "peuvent expliquer l'écart)."),
    ("licence_seats", "workstations", "licences", "par poste de travail",
     "licence_seats_per_workstation_usual_max",
     "Comptez les sièges des logiciels concernés par l'achat groupé."),
    ("archive_gb", "agents", "Go d'archives", "par agent (ETP)",
     "archive_gb_per_agent_usual_max",
     "Vérifiez l'unité : des gigaoctets (Go), pas des mégaoctets."),
)


def _commune(code: str, name: object) -> str:
    if isinstance(name, str) and name.strip():
        text = " ".join(name.split())
        text = text if len(text) <= 40 else text[:37] + "..."
        return f"{text} ({code})"
    return f"commune {code}"


def check_plausibility(values: pd.DataFrame, codes: pd.Series, names: pd.Series,
                       population: pd.Series, bundled_population: pd.Series,
                       bounds: dict | None = None) -> list[Finding]:
    """Every implausible figure of ``values`` (index: the user's row numbers).

    ``values`` holds the numeric fields as the user gave them (NaN where blank, fields the file
    lacks absent); ``codes`` the INSEE code of each row (None: the row is skipped, its code is
    already reported), ``names`` the names to show, ``population`` the population the ratios
    use (the file's, else the bundled one), ``bundled_population`` the bundled INSEE population
    (NaN when the commune is unknown). Values already refused by the reader (negative, zero
    money) must be NaN or are skipped. Findings come in row order.
    """
    b = load_bounds() if bounds is None else bounds
    floor = float(b["small_commune_floor_hab"])
    found: list[Finding] = []

    refused: set[tuple[int, str]] = set()

    def add(row, field, error, kind, text):
        found.append(Finding(int(row), field, text, error, kind))
        if error:
            refused.add((int(row), field))

    codes_of, names_of = codes.to_dict(), names.to_dict()
    pop_of, insee_of = population.to_dict(), bundled_population.to_dict()
    for row, given in values.to_dict("index").items():
        code = codes_of.get(row)
        if code is None or (isinstance(code, float) and math.isnan(code)):
            continue
        who = _commune(str(code), names_of.get(row))
        pop = float(pop_of.get(row, math.nan))

        def val(field, given=given):
            return float(given.get(field, math.nan))

        # Population against the bundled INSEE figure.
        p_file, p_insee = val("population"), float(insee_of.get(row, math.nan))
        if not math.isnan(p_file) and not math.isnan(p_insee):
            if p_file == 0 and p_insee > 0:
                add(row, "population", True, "population_zero",
                    f"{who} : population 0, alors que la population municipale INSEE fournie "
                    f"avec le modèle est de {fr(p_insee, 0)} habitants. Une commune à 0 habitant "
                    "est exclue de la répartition : donnez sa population municipale, ou laissez "
                    f"la cellule vide pour reprendre {fr(p_insee, 0)}.")
            elif p_file > 0 and p_insee == 0:
                add(row, "population", False, "population_vs_insee",
                    f"{who} : population {fr(p_file, 0)}, alors que la population municipale "
                    "INSEE fournie avec le modèle est de 0 habitant. Vérifiez le code INSEE.")
            elif p_file > 0 and p_insee > 0:
                lo, hi = b["population_vs_insee_usual"]
                ratio = p_file / p_insee
                if not lo <= ratio <= hi:
                    add(row, "population", False, "population_vs_insee",
                        f"{who} : population {fr(p_file, 0)}, loin de la population municipale "
                        f"INSEE fournie avec le modèle ({fr(p_insee, 0)} habitants ; écart "
                        f"habituel : entre {fr(lo)} et {fr(hi)} fois celle-ci). Vérifiez le "
                        "chiffre et le code INSEE.")
        if math.isnan(pop) or pop <= 0:
            continue
        pop_up = max(pop, floor)  # upper bounds: tiny communes compare as `floor` inhabitants
        small = (f" (comptée pour {fr(floor, 0)} habitants, le minimum appliqué aux bornes "
                 "hautes)") if pop < floor else ""

        for field, noun, key in _PER_HAB:
            v = val(field)
            if math.isnan(v) or v <= 0:
                continue
            per, per_up = v / pop, v / pop_up
            ilo, ihi = b[f"{key}_impossible"]
            ulo, uhi = b[f"{key}_usual"]
            head = (f"{who} : {noun} de {fr(v, 3)} € pour {fr(pop, 0)} habitants, soit "
                    f"{fr(per)} € par habitant")
            if per < ilo:
                add(row, field, True, f"{key}_impossible",
                    f"{head} : impossible, le minimum plausible est de {fr(ilo)} € par "
                    f"habitant. {_MONEY_LOW}")
            elif per_up > ihi:
                add(row, field, True, f"{key}_impossible",
                    f"{head}{small} : impossible, le maximum plausible est de {fr(ihi)} € par "
                    f"habitant. {_MONEY_HIGH}")
            elif per < ulo or per_up > uhi:
                add(row, field, False, f"{key}_usual",
                    f"{head}{small if per_up > uhi else ''} : inhabituel (habituellement entre "
                    f"{fr(ulo)} et {fr(uhi)} € par habitant). Vérifiez le montant.")

        rrf, drf = val("rrf_eur"), val("drf_eur")
        if rrf > 0 and drf > 0 and not {(int(row), "rrf_eur"), (int(row), "drf_eur")} & refused:
            ratio = drf / rrf
            ilo, ihi = b["drf_over_rrf_impossible"]
            ulo, uhi = b["drf_over_rrf_usual"]
            head = (f"{who} : dépenses réelles de fonctionnement ({fr(drf, 3)} €) égales à "
                    f"{fr(ratio)} fois les recettes ({fr(rrf, 3)} €)")
            if not ilo <= ratio <= ihi:
                add(row, "drf_eur", True, "drf_over_rrf_impossible",
                    f"{head} : impossible (entre {fr(ilo)} et {fr(ihi)} fois au plus). "
                    "Vérifiez que recettes et dépenses sont du même exercice, du même budget et "
                    "dans la même unité, et qu'elles ne sont pas inversées.")
            elif not ulo <= ratio <= uhi:
                add(row, "drf_eur", False, "drf_over_rrf_usual",
                    f"{head} : inhabituel (habituellement entre {fr(ulo)} et {fr(uhi)} fois). "
                    "Vérifiez les deux montants.")

        agents = val("agents")
        for field, noun, key in _PER_1000:
            v = val(field)
            if math.isnan(v) or v <= 0:
                continue
            per = v * 1000.0 / pop_up
            bound = float(b[key])
            if per > bound:
                hint = (" Donnez des équivalents temps plein de la commune seule ; une virgule "
                        "décimale lue comme séparateur des milliers (« 1,250 ») donne aussi ce "
                        "résultat." if field == "agents" else " Vérifiez le chiffre et l'unité.")
                add(row, field, True, key,
                    f"{who} : {fr(v)} {noun} pour {fr(pop, 0)} habitants{small}, soit "
                    f"{fr(per)} pour 1 000 habitants : impossible (au plus {fr(bound)} pour "
                    f"1 000 habitants).{hint}")
            elif field == "agents":
                usual = float(b["agents_per_1000_hab_usual_max"])
                if per > usual:
                    add(row, field, False, "agents_per_1000_hab_usual_max",
                        f"{who} : {fr(v)} agents (ETP) pour {fr(pop, 0)} habitants{small}, "
                        f"soit {fr(per)} pour 1 000 habitants : inhabituel (habituellement au "
                        f"plus {fr(usual)}). Vérifiez qu'il s'agit d'ETP de la commune seule.")

        for field, over, noun, unit, key, hint in _PER_UNIT:
            v, d = val(field), (agents if over == "agents" else val(over))
            if math.isnan(v) or math.isnan(d) or d <= 0 or v <= 0:
                continue
            if (int(row), field) in refused:
                continue  # already impossible per inhabitant: one message per cell
            ratio, bound = v / d, float(b[key])
            if ratio > bound:
                add(row, field, False, key,
                    f"{who} : {fr(v)} {noun} pour {fr(d)} {'agents' if over == 'agents' else 'postes'}"
                    f", soit {fr(ratio)} {unit} : inhabituel (habituellement au plus "
                    f"{fr(bound)}). {hint}")
    return found
