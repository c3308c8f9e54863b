"""Territories beyond one EPCI: a région, a département, a list of EPCIs or a list of communes.

A pooling body may be bigger than any EPCI (the GIP RECIA serves members across Centre-Val de
Loire; departmental IT syndicates serve hundreds of communes). A scenario names one with
``territory:`` instead of ``epci:``::

    territory: {region: "24"}                          # every EPCI member commune of the région
    territory: {departement: "41"}
    territory: {epcis: ["200030385", "200035764"]}     # SIREN or unambiguous names
    territory: {communes: communes.csv}                # INSEE codes, path relative to the scenario

``load_territory`` resolves it to the same ``Epci`` object an EPCI gives (communes indexed by
INSEE code, with name, population and département), so the split, the projection and every
output work unchanged. Such a body has no fiscalité propre of its own: its financing mode is
``TERRITORY_FINANCING`` and the settlement through the attribution de compensation is refused.
Communes are those of the EPCI perimeters of 1 January 2025 (data/epci_communes.csv); names of
régions and départements come from data/territories.csv (scripts/extract_territories.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from model.data.assumptions import decode_text, line_of, show_value
from model.data.bundled import (
    DATA_DIR,
    Epci,
    _memberships,
    epci_catalog,
    find_epci,
    load_epci,
)
from model.errors import InputError, ModelError, Problem

FORMS: tuple[str, ...] = ("region", "departement", "epcis", "communes")
#: ``Epci.type`` of a territory that is not one EPCI.
TERRITORY_TYPE = "Territoire"
#: ``Epci.mode_financement`` of such a territory: no fiscalité propre, hence no attribution de
#: compensation (which flows between one EPCI à FPU and its own member communes).
TERRITORY_FINANCING = "sans fiscalité propre"
#: Headers accepted for the column of INSEE codes in a communes file.
CODE_HEADERS = ("commune", "code_insee", "insee", "code", "codgeo", "code commune")
#: The French article after « de » by INSEE's TNCC code (``type_liaison``).
_OF = {0: "de ", 1: "d'", 2: "du ", 3: "de la ", 4: "des ", 5: "de l'", 6: "des ", 7: "de las ",
       8: "de los "}


@cache
def territory_names() -> pd.DataFrame:
    """Régions and départements (index ``(level, code)``; name, type_liaison, region)."""
    df = pd.read_csv(DATA_DIR / "territories.csv", dtype={"code": str, "region": str})
    return df.set_index(["level", "code"])


def _fr_int(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _code(value: Any) -> str:
    """A région or département code as text (YAML reads ``41`` as a number, ``01`` as 1)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:02d}"
    return str(value).strip().upper()


def check_territory(value: Any, origin: str | None = None,
                    lines: dict[str, int] | None = None) -> tuple[dict | None, list[Problem]]:
    """Check a ``territory:`` mapping (its keys are checked by the schema first).

    Returns the normalised mapping (codes as text) and every problem, in French, naming the
    file, the line and the key: not exactly one form, an unknown région, département or EPCI,
    an EPCI given twice, an empty list. A communes file is read when the scenario is resolved.
    """
    problems: list[Problem] = []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(f"clé « {key} » : {message}", file=origin,
                                row=line_of(key, lines)))

    if not isinstance(value, dict):
        return None, problems  # already reported by the schema
    given = [k for k in FORMS if k in value]
    if len(given) != 1:
        problem("territory", "donnez une seule forme de territoire parmi "
                "{region: \"24\"}, {departement: \"41\"}, {epcis: [SIREN, ...]} ou "
                "{communes: fichier.csv}" + (f" (reçu : {', '.join(given)})" if given else ""))
        return None, problems
    form = given[0]
    key, raw = f"territory.{form}", value[form]
    if form in ("region", "departement"):
        code = _code(raw) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
        known = territory_names()
        members = _memberships()[form]
        if code is None or (form, code) not in known.index or not (members == code).any():
            level = "région" if form == "region" else "département"
            codes = sorted(known.loc[form].index.intersection(members.unique()))
            problem(key, f"{level} inconnu {show_value(raw)} : donnez son code INSEE entre "
                         f"guillemets (codes connus : {', '.join(codes)})")
            return None, problems
        return {form: code}, problems
    if form == "epcis":
        if not isinstance(raw, list | tuple) or not raw:
            problem(key, "il faut une liste non vide d'EPCI (SIREN ou nom), par exemple "
                         "[\"200030385\", \"200035764\"]")
            return None, problems
        sirens: list[str] = []
        for i, item in enumerate(raw):
            try:
                siren = find_epci(str(item))
            except ModelError as exc:
                problems.append(Problem(f"clé « {key}[{i}] » : {exc}", file=origin,
                                        row=line_of(f"{key}[{i}]", lines)))
                continue
            if siren in sirens:
                problems.append(Problem(
                    f"clé « {key}[{i}] » : l'EPCI {siren} "
                    f"({epci_catalog().at[siren, 'epci_name']}) est donné deux fois",
                    file=origin, row=line_of(f"{key}[{i}]", lines)))
                continue
            sirens.append(siren)
        return ({"epcis": sirens} if not problems else None), problems
    # communes: a file name, or the codes themselves
    if isinstance(raw, str) and raw.strip():
        return {"communes": raw.strip()}, problems
    if isinstance(raw, list | tuple) and raw:
        return {"communes": [_code(c) if isinstance(c, int) else str(c).strip() for c in raw]}, \
            problems
    problem(key, "il faut un fichier de codes INSEE (chemin relatif au scénario, par exemple "
                 "communes.csv) ou une liste non vide de codes INSEE")
    return None, problems


def load_territory(spec: dict, base_dir: Path | None = None, origin: str | None = None) -> Epci:
    """The territory ``spec`` (checked by ``check_territory``) as an ``Epci``.

    A list of one EPCI is that EPCI itself. Raises ``InputError`` (French, naming the file, the
    row and the column) for a communes file that cannot be read or names an unknown commune,
    the same commune twice, or none.
    """
    normalised, problems = check_territory(spec, origin)
    if problems:
        raise InputError(problems)
    (form, value), = normalised.items()
    members = _memberships()
    if form in ("region", "departement"):
        codes = members.loc[members[form] == value, "commune_insee"]
        row = territory_names().loc[(form, value)]
        n = len(codes)
        if form == "region":
            name = f"Région {row['name']} ({_fr_int(n)} communes)"
        else:
            name = f"Département {_OF.get(int(row['type_liaison']), 'de ')}{row['name']}"
        return _territory(f"{form}-{value}", name, codes)
    if form == "epcis":
        if len(value) == 1:
            return load_epci(value[0])
        names = epci_catalog().loc[value, "epci_name"].tolist()
        shown = ", ".join(names[:3]) + (f" et {len(names) - 3} autres" if len(names) > 3 else "")
        codes = members.loc[members["epci_siren"].isin(value), "commune_insee"]
        return _territory("+".join(value), f"Territoire de {len(value)} EPCI : {shown}", codes)
    if isinstance(value, str):
        path = Path(value)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        codes = read_commune_codes(path, value)
    else:
        codes = check_commune_codes(list(enumerate(value)), f"{origin or 'scénario'}",
                                    "territory.communes", rows_are_items=True)
    epcis = members.loc[members["commune_insee"].isin(codes), "epci_siren"].nunique()
    digest = hashlib.sha1(",".join(sorted(codes)).encode()).hexdigest()[:10]
    name = (f"Territoire de {_fr_int(len(codes))} commune{'s' if len(codes) > 1 else ''}"
            f" ({epcis} EPCI)")
    return _territory(f"communes-{digest}", name, pd.Series(codes))


def _territory(ident: str, name: str, codes: Iterable[str]) -> Epci:
    """An ``Epci`` of the given member communes, largest first (as ``load_epci`` orders them)."""
    members = _memberships()
    rows = members[members["commune_insee"].isin(set(codes))]
    communes = (
        rows.rename(columns={"commune_insee": "commune", "commune_name": "name"})
        .sort_values(["population", "commune"], ascending=[False, True])
        .set_index("commune")[["name", "population", "departement"]]
    )
    return Epci(ident, name, TERRITORY_TYPE, TERRITORY_FINANCING, communes)


def read_commune_codes(path: Path, shown: str) -> list[str]:
    """The INSEE codes of a communes file: one per line, an optional header (« commune »,
    « code_insee »...), other columns ignored, separated by commas, semicolons or tabs."""
    try:
        text = decode_text(path.read_bytes(), shown)
    except FileNotFoundError:
        raise InputError(Problem(
            "fichier de communes introuvable (chemin relatif au scénario)", file=shown)) from None
    except OSError as exc:
        raise InputError(Problem(f"fichier de communes illisible ({exc.strerror})",
                                 file=shown)) from None
    lines = text.splitlines()
    sample = "\n".join(lines[:20])
    delimiter = max((";", ",", "\t"), key=sample.count) if any(
        d in sample for d in ";,\t") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    column, first = 0, 0
    label = "A"
    if rows and rows[0]:
        header = [h.strip().lower().lstrip("\ufeff") for h in rows[0]]
        hits = [i for i, h in enumerate(header) if h in CODE_HEADERS]
        if hits:
            column, first, label = hits[0], 1, rows[0][hits[0]].strip().lstrip("\ufeff")
        elif not _looks_like_code(header[0]):
            raise InputError(Problem(
                f"en-tête non reconnu {show_value(rows[0][0])} : la première colonne doit "
                f"contenir les codes INSEE, avec l'en-tête « commune » ou sans en-tête",
                file=shown, row=1, column="A"))
    items = [(n + 1, row[column] if len(row) > column else "")
             for n, row in enumerate(rows) if n >= first and any(c.strip() for c in row)]
    return check_commune_codes(items, shown, label)


def _looks_like_code(text: str) -> bool:
    text = text.strip()
    return 4 <= len(text) <= 5 and text.replace("A", "").replace("B", "").isdigit()


def check_commune_codes(items: list[tuple[int, Any]], file: str, column: str,
                        rows_are_items: bool = False) -> list[str]:
    """``(row, code)`` pairs checked against the EPCI members of 1 January 2025: every unknown
    code, every commune given twice, an empty list, all reported at once (French)."""
    members = _memberships()
    name_of = dict(zip(members["commune_insee"], members["commune_name"], strict=True))
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    codes: list[str] = []

    def where(row: int) -> dict:
        if rows_are_items:
            return {"file": file, "column": f"{column}[{row}]"}
        return {"file": file, "row": row, "column": column}

    for row, raw in items:
        code = str(raw).strip().upper()
        if code.isdigit() and len(code) == 4:
            code = "0" + code  # a leading zero lost by a spreadsheet (01053 read as 1053)
        if code not in name_of:
            problems.append(Problem(
                f"code INSEE inconnu {show_value(raw)} : aucune commune membre d'un EPCI au "
                "1er janvier 2025 n'a ce code (5 caractères, ex. 41018 ; voir `python -m model "
                "epci show`)", **where(row)))
        elif code in first_row:
            problems.append(Problem(
                f"la commune {code} ({name_of[code]}) est déjà donnée "
                f"{'en position' if rows_are_items else 'ligne'} {first_row[code]}",
                **where(row)))
        else:
            first_row[code] = row
            codes.append(code)
    if not items:
        problems.append(Problem("aucune commune : donnez au moins un code INSEE, un par ligne",
                                file=file, column=None if rows_are_items else column))
    if problems:
        raise InputError(problems)
    return codes
