"""What a group of communes would pay for each pool if it ran the service on its own.

« Et si nous faisions sans eux ? » For a group ``S`` of member communes and a year ``Y``::

    C_p(S, Y) = PoolParams.cost(sum of the group's driver volumes, |S|) * price_index[Y, p]

with the drivers the run uses (user figures, bundled data and estimates, as resolved). A singleton
gives the commune's stand-alone cost of ``inputs.csv``; the whole EPCI gives the pooled cost.
``read_groups`` reads the groups file (one group per line, INSEE codes separated by commas) and
reports every problem in French with the file and the line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from model.costs import pool_params
from model.data.bundled import _memberships, epci_catalog
from model.data.userfile import decode, parse_insee
from model.errors import InputError, Problem
from model.projection import price_index
from model.scenario import ResolvedScenario

COLUMNS = ["group", "pool", "cost_eur"]


def group_label(codes: list[str]) -> str:
    """The group as written in the output: its codes joined by « + » (order kept)."""
    return "+".join(codes)


def check_year(resolved: ResolvedScenario, year: int, origin: str = "scénario") -> None:
    """``year`` is one of the scenario's projection years, or a French error saying which are."""
    years = resolved.years
    if year not in years:
        raise InputError(Problem(
            f"année {year} hors de la période de projection du scénario : choisissez --year "
            f"entre {years[0]} et {years[-1]}.", file=origin))


def coalition_costs(resolved: ResolvedScenario, year: int, groups: list[list[str]],
                    origin: str = "scénario") -> pd.DataFrame:
    """Per group and pool, the cost in euros of ``year`` if the group ran the service alone.

    ``groups`` are lists of INSEE codes of communes in the run (``read_groups`` checks them);
    ``origin`` names the scenario in the error raised for a year outside its projection.
    Columns ``group`` (codes joined by « + »), ``pool``, ``cost_eur`` (rounded to the cent),
    one row per group and pool in the order given.
    """
    check_year(resolved, year, origin)
    communes = resolved.communes.values
    unknown = sorted({c for g in groups for c in g} - set(communes.index))
    if unknown:
        raise InputError(Problem(
            f"commune(s) absente(s) de la répartition du scénario : {', '.join(unknown)}"))
    pools = list(resolved.scenario.pools)
    params = pool_params(resolved.values, pools)
    index = price_index(resolved).loc[year]
    rows = []
    for codes in groups:
        label = group_label(codes)
        members = communes.loc[list(codes)]
        for p in pools:
            pp = params[p]
            cost = float(pp.cost(float(members[pp.driver].sum()), len(codes))) * float(index[p])
            rows.append((label, p, round(cost, 2)))
    return pd.DataFrame(rows, columns=COLUMNS)


def read_groups(path: str | Path, resolved: ResolvedScenario) -> list[list[str]]:
    """The groups of a text file: one per line, INSEE codes separated by commas.

    Blank lines and lines starting with ``#`` are ignored. Every problem (malformed or unknown
    code, commune outside the EPCI or left out of the run, code repeated on a line, no group at
    all, missing file) is reported in French with the file and the line; all at once.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InputError(Problem(
            "fichier de groupes introuvable. Vérifiez le chemin et le nom du fichier.",
            file=str(path)))
    try:
        text = decode(path.read_bytes())
    except OSError as exc:
        raise InputError(Problem(f"fichier illisible ({exc.strerror}).", file=name)) from exc

    epci = resolved.epci
    in_run = set(resolved.communes.values.index)
    excluded = resolved.excluded
    memberships = _memberships()
    epci_of = dict(zip(memberships["commune_insee"], memberships["epci_siren"], strict=True))
    name_of = dict(zip(memberships["commune_insee"], memberships["commune_name"], strict=True))

    groups: list[list[str]] = []
    problems: list[Problem] = []
    for row, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        codes: list[str] = []
        where = {"file": name, "row": row}
        cells = [cell.strip() for cell in stripped.split(",")]
        if "" in cells:  # said once per line
            problems.append(Problem(
                "code INSEE vide (deux virgules de suite, ou une virgule en début ou en fin de "
                "ligne). Séparez les codes par une seule virgule.", **where))
        ok = "" not in cells
        for cell in filter(None, cells):
            code = parse_insee(cell)
            if code is None:
                problems.append(Problem(
                    f"code INSEE « {cell} » invalide : un code INSEE a 5 caractères, "
                    "des chiffres (2A ou 2B puis 3 chiffres en Corse), ex. 41018.", **where))
            elif code not in epci_of:
                problems.append(Problem(
                    f"code INSEE {code} inconnu : aucune commune membre d'un EPCI au 1er janvier "
                    "2025 n'a ce code. Vérifiez le code (voir `python -m model epci show "
                    f"{epci.siren}`).", **where))
            elif code in codes:
                problems.append(Problem(
                    f"code INSEE {code} en double sur la ligne : une commune ne compte qu'une "
                    "fois dans un groupe.", **where))
            elif code not in epci.communes.index:
                other = epci_of[code]
                other_name = epci_catalog()["epci_name"].get(other, "")
                problems.append(Problem(
                    f"la commune {code} ({name_of[code]}) n'est pas membre de l'EPCI {epci.name} "
                    f"(SIREN {epci.siren}) du scénario, mais de {other_name} (SIREN {other}). "
                    "Un groupe ne réunit que des communes de l'EPCI du scénario.", **where))
            elif code not in in_run:
                reason = excluded.loc[code, "reason"] if code in excluded.index else (
                    "elle n'entre pas dans la répartition")
                problems.append(Problem(
                    f"la commune {code} ({name_of[code]}) est hors de la mutualisation du "
                    f"scénario — {reason}. Retirez-la du groupe.", **where))
            else:
                codes.append(code)
                continue
            ok = False
        if ok:
            groups.append(codes)
    if not groups and not problems:
        example = ",".join(resolved.communes.values.index[:2])
        problems.append(Problem(
            "aucun groupe de communes : le fichier est vide ou ne contient que des commentaires. "
            "Écrivez un groupe par ligne, codes INSEE séparés par des virgules "
            f"(ex. {example}).", file=name))
    if problems:
        raise InputError(problems)
    return groups
