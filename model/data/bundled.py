"""The bundled real data: every EPCI à fiscalité propre and its member communes (INSEE, DGCL)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from model.errors import InputError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DATA_VINTAGE = (
    "EPCI au 1er janvier 2025 (DGCL), populations légales millésime 2022 ; "
    "source INSEE, DGCL via @etalab/decoupage-administratif 6.0.0 (Licence Ouverte)"
)


@dataclass(frozen=True)
class Epci:
    """An EPCI and its member communes (index ``commune``; columns name, population, departement)."""

    siren: str
    name: str
    type: str
    mode_financement: str
    communes: pd.DataFrame

    @property
    def population(self) -> int:
        return int(self.communes["population"].sum())


def normalise(text: str) -> str:
    """Lower-case, accent-free, punctuation-free form used for name matching."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


@cache
def epci_catalog() -> pd.DataFrame:
    """All 1,255 EPCI, indexed by SIREN (string)."""
    df = pd.read_csv(
        DATA_DIR / "epci.csv",
        dtype={"epci_siren": str, "largest_commune_insee": str, "departements": str},
    )
    return df.set_index("epci_siren")


@cache
def _memberships() -> pd.DataFrame:
    return pd.read_csv(
        DATA_DIR / "epci_communes.csv",
        dtype={"epci_siren": str, "commune_insee": str, "commune_siren": str,
               "departement": str, "region": str},
    )


def search_epci(query: str = "", departement: str | None = None) -> pd.DataFrame:
    """EPCI whose SIREN or (accent- and case-insensitive) name contains ``query``."""
    cat = epci_catalog()
    mask = pd.Series(True, index=cat.index)
    if query:
        q = normalise(query)
        names = cat["epci_name"].map(normalise)
        mask &= names.str.contains(q, regex=False) | cat.index.str.startswith(query.strip())
    if departement:
        deps = cat["departements"].fillna("").str.split("|")
        mask &= deps.map(lambda ds: departement.strip().upper() in ds)
    return cat[mask]


def find_epci(query: str) -> str:
    """Resolve a SIREN or a name fragment to exactly one SIREN, or raise a clear French error."""
    query = str(query).strip()
    cat = epci_catalog()
    if query in cat.index:
        return query
    hits = search_epci(query)
    if len(hits) == 1:
        return hits.index[0]
    exact = hits[hits["epci_name"].map(normalise) == normalise(query)]
    if len(exact) == 1:
        return exact.index[0]
    if hits.empty:
        raise InputError(
            f"EPCI inconnu : « {query} ». Donnez un SIREN à 9 chiffres ou une partie du nom "
            "(voir `python -m model epci list`)."
        )
    names = "; ".join(f"{s} {n}" for s, n in hits["epci_name"].head(8).items())
    raise InputError(
        f"« {query} » désigne {len(hits)} EPCI ({names}{' ...' if len(hits) > 8 else ''}). "
        "Précisez le nom ou donnez le SIREN."
    )


def load_epci(query: str) -> Epci:
    """The EPCI named by ``query`` (SIREN or name) with its member communes, largest first."""
    siren = find_epci(query)
    row = epci_catalog().loc[siren]
    members = _memberships()
    members = members[members["epci_siren"] == siren]
    communes = (
        members.rename(columns={"commune_insee": "commune", "commune_name": "name"})
        .set_index("commune")[["name", "population", "departement"]]
        .copy()
    )
    return Epci(siren, row["epci_name"], row["epci_type"], row["mode_financement"], communes)


@cache
def epci_of_commune() -> dict[str, str]:
    """INSEE code -> SIREN of its EPCI (a commune belongs to one EPCI)."""
    m = _memberships()
    return dict(zip(m["commune_insee"], m["epci_siren"], strict=True))
