"""Extract the bundled EPCI / commune tables from @etalab/decoupage-administratif 6.0.0.

Usage (stdlib only; run where npm is available, never at model run time):

    cd "$(mktemp -d)"
    npm pack @etalab/decoupage-administratif@6.0.0   # sha1 0330556cf07e21fff21111e5775a316ec18b9636
    tar xzf etalab-decoupage-administratif-6.0.0.tgz
    python3 /path/to/scripts/extract_epci.py package/data /path/to/data

Writes ``epci.csv`` (one row per EPCI à fiscalité propre) and ``epci_communes.csv`` (one row per
membership, largest commune first). ``population`` is the DGCL municipal population (populations
légales millésime 2022, in force in 2025) so that members add up to the EPCI total;
``population_pl2023`` is the newer INSEE figure shipped in communes.json (COG 2026).
"""

import csv
import json
import sys
from collections import Counter
from pathlib import Path

EPCI_HEADER = [
    "epci_siren", "epci_name", "epci_type", "mode_financement", "nb_communes", "population",
    "population_totale", "departements", "largest_commune_insee", "largest_commune_name",
]
MEMBER_HEADER = [
    "epci_siren", "commune_insee", "commune_name", "population", "population_totale",
    "population_pl2023", "commune_siren", "departement", "region",
]


def main(src: str, out: str) -> None:
    src_dir, out_dir = Path(src), Path(out)
    epcis = json.loads((src_dir / "epci.json").read_text(encoding="utf-8"))
    communes = {
        c["code"]: c
        for c in json.loads((src_dir / "communes.json").read_text(encoding="utf-8"))
        if c["type"] == "commune-actuelle"
    }
    epcis.sort(key=lambda e: e["code"])
    with (out_dir / "epci.csv").open("w", newline="", encoding="utf-8") as fe, (
        out_dir / "epci_communes.csv"
    ).open("w", newline="", encoding="utf-8") as fm:
        we, wm = csv.writer(fe, lineterminator="\n"), csv.writer(fm, lineterminator="\n")
        we.writerow(EPCI_HEADER)
        wm.writerow(MEMBER_HEADER)
        for e in epcis:
            members = sorted(e["membres"], key=lambda m: (-m["populationMunicipale"], m["code"]))
            assert sum(m["populationMunicipale"] for m in members) == e["populationMunicipale"]
            deps = Counter(communes[m["code"]]["departement"] for m in members)
            we.writerow([
                e["code"], e["nom"].replace("''", '"'), e["type"], e["modeFinancement"],
                len(members), e["populationMunicipale"], e["populationTotale"],
                "|".join(d for d, _ in deps.most_common()), members[0]["code"], members[0]["nom"],
            ])
            for m in members:
                c = communes[m["code"]]
                wm.writerow([
                    e["code"], m["code"], m["nom"], m["populationMunicipale"],
                    m["populationTotale"], c.get("population", ""), m["siren"],
                    c["departement"], c["region"],
                ])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
