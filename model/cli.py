"""Command line: ``python -m model {run,epci,template} ...`` (French messages, exit code != 0 on error)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from model.errors import ModelError


def fr_number(value: float, decimals: int = 0) -> str:
    """French number formatting: space as thousands separator, comma as decimal mark."""
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")


def _epci_list(args) -> int:
    from model.data.bundled import search_epci

    hits = search_epci(args.nom or "", args.departement)
    if args.type:
        hits = hits[hits["epci_type"] == args.type.upper()]
    if hits.empty:
        print("Aucun EPCI ne correspond.", file=sys.stderr)
        return 1
    table = hits[["epci_name", "epci_type", "mode_financement", "nb_communes", "population",
                  "departements"]]
    table.columns = ["Nom", "Type", "Fiscalité", "Communes", "Population", "Départements"]
    with pd.option_context("display.max_rows", None, "display.width", 200,
                           "display.max_colwidth", 60):
        print(table.rename_axis("SIREN").to_string())
    print(f"\n{len(table)} EPCI.")
    return 0


def _epci_show(args) -> int:
    from model.data.bundled import DATA_VINTAGE, load_epci

    epci = load_epci(args.query)
    print(f"{epci.name} (SIREN {epci.siren}) : {epci.type}, fiscalité {epci.mode_financement}, "
          f"{len(epci.communes)} communes, {fr_number(epci.population)} habitants")
    table = epci.communes.rename(columns={"name": "Commune", "population": "Population",
                                          "departement": "Dép."}).rename_axis("Code INSEE")
    with pd.option_context("display.max_rows", None, "display.width", 200):
        print(table.to_string())
    print(f"\nSource : {DATA_VINTAGE}")
    return 0


def _template(args) -> int:
    from model.data.bundled import load_epci
    from model.data.template import write_template

    epci = load_epci(args.epci) if args.epci else None
    path = write_template(args.out, epci)
    print(f"Modèle écrit : {path}")
    return 0


def _run(args) -> int:
    from model.report.export import write_outputs
    from model.report.labels import INDICATOR_LABELS_FR
    from model.run import run
    from model.scenario import Scenario

    scenario = Scenario.from_yaml(args.scenario)
    result = run(scenario)
    out = write_outputs(result, args.out)
    s = result.summary
    first, last = s["years"][0], s["years"][-1]
    print(f"{s['epci']['name']} : {s['epci']['communes']} communes, "
          f"{fr_number(s['epci']['population'])} habitants")
    for y in (first, last):
        pooled, alone = sum(y["pooled_cost_eur"].values()), sum(y["standalone_cost_eur"].values())
        print(f"  {y['year']} : coût mutualisé {fr_number(pooled)} € contre {fr_number(alone)} € "
              f"isolément, charge maximale t* = {fr_number(100 * y['max_burden'], 3)} % "
              f"({y['solver_status']})")
    print("Année du ciseau (EPCI ; communes concernées, mutualisé / isolé) :")
    communes = s["scissor_years"]["communes"]
    for ind, years in s["scissor_years"]["epci"].items():
        c = communes.get(ind, {})
        print(f"  {INDICATOR_LABELS_FR[ind]} : mutualisé {years['pooled'] or 'jamais'}, "
              f"isolé {years['standalone'] or 'jamais'} ; "
              f"{c.get('communes_crossing_pooled', 0)} / {c.get('communes_crossing_standalone', 0)}"
              " communes")
    print(f"Résultats écrits dans {out}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model",
                                     description="Modèle de coûts de mutualisation numérique.")
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="exécuter un scénario YAML et écrire ses résultats")
    p_run.add_argument("scenario", type=Path)
    p_run.add_argument("--out", type=Path, required=True, help="dossier de sortie")
    p_run.set_defaults(func=_run)

    p_epci = sub.add_parser("epci", help="parcourir les EPCI et leurs communes")
    epci_sub = p_epci.add_subparsers(dest="epci_command", required=True)
    p_list = epci_sub.add_parser("list", help="lister les EPCI (filtres : nom, département)")
    p_list.add_argument("nom", nargs="?", default="", help="partie du nom ou du SIREN")
    p_list.add_argument("--departement", "-d", help="code du département, ex. 41")
    p_list.add_argument("--type", help="CC, CA, CU, METRO")
    p_list.set_defaults(func=_epci_list)
    p_show = epci_sub.add_parser("show", help="afficher un EPCI et ses communes")
    p_show.add_argument("query", help="SIREN ou nom (sans accents ni majuscules requis)")
    p_show.set_defaults(func=_epci_show)

    p_tpl = sub.add_parser("template", help="écrire le modèle Excel/CSV à remplir")
    p_tpl.add_argument("epci", nargs="?", help="SIREN ou nom de l'EPCI (pré-remplit les communes)")
    p_tpl.add_argument("--out", type=Path, required=True, help="fichier .xlsx ou .csv")
    p_tpl.set_defaults(func=_template)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ModelError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
