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
    from model.costs import POOL_LABELS_FR
    from model.report.export import write_outputs
    from model.report.labels import INDICATOR_LABELS_FR, METHOD_LABELS_FR
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
    print(f"Répartition par défaut ({first['year']}) : {first['default_method']['summary_fr']}")
    for y in s["years"]:
        for c in y["default_method"]["conflict"]:
            print(f"  {y['year']} : {c['message_fr']}")
    out_of_core = [(m, c) for m, c in first["core"].items() if c["in_core"] is False]
    if out_of_core:
        print(f"Hors du cœur en {first['year']} (un groupe de communes paierait moins seul) :")
        for m, c in out_of_core:
            names = c["most_overcharged_names"].split(" + ")
            group = " + ".join(names[:4]) + (f" et {len(names) - 4} autres" if len(names) > 4 else "")
            print(f"  {METHOD_LABELS_FR.get(m, m)} : {group} surtaxé de "
                  f"{fr_number(c['overcharge_eur'], 2)} € ({POOL_LABELS_FR.get(c['most_overcharged_pool'])})")
    print(s["scissor"]["headline_fr"])
    named = s["scissor"]["communes_by_indicator"]
    for ind in ("eb_negative", "teb_degraded", "teb_alert"):
        hits = [c for c in named.get(ind, []) if c["year_pooled"] is not None]
        if hits:
            shown = ", ".join(f"{c['name']} ({c['year_pooled']}{', estimé' if c['estimated'] else ''})"
                              for c in hits[:12])
            more = f" et {len(hits) - 12} autres" if len(hits) > 12 else ""
            print(f"  {INDICATOR_LABELS_FR[ind]}, mutualisé : {shown}{more}")
    print("Année du ciseau (EPCI ; communes concernées, mutualisé / isolé) :")
    communes = s["scissor_years"]["communes"]
    for ind, years in s["scissor_years"]["epci"].items():
        c = communes.get(ind, {})
        print(f"  {INDICATOR_LABELS_FR[ind]} : mutualisé {years['pooled'] or 'jamais'}, "
              f"isolé {years['standalone'] or 'jamais'} ; "
              f"{c.get('communes_crossing_pooled', 0)} / {c.get('communes_crossing_standalone', 0)}"
              " communes")
    if s["excluded_communes"]:
        names = ", ".join(e["name"] for e in s["excluded_communes"])
        print(f"Hors répartition ({len(s['excluded_communes'])}, sans habitant) : {names}")
    print(f"Résultats écrits dans {out}/")
    return 0


def _batch(args) -> int:
    from model.batch import (
        all_sirens,
        load_template,
        read_table,
        resolve_sirens,
        run_batch,
        summarise,
    )

    template = load_template(args.template)
    if args.all:
        sirens = all_sirens()
    elif args.epci:
        sirens = resolve_sirens(args.epci)
    elif template.epci:
        sirens = resolve_sirens([template.epci])
    else:
        print("Erreur : donnez --epci SIREN ... ou --all.", file=sys.stderr)
        return 2
    try:
        result = run_batch(template, sirens, args.out, workers=args.workers,
                           per_epci=args.per_epci, dask=args.dask,
                           progress=not args.sans_progression)
    except KeyboardInterrupt:
        print(f"\nInterrompu. Les EPCI terminés sont gardés dans {args.out}/.batch/ : relancez la "
              "même commande pour reprendre.", file=sys.stderr)
        return 130
    s = summarise(read_table(result.table))
    print(f"{s['epci']} EPCI : {len(result.computed)} calculés, {len(result.skipped)} repris "
          f"d'un lancement précédent, {s['failed']} en erreur, en {fr_number(result.seconds, 1)} s.")
    if s["infeasible_years"]:
        print(f"  {s['infeasible_years']} années où les contraintes de répartition sont "
              "incompatibles (voir la colonne infeasible).")
    if result.failed:
        print(f"  EPCI en erreur (message dans la colonne error) : {', '.join(result.failed[:10])}"
              f"{' ...' if len(result.failed) > 10 else ''}")
    print(f"Table écrite : {result.table}")
    return 0


def _sensitivity(args) -> int:
    from model.scenario import Scenario
    from model.sensitivity import sensitivity, write_sensitivity

    scenario = Scenario.from_yaml(args.scenario)
    result = sensitivity(scenario, draws=args.draws, seed=args.seed,
                         licence_growth=args.croissance_licences,
                         rrf_growth=args.croissance_rrf,
                         saas_jump_probability=args.proba_saut_saas)
    out = write_sensitivity(result, args.out)
    epci = result.scissor[(result.scissor["level"] == "epci") & (result.scissor["case"] == "pooled")
                          & (result.scissor["indicator"] == "teb_alert")]
    never = float(epci.loc[epci["year"].isna(), "share"].sum())
    print(f"{len(result.draws)} tirages (graine {args.seed}) en {fr_number(result.seconds, 1)} s, "
          f"méthode {result.method}.")
    print(f"  Ciseau (taux d'épargne brute < seuil d'alerte, total EPCI, mutualisé) : "
          f"{fr_number(100 * (1 - never), 1)} % des tirages dans l'horizon.")
    for r in epci[epci["year"].notna()].itertuples():
        print(f"    {r.year} : {fr_number(100 * r.share, 1)} %")
    print(f"Résultats écrits dans {out}/")
    return 0


def _coalition(args) -> int:
    from model.coalition import coalition_costs, read_groups
    from model.scenario import Scenario

    resolved = Scenario.from_yaml(args.scenario).resolve()
    groups = read_groups(args.file, resolved)
    table = coalition_costs(resolved, args.year, groups, origin=args.scenario.name)
    sys.stdout.write(table.to_csv(index=False, float_format="%.2f", lineterminator="\n"))
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

    p_batch = sub.add_parser(
        "batch", help="appliquer un scénario modèle à une liste d'EPCI (ou aux 1 255) : une table",
        description="Applique un scénario modèle (YAML ; sa clé epci est remplacée) à chaque EPCI "
        "et écrit batch.csv (une ligne par EPCI et par année). Reprend après une interruption "
        "sans refaire les EPCI terminés.")
    p_batch.add_argument("template", type=Path, help="scénario modèle (YAML)")
    which = p_batch.add_mutually_exclusive_group()
    which.add_argument("--epci", nargs="+", metavar="SIREN", help="SIREN ou noms des EPCI")
    which.add_argument("--all", action="store_true", help="tous les EPCI (1 255)")
    p_batch.add_argument("--out", type=Path, required=True, help="dossier de sortie")
    p_batch.add_argument("--workers", type=int, default=None,
                         help="processus en parallèle (défaut : un par cœur)")
    p_batch.add_argument("--per-epci", action="store_true",
                         help="écrire aussi les résultats complets de chaque EPCI dans OUT/epci/SIREN/")
    p_batch.add_argument("--dask", nargs="?", const="local", default=None, metavar="ADRESSE",
                         help="calculer avec Dask distributed : grappe locale sans adresse, "
                         "ou l'adresse d'un ordonnanceur (tcp://hôte:8786)")
    p_batch.add_argument("--sans-progression", action="store_true",
                         help="ne pas afficher la barre de progression")
    p_batch.set_defaults(func=_batch)

    p_sens = sub.add_parser(
        "sensitivity", help="tirages des taux de croissance incertains : distribution du ciseau",
        description="Tire la croissance des licences, celle des ressources et la survenue du "
        "saut SaaS ; écrit la distribution de l'année du ciseau et l'éventail des parts.")
    p_sens.add_argument("scenario", type=Path)
    p_sens.add_argument("--draws", type=int, default=None,
                        help="nombre de tirages (défaut : hypothèses, 1000)")
    p_sens.add_argument("--seed", type=int, default=0, help="graine (défaut 0)")
    p_sens.add_argument("--out", type=Path, required=True, help="dossier de sortie")
    p_sens.add_argument("--croissance-licences", type=float, nargs=3, default=None,
                        metavar=("BAS", "MODE", "HAUT"),
                        help="loi triangulaire de la hausse annuelle des licences (défaut : hypothèses)")
    p_sens.add_argument("--croissance-rrf", type=float, nargs=3, default=None,
                        metavar=("BAS", "MODE", "HAUT"),
                        help="loi triangulaire de la hausse annuelle des ressources (défaut : hypothèses)")
    p_sens.add_argument("--proba-saut-saas", type=float, default=None,
                        help="probabilité du saut de prix SaaS au renouvellement "
                             "(défaut : hypothèses)")
    p_sens.set_defaults(func=_sensitivity)

    p_coal = sub.add_parser(
        "coalition", help="coût de chaque service pour des groupes de communes seuls (CSV)",
        description="« Et si nous faisions sans eux ? » Pour chaque ligne du fichier (codes INSEE "
        "séparés par des virgules), ce que ce groupe de communes paierait pour chaque service "
        "s'il le faisait seul l'année donnée. Écrit un CSV (group,pool,cost_eur) sur la sortie.")
    p_coal.add_argument("scenario", type=Path)
    p_coal.add_argument("--year", type=int, required=True, help="année de la projection")
    p_coal.add_argument("--file", type=Path, required=True,
                        help="un groupe par ligne, codes INSEE séparés par des virgules")
    p_coal.set_defaults(func=_coalition)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ModelError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
