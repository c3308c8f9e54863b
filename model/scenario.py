"""A scenario = an EPCI (or a wider territory), optional user data, the pools, the method and assumption overrides.

Scenarios are YAML files (see data/scenarios/ and the README). ``Scenario.from_yaml`` reads one
strictly (``model.data.assumptions.read_yaml``) and checks every key against
data/assumptions_schema.yaml: all problems are reported at once, each naming the file as given,
the key path, the value and what is allowed. ``Scenario.resolve`` turns one into the concrete
inputs of a run: the commune table (user figures over bundled data over estimates) and the
assumption tree with the overrides applied.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from model.costs import POOLS
from model.data.assumptions import (
    INVALID,
    apply_overrides,
    assumption_values,
    check_overrides,
    check_value,
    kind_fr,
    line_of,
    load_assumptions,
    load_schema,
    problems_of,
    read_yaml,
    show_value,
)
from model.data.bundled import Epci, epci_of_commune, load_epci
from model.data.estimate import CommuneTable, complete_communes
from model.data.territory import TERRITORY_TYPE, check_territory, load_territory
from model.errors import InputError, Problem

METHODS: tuple[str, ...] = (
    "voted_key", "lp", "nucleolus", "shapley", "usage", "population", "potentiel_financier", "agents", "workstations",
    "equal", "weighted",
)
SETTLEMENTS = ("invoice", "ac")
SOLVERS = ("highs-fast", "pulp-highs", "pulp-cbc")


def check_scenario(raw: Any, origin: str | None = None, lines: dict[str, int] | None = None,
                   require_epci: bool = True) -> tuple[dict[str, Any], list[Problem]]:
    """Check a scenario's keys (a dict read from YAML, or ``Scenario.to_dict()``).

    Returns the normalised keyword arguments of ``Scenario`` and every problem found, in French,
    each naming ``origin`` (the file as the user gave it), the line when known, the key path,
    the value and what is allowed (data/assumptions_schema.yaml, section ``scenario``).
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return {}, [Problem("le scénario doit être un dictionnaire YAML (clé: valeur, une par "
                            f"ligne), pas {kind_fr(raw)}", file=origin)]
    schema = load_schema()["scenario"]
    problems: list[Problem] = []
    unknown = [k for k in raw if k not in schema]
    if unknown:
        names = ", ".join(show_value(k).strip("« »") for k in unknown)
        hints = []
        for k in unknown:
            hit = difflib.get_close_matches(str(k).lower(), list(schema), n=1, cutoff=0.6)
            if hit:
                hints.append(f"« {show_value(k).strip('« »')} » -> « {hit[0]} »")
        problems.append(Problem(
            f"clé(s) inconnue(s) : {names} (clés possibles : {', '.join(sorted(schema))})"
            + (f" ; vouliez-vous dire {', '.join(hints)} ?" if hints else ""),
            file=origin, row=line_of(str(unknown[0]), lines)))
    out: dict[str, Any] = {}
    for key, spec in schema.items():
        if key not in raw:
            continue
        value = raw[key]
        if key == "epci" and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            value = str(value)  # an unquoted SIREN is read by YAML as a number
        if key == "territory" and value is not None:
            records: list = []
            if check_value(spec, value, key, records) is INVALID:
                problems.extend(problems_of(spec, records, origin, lines))
                continue
            normalised, found = check_territory(value, origin, lines)
            problems.extend(found)
            if normalised is not None:
                out[key] = normalised
            continue
        if key == "assumptions":
            if value is None:
                out[key] = {}
                continue
            normalised, found = check_overrides(value, origin=origin, lines=lines)
            problems.extend(found)
            out[key] = normalised
            continue
        records: list = []
        norm = check_value(spec, value, key, records)
        problems.extend(problems_of(spec, records, origin, lines))
        if norm is not INVALID:
            out[key] = norm
    if "name" in out and out["name"] is None:
        out["name"] = ""
    epci, territory = raw.get("epci"), raw.get("territory")
    no_epci = "epci" not in raw or epci is None or (isinstance(epci, str) and not epci.strip())
    if territory is not None and not no_epci:
        problems.append(Problem(
            "donnez soit « epci » (un EPCI), soit « territory » (plusieurs EPCI, un département, "
            "une région ou une liste de communes), pas les deux",
            file=origin, row=line_of("territory", lines)))
    elif require_epci and no_epci and territory is None:
        problems.append(Problem("la clé « epci » (SIREN ou nom de l'EPCI) ou la clé « territory » "
                                "(territoire de plusieurs EPCI) est obligatoire",
                                file=origin, row=line_of("epci", lines)))
    problems.sort(key=lambda p: (p.row is None, p.row or 0))  # in the file's order
    return out, problems


@dataclass
class Scenario:
    """What a user chooses; everything else comes from data/assumptions.yaml."""

    epci: str
    name: str = ""
    data_file: str | None = None
    pools: list[str] = field(default_factory=lambda: list(POOLS))
    method: str = "voted_key"
    settlement: str = "invoice"
    solver: str = "highs-fast"
    assumptions: dict[str, Any] = field(default_factory=dict)
    #: Tariff grids the territory already uses, per service (`model.tariffs`): usable as the
    #: reference key of the default split (``reference_key: grid``).
    tariffs: dict[str, Any] = field(default_factory=dict)
    #: A territory beyond one EPCI (``model.data.territory``), in place of ``epci``:
    #: ``{region: "24"}``, ``{departement: "41"}``, ``{epcis: [SIREN, ...]}`` or
    #: ``{communes: FILE.csv}`` (path relative to the scenario) or ``{communes: [INSEE, ...]}``.
    territory: dict[str, Any] | None = None
    base_dir: Path | None = field(default=None, repr=False, compare=False)
    #: The file it was read from, as the user gave it (named in messages); not carried over by
    #: ``dataclasses.replace``, since a changed scenario is no longer that file.
    origin: str | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_yaml(cls, path: str | Path, require_epci: bool = True) -> Scenario:
        """Read a scenario file; every problem (unknown key, wrong type, value out of range,
        duplicate key, alias, encoding...) is reported at once, in French, naming the file as
        given and the key. ``require_epci=False`` reads a batch template, whose ``epci`` may be
        left out."""
        origin = str(path)
        raw, lines = read_yaml(path, origin=origin)
        kwargs, problems = check_scenario(raw, origin, lines, require_epci=require_epci)
        if problems:
            raise InputError(problems)
        kwargs.setdefault("epci", "")
        scenario = cls(**kwargs, base_dir=Path(path).parent)
        scenario.origin = origin
        return scenario

    def problems(self, origin: str | None = None) -> list[Problem]:
        """Every problem of this scenario's keys and assumption overrides (empty if none)."""
        _, found = check_scenario(self.to_dict(), origin or self.origin, require_epci=False)
        return found

    def check(self, origin: str | None = None) -> None:
        """Raise one ``InputError`` listing every problem (see ``check_scenario``)."""
        problems = self.problems(origin)
        if problems:
            raise InputError(problems)

    def to_dict(self) -> dict[str, Any]:
        """The scenario's keys; ``territory`` only when set, and then ``epci`` only when set."""
        d = asdict(self)
        d.pop("base_dir")
        d.pop("origin")
        if d["territory"] is None:
            d.pop("territory")
        elif not d["epci"]:
            d.pop("epci")
        return d

    def to_yaml(self, path: str | Path) -> None:
        Path(path).write_text(
            yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")

    def data_path(self) -> Path | None:
        if not self.data_file:
            return None
        p = Path(self.data_file)
        return p if p.is_absolute() or self.base_dir is None else self.base_dir / p

    def load_territory(self) -> Epci:
        """The EPCI, or the territory of ``territory`` (same object, see model.data.territory)."""
        if self.territory is not None:
            return load_territory(self.territory, self.base_dir, self.origin)
        return load_epci(str(self.epci))

    def resolve(self, user_table=None) -> ResolvedScenario:
        """Load the EPCI, merge the user's figures, estimate the rest, apply the overrides."""
        self.check()
        epci = self.load_territory()
        tree = apply_overrides(load_assumptions(), self.assumptions, self.origin)
        given = epci.communes[["name", "population"]].astype({"population": float})
        path = self.data_path()
        warnings: list[str] = []
        if user_table is None and path is not None:
            from model.data.plausibility import load_bounds
            from model.data.userfile import read_user_file

            user_table, warnings = read_user_file(path, epci, bounds=load_bounds(tree))
        elif user_table is not None:
            warnings = list(user_table.attrs.get("warnings", []))
        if user_table is not None:
            given = merge_user_table(given, user_table)
        if self.settlement == "ac" and epci.type == TERRITORY_TYPE:
            n = epci.communes.index.map(epci_of_commune()).nunique()
            raise InputError(Problem(
                f"{epci.name} n'est pas un EPCI ({n} EPCI représenté{'s' if n > 1 else ''}) : "
                "l'attribution de compensation ne circule qu'entre un EPCI à fiscalité "
                "professionnelle unique et ses propres communes (CGI 1609 nonies C), pas entre "
                "plusieurs EPCI ni pour un organisme de mutualisation. Choisissez settlement: "
                "invoice.", file=self.origin, column="settlement"))
        if self.settlement == "ac" and epci.mode_financement != "FPU":
            raise InputError(Problem(
                f"{epci.name} est en fiscalité additionnelle ({epci.mode_financement}) : "
                "l'imputation sur l'attribution de compensation n'existe que sous fiscalité "
                "professionnelle unique (CGI 1609 nonies C). Choisissez settlement: invoice.",
                file=self.origin, column="settlement"))
        values = assumption_values(tree)
        given = age_accounts(given, values)
        uninhabited = given["population"] <= 0
        excluded = given.loc[uninhabited, ["name"]].assign(reason=UNINHABITED_FR)
        if uninhabited.all():
            raise InputError(Problem(f"{epci.name} n'a aucune commune habitée à répartir.",
                                     column="population"))
        communes = complete_communes(given[~uninhabited], values)
        if self.tariffs:
            from model.tariffs import check_grid

            columns = [c for c in communes.values.columns if c != "name"]
            problems = [pr for pool, rule in self.tariffs.items()
                        for pr in check_grid(rule, columns, f"tariffs.{pool}")]
            if problems:
                raise InputError([replace(pr, file=pr.file or self.origin) for pr in problems])
        return ResolvedScenario(self, epci, communes, tree, values, excluded, tuple(warnings))


UNINHABITED_FR = ("commune sans habitant (ni budget ni agents) : elle ne paie rien et n'entre "
                  "pas dans la répartition")


def age_accounts(given: pd.DataFrame, values: dict) -> pd.DataFrame:
    """User-given RRF and DRF of the accounts year (``finance.accounts_year``), aged to the start
    year at the projection's growth rates (recettes, other spending); estimates are untouched."""
    gap = int(values["projection"]["start_year"]) - int(values["finance"]["accounts_year"])
    if gap == 0:
        return given
    out = given.copy()
    growth = {"rrf_eur": values["projection"]["rrf_growth"],
              "drf_eur": values["projection"]["other_drf_growth"]}
    for col, g in growth.items():
        if col in out.columns:
            out[col] = out[col] * (1.0 + float(g)) ** gap
    return out


def merge_user_table(bundled: pd.DataFrame, user: pd.DataFrame) -> pd.DataFrame:
    """User figures override bundled ones cell by cell; blank user cells keep bundled values."""
    out = bundled.copy()
    for col in user.columns:
        if col not in out.columns:
            out[col] = float("nan")
        given = user[col].reindex(out.index)
        out[col] = given.where(given.notna(), out[col])
    return out


@dataclass(frozen=True)
class ResolvedScenario:
    scenario: Scenario
    epci: Epci
    communes: CommuneTable
    assumptions: dict
    values: dict
    #: Members left out of the split (index commune; name, reason), e.g. uninhabited communes.
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["name", "reason"]))
    #: French lines « Attention : ... » about the user's file (unusual figures, ignored columns).
    warnings: tuple[str, ...] = ()

    @property
    def years(self) -> list[int]:
        p = self.values["projection"]
        return list(range(int(p["start_year"]), int(p["end_year"]) + 1))

