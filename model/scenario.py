"""A scenario = an EPCI, optional user data, the pools, the method and assumption overrides.

Scenarios are YAML files (see data/scenarios/ and the README). ``Scenario.resolve`` turns one into
the concrete inputs of a run: the commune table (user figures over bundled data over estimates)
and the assumption tree with the overrides applied.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from model.costs import POOLS
from model.data.assumptions import apply_overrides, assumption_values, load_assumptions
from model.data.bundled import Epci, load_epci
from model.data.estimate import CommuneTable, complete_communes
from model.errors import InputError, Problem

METHODS: tuple[str, ...] = (
    "voted_key", "lp", "nucleolus", "shapley", "usage", "population", "potentiel_financier", "agents", "workstations",
    "equal", "weighted",
)
SETTLEMENTS = ("invoice", "ac")
SOLVERS = ("highs-fast", "pulp-highs", "pulp-cbc")


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
    base_dir: Path | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_yaml(cls, path: str | Path, require_epci: bool = True) -> Scenario:
        """Read a scenario file; unknown keys and bad values are reported in French.
        ``require_epci=False`` reads a batch template, whose ``epci`` may be left out."""
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise InputError(Problem("fichier de scénario introuvable", file=str(path))) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError(Problem(
                f"YAML illisible ({getattr(exc, 'problem', exc)})", file=path.name,
                row=mark.line + 1 if mark else None)) from None
        if not isinstance(raw, dict):
            raise InputError(Problem("le scénario doit être un dictionnaire YAML", file=path.name))
        known = {f for f in cls.__dataclass_fields__ if f != "base_dir"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InputError(Problem(
                f"clé(s) inconnue(s) : {', '.join(unknown)} (clés possibles : {', '.join(sorted(known))})",
                file=path.name))
        if "epci" not in raw and require_epci:
            raise InputError(Problem("la clé « epci » (SIREN ou nom) est obligatoire", file=path.name))
        raw["epci"] = str(raw.get("epci", ""))
        scenario = cls(**raw, base_dir=path.parent)
        scenario.check(path.name)
        return scenario

    def check(self, origin: str = "scénario") -> None:
        problems = []
        bad_pools = [p for p in self.pools if p not in POOLS]
        if bad_pools or not self.pools:
            problems.append(Problem(
                f"pool(s) inconnu(s) ou liste vide : {bad_pools} (possibles : {', '.join(POOLS)})",
                file=origin, column="pools"))
        for key, allowed in (("method", METHODS), ("settlement", SETTLEMENTS),
                             ("solver", SOLVERS)):
            if getattr(self, key) not in allowed:
                problems.append(Problem(
                    f"valeur « {getattr(self, key)} » inconnue (possibles : {', '.join(allowed)})",
                    file=origin, column=key))
        if problems:
            raise InputError(problems)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("base_dir")
        return d

    def to_yaml(self, path: str | Path) -> None:
        Path(path).write_text(
            yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")

    def data_path(self) -> Path | None:
        if not self.data_file:
            return None
        p = Path(self.data_file)
        return p if p.is_absolute() or self.base_dir is None else self.base_dir / p

    def resolve(self, user_table=None) -> ResolvedScenario:
        """Load the EPCI, merge the user's figures, estimate the rest, apply the overrides."""
        self.check()
        epci = load_epci(self.epci)
        tree = apply_overrides(load_assumptions(), self.assumptions)
        given = epci.communes[["name", "population"]].astype({"population": float})
        path = self.data_path()
        if user_table is None and path is not None:
            from model.data.userfile import read_user_table

            user_table = read_user_table(path, epci)
        if user_table is not None:
            given = merge_user_table(given, user_table)
        if self.settlement == "ac" and epci.mode_financement != "FPU":
            raise InputError(Problem(
                f"{epci.name} est en fiscalité additionnelle ({epci.mode_financement}) : "
                "l'imputation sur l'attribution de compensation n'existe que sous fiscalité "
                "professionnelle unique (CGI 1609 nonies C). Choisissez settlement: invoice.",
                column="settlement"))
        values = assumption_values(tree)
        given = age_accounts(given, values)
        uninhabited = given["population"] <= 0
        excluded = given.loc[uninhabited, ["name"]].assign(reason=UNINHABITED_FR)
        if uninhabited.all():
            raise InputError(Problem(f"{epci.name} n'a aucune commune habitée à répartir.",
                                     column="population"))
        communes = complete_communes(given[~uninhabited], values)
        return ResolvedScenario(self, epci, communes, tree, values, excluded)


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

    @property
    def years(self) -> list[int]:
        p = self.values["projection"]
        return list(range(int(p["start_year"]), int(p["end_year"]) + 1))

