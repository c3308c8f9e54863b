"""The commune table: canonical column names, units and French labels.

One row per member commune, indexed by ``commune`` (INSEE code, a 5-character string: Corsica
has ``2A``/``2B``). Every numeric field can be given by the user or estimated; the companion
boolean table says which values are estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

INDEX = "commune"


@dataclass(frozen=True)
class Field:
    name: str
    unit: str
    label_fr: str
    required: bool = False


#: Numeric per-commune fields, in display order. ``population`` is the only required one.
FIELDS: tuple[Field, ...] = (
    Field("population", "hab", "Population municipale", required=True),
    Field("rrf_eur", "EUR/an", "Recettes réelles de fonctionnement (€)"),
    Field("drf_eur", "EUR/an", "Dépenses réelles de fonctionnement (€)"),
    Field("potentiel_financier_eur", "EUR", "Potentiel financier (€)"),
    Field("agents", "ETP", "Agents (ETP)"),
    Field("workstations", "postes", "Postes de travail"),
    Field("archive_gb", "Go", "Volume d'archives électroniques (Go)"),
    Field("licence_seats", "licences", "Licences logicielles (sièges)"),
)
NUMERIC = tuple(f.name for f in FIELDS)
OPTIONAL = tuple(f.name for f in FIELDS if not f.required)
LABELS_FR = {"commune": "Code INSEE", "name": "Commune", **{f.name: f.label_fr for f in FIELDS}}
