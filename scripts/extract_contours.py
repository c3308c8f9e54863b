"""Extract commune contours (COG 2026) from france-geojson into data/contours/.

Usage (stdlib only; run once where the sources are, never at model run time):

    cd "$(mktemp -d)"
    git clone https://github.com/gregoiredavid/france-geojson
    git -C france-geojson checkout 5d34ee6d0140c29f785fdb047d9329f1aab58833
    npm pack @etalab/decoupage-administratif@6.0.0   # sha1 0330556cf07e21fff21111e5775a316ec18b9636
    tar xzf etalab-decoupage-administratif-6.0.0.tgz
    python3 /path/to/scripts/extract_contours.py france-geojson/departements \
        package/data/communes.json /path/to/data/epci_communes.csv /path/to/data/contours

Sources:

* Contours: GitHub ``gregoiredavid/france-geojson``, commit
  ``5d34ee6d0140c29f785fdb047d9329f1aab58833`` (2018-10-16), files
  ``departements/*/communes-*.geojson``: IGN Admin Express COG 2018, codes and names INSEE COG
  2018, simplified by the author with mapshaper (Visvalingam 25 %, 1e-5 degree), Licence Ouverte.
  The 96 metropolitan départements and the five DROM (971 to 976); no COM.
* Codes of today: ``communes.json`` of ``@etalab/decoupage-administratif`` 6.0.0 (COG 2026), from
  the npm tarball (its GitHub repository, etalab/decoupage-administratif, holds only the build
  scripts, last changed at 360b6b29d0f619dfeaecfdb61a189f2958b300e0, v4.0.0-beta.1).
  A current commune is made of its own code and its ``anciensCodes``; every 2018 code maps to
  exactly one current commune (checked). A commune nouvelle formed after 2018 gets the union of
  its former communes, dissolved (the borders between them removed).
* Communes rétablies (split off a 2018 commune nouvelle): the 2018 contour of that commune
  nouvelle covers them and the commune that kept its code, and nothing in the sources says where
  the new border runs. They are listed in ``RESTORED`` and get no contour, nor does the commune
  that kept the 2018 code (its 2018 contour would paint its neighbours' land).

What is written, per département ``DEP`` (INSEE code: 01 to 95, 2A, 2B, 971 to 976):

* ``DEP.topojson.gz``: a TopoJSON topology (gzip, no timestamp: same sources, same bytes), with
  coordinates quantised to 1e-4 degree (about 11 m) and each arc simplified by Douglas-Peucker
  with a ``TOLERANCE_M`` tolerance; arcs are shared, so neighbours keep the same border. A ring
  that would collapse keeps its unsimplified arcs. Exterior rings run clockwise (the d3-geo and
  Vega convention), holes anticlockwise. Objects:

  - ``communes``: one geometry per current commune, properties ``insee``, ``name`` (COG 2026)
    and, for a commune nouvelle, ``former`` (the 2018 codes it is the union of);
  - ``former``: the 2018 communes of the département merged since, properties ``insee`` and
    ``name`` (COG 2018) and ``commune`` (today's code), so that the union can be checked
    against the shipped data.

* ``missing.csv``: every member commune of ``epci_communes.csv`` without a contour and why.

It prints the coverage figures (communes covered, missing, size on disk).
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

SOURCE_REPO = "gregoiredavid/france-geojson"
SOURCE_COMMIT = "5d34ee6d0140c29f785fdb047d9329f1aab58833"
#: Grid of the quantised coordinates, in degrees.
QUANTUM = 1e-4
#: Douglas-Peucker tolerance, metres (a pixel of a whole EPCI on a slide is 40 to 150 m).
TOLERANCE_M = 40.0
METRES_PER_DEGREE = 111_320.0
#: 2018 commune nouvelle (code it kept) -> communes rétablies since, split off it (COG 2026).
RESTORED = {
    "14712": ["14666"],                           # Saline -> Troarn + Sannerville
    "15141": ["15031", "15035", "15047", "15171"],  # Neussargues en Pinatelle -> 5 communes
    "85084": ["85165", "85212"],                  # Essarts en Bocage -> + L'Oie, Sainte-Florence
}

Point = tuple[int, int]


def departement_of(code: str) -> str:
    """The département of an INSEE commune code (3 characters overseas)."""
    return code[:3] if code.startswith("97") else code[:2]


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------

def quantised_ring(coords: list) -> list[Point] | None:
    """A closed ring on the 1e-4 degree grid, without repeated points; None if it collapses."""
    ring: list[Point] = []
    for x, y in coords:
        p = (round(x / QUANTUM), round(y / QUANTUM))
        if not ring or ring[-1] != p:
            ring.append(p)
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring if len(set(ring)) >= 3 else None


def read_source(src: Path) -> dict[str, dict]:
    """2018 code -> {name, polygons}: each polygon a list of quantised rings (exterior first)."""
    out: dict[str, dict] = {}
    for path in sorted(src.glob("*/communes-*.geojson")):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            props, geom = feature["properties"], feature["geometry"]
            polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
            polygons = []
            for poly in polys:
                rings = [quantised_ring(r) for r in poly]
                if rings[0] is not None:
                    polygons.append([r for r in rings if r is not None])
            assert props["code"] not in out, props["code"]
            assert polygons, props["code"]
            out[props["code"]] = {"name": props["nom"], "polygons": polygons}
    return out


def current_parts(communes_json: Path, old: dict[str, dict]) -> tuple[dict, dict]:
    """Current commune code -> its 2018 codes present in the source; and code -> current name."""
    current = {c["code"]: c for c in json.loads(communes_json.read_text(encoding="utf-8"))
               if c["type"] == "commune-actuelle"}
    parts: dict[str, list[str]] = defaultdict(list)
    owner: dict[str, str] = {}
    for code, c in current.items():
        for former in sorted({code, *c.get("anciensCodes", [])}):
            if former in old:
                assert former not in owner, f"2018 code {former} claimed twice"
                owner[former] = code
                parts[code].append(former)
    assert set(owner) == set(old), "a 2018 code maps to no current commune"
    for kept, restored in RESTORED.items():
        assert all(r in current and r not in parts for r in restored), kept
        del parts[kept]
    return dict(parts), {code: c["nom"] for code, c in current.items()}


# ------------------------------------------------------------------------------------------------
# Topology: shared arcs
# ------------------------------------------------------------------------------------------------

def junctions(rings: list[list[Point]]) -> set[Point]:
    """Points where a ring meets a different neighbour than elsewhere (where arcs must be cut)."""
    seen: dict[Point, tuple[Point, Point]] = {}
    cut: set[Point] = set()
    for ring in rings:
        n = len(ring) - 1
        for i in range(n):
            p, a, b = ring[i], ring[i - 1 if i else n - 1], ring[i + 1]
            pair = seen.get(p)
            if pair is None:
                seen[p] = (a, b)
            elif pair != (a, b) and pair != (b, a):
                cut.add(p)
    return cut


class Topology:
    """Arcs shared between rings; a ring is a list of arc references (``~i`` = arc i reversed)."""

    def __init__(self) -> None:
        self.arcs: list[list[Point]] = []
        self._index: dict[tuple, int] = {}

    def _ref(self, arc: list[Point]) -> int:
        key = tuple(arc)
        if key in self._index:
            return self._index[key]
        back = key[::-1]
        if back in self._index:
            return ~self._index[back]
        self._index[key] = len(self.arcs)
        self.arcs.append(arc)
        return len(self.arcs) - 1

    def ring(self, ring: list[Point], cut: set[Point]) -> list[int]:
        n = len(ring) - 1
        starts = [i for i in range(n) if ring[i] in cut]
        if not starts:  # a closed arc: canonical start (smallest point) and direction
            i = min(range(n), key=ring.__getitem__)
            loop = ring[i:n] + ring[:i + 1]
            if loop[-2] < loop[1]:
                return [~self._ref(loop[::-1])]
            return [self._ref(loop)]
        loop = ring[starts[0]:n] + ring[:starts[0] + 1]
        refs, start = [], 0
        for j in range(1, len(loop)):
            if loop[j] in cut:
                refs.append(self._ref(loop[start:j + 1]))
                start = j
        return refs

    def points(self, refs: list[int], arcs: list[list[Point]] | None = None) -> list[Point]:
        """The closed ring of points that a list of arc references describes."""
        arcs = arcs or self.arcs
        out: list[Point] = []
        for r in refs:
            pts = arcs[r] if r >= 0 else arcs[~r][::-1]
            out.extend(pts if not out else pts[1:])
        return out


def signed_area(ring: list[Point]) -> float:
    """Shoelace area (positive when the ring runs anticlockwise, x east and y north)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)) / 2


def simplify(arc: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker on one arc, ends kept; x shrunk by cos(latitude) so tolerance is metric."""
    if len(arc) <= 2:
        return arc
    k = math.cos(math.radians(arc[0][1] * QUANTUM))
    if arc[0] == arc[-1]:  # closed: split at the farthest point, simplify both halves
        far = max(range(len(arc)), key=lambda i: (arc[i][0] - arc[0][0]) ** 2 * k * k
                  + (arc[i][1] - arc[0][1]) ** 2)
        return simplify(arc[:far + 1], tolerance)[:-1] + simplify(arc[far:], tolerance)
    keep = [False] * len(arc)
    keep[0] = keep[-1] = True
    stack = [(0, len(arc) - 1)]
    while stack:
        i, j = stack.pop()
        (x0, y0), (x1, y1) = arc[i], arc[j]
        dx, dy = (x1 - x0) * k, y1 - y0
        norm = math.hypot(dx, dy)
        best, at = -1.0, -1
        for m in range(i + 1, j):
            px, py = (arc[m][0] - x0) * k, arc[m][1] - y0
            d = abs(dx * py - dy * px) / norm if norm else math.hypot(px, py)
            if d > best:
                best, at = d, m
        if best > tolerance:
            keep[at] = True
            stack += [(i, at), (at, j)]
    return [p for p, kept in zip(arc, keep, strict=True) if kept]


def simplified_arcs(topo: Topology, rings: list[list[int]]) -> list[list[Point]]:
    """Every arc simplified; the arcs of a ring that would collapse are kept whole."""
    tolerance = TOLERANCE_M / (METRES_PER_DEGREE * QUANTUM)
    arcs = [simplify(a, tolerance) for a in topo.arcs]
    for refs in rings:
        pts = topo.points(refs, arcs)
        if len(set(pts)) < 3 or signed_area(pts) == 0:
            for r in refs:
                arcs[r if r >= 0 else ~r] = topo.arcs[r if r >= 0 else ~r]
    return arcs


# ------------------------------------------------------------------------------------------------
# Communes nouvelles: dissolve the former communes' polygons
# ------------------------------------------------------------------------------------------------

def inside(point: Point, ring: list[Point]) -> bool:
    """Ray casting: is ``point`` inside ``ring``?"""
    x, y = point
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def dissolve(topo: Topology, polygons: list[list[list[int]]]) -> list[list[list[int]]]:
    """The union of polygons given as arc references: arcs used by two of them (inner borders)
    are dropped and the rest chained into rings, holes put in the exterior that holds them."""
    uses = Counter(r if r >= 0 else ~r for poly in polygons for ring in poly for r in ring)
    left = [r for poly in polygons for ring in poly for r in ring
            if uses[r if r >= 0 else ~r] == 1]
    ends = lambda r: (topo.arcs[r][0], topo.arcs[r][-1]) if r >= 0 else (  # noqa: E731
        topo.arcs[~r][-1], topo.arcs[~r][0])
    by_start: dict[Point, list[int]] = defaultdict(list)
    for r in left:
        by_start[ends(r)[0]].append(r)
    rings = []
    for first in left:
        if first not in by_start[ends(first)[0]]:
            continue
        ring, r = [], first
        while True:
            by_start[ends(r)[0]].remove(r)
            ring.append(r)
            nxt = by_start[ends(r)[1]]
            if not nxt:
                break
            r = nxt[0]
        rings.append(ring)
    shapes = [(ring, topo.points(ring)) for ring in rings]
    outers = [(ring, pts) for ring, pts in shapes if signed_area(pts) < 0]
    holes = [(ring, pts) for ring, pts in shapes if signed_area(pts) > 0]
    out = [[ring] for ring, _ in outers]
    for ring, pts in holes:
        within = [i for i, (_, o) in enumerate(outers) if inside(pts[0], o)] or [0]
        out[min(within, key=lambda i: abs(signed_area(outers[i][1])))].append(ring)
    return out


def clockwise(topo: Topology, polygon: list[list[int]]) -> list[list[int]]:
    """Exterior clockwise, holes anticlockwise (d3-geo's convention)."""
    out = []
    for k, ring in enumerate(polygon):
        area = signed_area(topo.points(ring))
        if (area > 0) == (k == 0):
            ring = [~r for r in reversed(ring)]
        out.append(ring)
    return out


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------

def geometry(polygons: list[list[list[int]]], remap: dict[int, int], props: dict) -> dict:
    def ref(r: int) -> int:
        return remap[r] if r >= 0 else ~remap[~r]
    coords = [[[ref(r) for r in ring] for ring in poly] for poly in polygons]
    if len(coords) == 1:
        return {"type": "Polygon", "arcs": coords[0], "properties": props}
    return {"type": "MultiPolygon", "arcs": coords, "properties": props}


def write_departement(path: Path, arcs: list[list[Point]], communes: list[tuple],
                      former: list[tuple]) -> None:
    """One TopoJSON file: ``communes`` and ``former`` objects, only the arcs they use."""
    used = sorted({r if r >= 0 else ~r for _, polys in communes + former
                   for poly in polys for ring in poly for r in ring})
    remap = {a: i for i, a in enumerate(used)}
    x0 = min(x for a in used for x, _ in arcs[a])
    y0 = min(y for a in used for _, y in arcs[a])
    encoded = []
    for a in used:
        px, py, out = x0, y0, []
        for x, y in arcs[a]:
            out.append([x - px, y - py])
            px, py = x, y
        encoded.append(out)
    topo = {
        "type": "Topology",
        "transform": {"scale": [QUANTUM, QUANTUM],
                      "translate": [round(x0 * QUANTUM, 4), round(y0 * QUANTUM, 4)]},
        "objects": {name: {"type": "GeometryCollection",
                           "geometries": [geometry(polys, remap, props) for props, polys in objs]}
                    for name, objs in (("communes", communes), ("former", former))},
        "arcs": encoded,
    }
    text = json.dumps(topo, ensure_ascii=False, separators=(",", ":"))
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                               filename="", compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))


def main(src: str, communes_json: str, members_csv: str, out: str) -> None:
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    old = read_source(Path(src))
    parts, names = current_parts(Path(communes_json), old)

    topo = Topology()
    all_rings = [ring for c in old.values() for poly in c["polygons"] for ring in poly]
    cut = junctions(all_rings)
    for c in old.values():
        c["refs"] = [[topo.ring(ring, cut) for ring in poly] for poly in c["polygons"]]

    geoms: dict[str, list] = {}
    for code, olds in parts.items():
        polys = [p for o in olds for p in old[o]["refs"]]
        merged = dissolve(topo, polys) if len(olds) > 1 else polys
        geoms[code] = [clockwise(topo, p) for p in merged]
    for o in old.values():
        o["refs"] = [clockwise(topo, p) for p in o["refs"]]
    arcs = simplified_arcs(topo, [ring for g in geoms.values() for poly in g for ring in poly]
                           + [ring for o in old.values() for poly in o["refs"] for ring in poly])

    by_dep: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for code in sorted(geoms):
        props = {"insee": code, "name": names[code]}
        if len(parts[code]) > 1:
            props["former"] = parts[code]
            for o in parts[code]:
                by_dep[departement_of(o)][1].append(
                    ({"insee": o, "name": old[o]["name"], "commune": code}, old[o]["refs"]))
        by_dep[departement_of(code)][0].append((props, geoms[code]))
    for dep, (communes, former) in sorted(by_dep.items()):
        write_departement(out_dir / f"{dep}.topojson.gz", arcs, communes, former)

    kept = {r: k for k, rs in RESTORED.items() for r in rs}
    with open(members_csv, encoding="utf-8") as f:
        members = list(csv.DictReader(f))
    missing = [m for m in members if m["commune_insee"] not in geoms]
    with (out_dir / "missing.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["commune_insee", "commune_name", "reason"])
        for m in sorted(missing, key=lambda m: m["commune_insee"]):
            code = m["commune_insee"]
            if code in kept:
                reason = (f"commune rétablie après 2018 : son territoire est dans le contour de "
                          f"2018 de {old[kept[code]]['name']} ({kept[code]})")
            elif code in RESTORED:
                reason = (f"son contour de 2018 ({old[code]['name']}) couvre aussi des communes "
                          "rétablies depuis")
            else:
                reason = "absente de la source"
            w.writerow([code, m["commune_name"], reason])
    size = sum(p.stat().st_size for p in out_dir.glob("*.topojson.gz"))
    print(f"{len(geoms)} of {len(names)} current communes (COG 2026) have a contour; "
          f"{len(members) - len(missing)} of {len(members)} EPCI members; "
          f"{len(missing)} members without: {', '.join(m['commune_insee'] for m in missing)}")
    print(f"{len(by_dep)} départements, {sum(len(a) for a in arcs)} points in "
          f"{len(arcs)} arcs, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(*sys.argv[1:5])
