"""Commune contours (COG 2026) for maps, read from the bundled ``data/contours/``.

One gzip TopoJSON per département (``scripts/extract_contours.py``; IGN Admin Express COG 2018
via france-geojson, Licence Ouverte, see data/README.md). Only the départements of the asked
communes are read, and the last 16 read are kept decoded.

Codes without a contour are not an error: a map can still be drawn for the others. They are
returned in the collection's ``missing`` member (the communes rétablies since 2018 and the communes
they split from, the collectivités d'outre-mer, and any code that is no commune), so a caller can
say « carte indisponible pour N communes ». A code that is not an INSEE commune code at all
(``"4101"``, ``None``) is a caller's mistake and raises :class:`~model.errors.InputError`.
"""

from __future__ import annotations

import csv
import gc
import gzip
import json
import re
from collections.abc import Iterable
from functools import cache, lru_cache

from model.data.bundled import DATA_DIR
from model.errors import InputError

CONTOURS_DIR = DATA_DIR / "contours"
CONTOURS_SOURCE = (
    "Contours : IGN Admin Express COG 2018 via france-geojson (Licence Ouverte), "
    "rattachés aux communes du COG 2026"
)
_INSEE = re.compile(r"(?:\d{2}|2[AB])\d{3}")


def departement_of(insee: str) -> str:
    """The département of an INSEE commune code (three characters overseas: 971 to 989)."""
    return insee[:3] if insee.startswith("97") or insee.startswith("98") else insee[:2]


def _decode_arcs(topology: dict) -> list[list[list[float]]]:
    """Delta-decoded, de-quantised arcs (degrees, rounded to the 1e-4 grid)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append([round(x * sx + tx, 4), round(y * sy + ty, 4)])
        arcs.append(points)
    return arcs


def _ring(refs: list[int], arcs: list[list[list[float]]]) -> list[list[float]]:
    ring: list[list[float]] = []
    for r in refs:
        points = arcs[r] if r >= 0 else arcs[~r][::-1]
        ring.extend(points if not ring else points[1:])
    return ring


def _feature(geometry: dict, arcs: list[list[list[float]]]) -> dict:
    if geometry["type"] == "Polygon":
        coords = [_ring(refs, arcs) for refs in geometry["arcs"]]
    else:
        coords = [[_ring(refs, arcs) for refs in poly] for poly in geometry["arcs"]]
    return {"type": "Feature", "properties": geometry["properties"],
            "geometry": {"type": geometry["type"], "coordinates": coords}}


@lru_cache(maxsize=16)  # a few MB each decoded; a batch over many EPCIs keeps the last 16
def _departement(dep: str, layer: str = "communes") -> dict[str, dict]:
    """INSEE code -> GeoJSON Feature of one département's file ({} when there is none)."""
    path = CONTOURS_DIR / f"{dep}.topojson.gz"
    if not path.is_file():
        return {}
    # Some 10^5 small lists and no cycles: a garbage collection pass in the middle (likely
    # when a run's frames fill the heap) would cost more than the decoding itself.
    enabled = gc.isenabled()
    gc.disable()
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            topology = json.load(f)
        arcs = _decode_arcs(topology)
        return {g["properties"]["insee"]: _feature(g, arcs)
                for g in topology["objects"][layer]["geometries"]}
    finally:
        if enabled:
            gc.enable()


def _checked(insee_codes: Iterable[str]) -> list[str]:
    if isinstance(insee_codes, str):
        insee_codes = [insee_codes]
    codes = list(insee_codes)
    bad = [c for c in codes if not isinstance(c, str) or not _INSEE.fullmatch(c)]
    if bad:
        shown = ", ".join(f"« {c} »" for c in bad[:5]) + (" …" if len(bad) > 5 else "")
        raise InputError(f"code(s) INSEE de commune invalide(s) : {shown} (attendu : 5 caractères, "
                         "par exemple « 41018 » ou « 2A004 »)")
    return list(dict.fromkeys(codes))


def _collection(codes: list[str], layer: str) -> dict:
    # each département read once per call, whatever the order of the codes
    tables = {dep: _departement(dep, layer) for dep in dict.fromkeys(map(departement_of, codes))}
    features, missing = [], []
    for code in codes:
        feature = tables[departement_of(code)].get(code)
        if feature is None:
            missing.append(code)
        else:  # a new Feature and properties per call; the geometry is shared, do not mutate it
            features.append({"type": "Feature", "properties": dict(feature["properties"]),
                             "geometry": feature["geometry"]})
    return {"type": "FeatureCollection", "features": features, "missing": missing}


def commune_contours(insee_codes: Iterable[str]) -> dict:
    """The contours of communes, as a GeoJSON FeatureCollection.

    Parameters
    ----------
    insee_codes
        INSEE codes of communes (COG 2026), e.g. an EPCI's members. Duplicates are dropped.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...], "missing": [...]}``: one Feature per
        code that has a contour, in the order given, with properties ``insee`` and ``name`` (COG
        2026 name) and, for a commune nouvelle formed after 2018, ``former`` (the 2018 codes it
        is the union of). Coordinates are longitude/latitude degrees (1e-4 grid); exterior rings
        run clockwise, the d3-geo convention Vega draws. ``missing`` lists, in the order given,
        the codes without a contour (see :func:`missing_reasons`). Geometries are shared
        between calls: copy before changing them.

    Raises
    ------
    InputError
        A code is not a commune code at all (not 5 characters, digits or 2A/2B).
    """
    return _collection(_checked(insee_codes), "communes")


def former_contours(insee_codes: Iterable[str]) -> dict:
    """The 2018 contours of the communes merged since into a commune nouvelle, as a GeoJSON
    FeatureCollection (properties ``insee``, ``name``: COG 2018; ``commune``: today's code).
    ``insee_codes`` are 2018 codes; codes of communes not merged since are in ``missing``."""
    return _collection(_checked(insee_codes), "former")


@cache
def missing_reasons() -> dict[str, str]:
    """EPCI member commune (INSEE code) -> why it has no contour, in French."""
    with (CONTOURS_DIR / "missing.csv").open(encoding="utf-8", newline="") as f:
        return {row["commune_insee"]: row["reason"] for row in csv.DictReader(f)}
