"""Extract the names of régions and départements from @etalab/decoupage-administratif 6.0.0.

Usage (stdlib only; run where npm is available, never at model run time):

    cd "$(mktemp -d)"
    npm pack @etalab/decoupage-administratif@6.0.0   # sha1 0330556cf07e21fff21111e5775a316ec18b9636
    tar xzf etalab-decoupage-administratif-6.0.0.tgz
    python3 /path/to/scripts/extract_territories.py package/data /path/to/data

Writes ``territories.csv``: one row per région and per département (``level``, ``code``,
``name``, ``type_liaison``: INSEE's TNCC code that gives the article, « de Loir-et-Cher »,
« du Loiret », « de l'Indre »; ``region``: the région of a département). Used by
``model.data.territory`` to name a territory (``territory: {region: "24"}``).
"""

import csv
import json
import sys
from pathlib import Path

HEADER = ["level", "code", "name", "type_liaison", "region"]


def main(src: str, out: str) -> None:
    src_dir, out_dir = Path(src), Path(out)
    regions = json.loads((src_dir / "regions.json").read_text(encoding="utf-8"))
    departements = json.loads((src_dir / "departements.json").read_text(encoding="utf-8"))
    with (out_dir / "territories.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for r in sorted(regions, key=lambda r: r["code"]):
            writer.writerow(["region", r["code"], r["nom"], r["typeLiaison"], r["code"]])
        for d in sorted(departements, key=lambda d: d["code"]):
            writer.writerow(["departement", d["code"], d["nom"], d["typeLiaison"],
                             d.get("region", "")])


if __name__ == "__main__":
    main(*sys.argv[1:3])
