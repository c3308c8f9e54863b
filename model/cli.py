"""Command line: ``python -m model {run,epci,template,batch,sensitivity,coalition,dossier} ...``.

Every failure is one French line on standard error, never a Python traceback: bad input (a
`ModelError`, an output folder refused or unwritable, a full disk) exits with status 2; a fault
of the tool (any other exception) exits with status 1 and names the log file, in the system's
temporary folder, where the traceback is written. Usage errors of the command line itself are
French too (`FrenchArgumentParser`), status 2. Ctrl-C keeps Python's behaviour (a batch says how
to resume).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import pandas as pd

from model.errors import InputError, ModelError, Problem, os_error_fr

#: argparse's messages (Python 3.11 to 3.13) and their French wording, tried in order.
_ARGPARSE_FR: list[tuple[str, str]] = [
    (r"the following arguments are required: (?P<a>.+)", "arguments obligatoires manquants : {a}"),
    (r"unrecognized arguments: (?P<a>.+)", "arguments non reconnus : {a}"),
    (r"not allowed with argument (?P<a>.+)", "incompatible avec l'argument {a}"),
    (r"ignored explicit argument (?P<a>.+)", "valeur inattendue : {a}"),
    (r"one of the arguments (?P<a>.+) is required", "l'un des arguments {a} est obligatoire"),
    (r"expected one argument", "une valeur est attendue"),
    (r"expected at most one argument", "au plus une valeur est attendue"),
    (r"expected at least one argument", "au moins une valeur est attendue"),
    (r"expected (?P<n>\d+) arguments?", "{n} valeur(s) attendue(s)"),
    (r"ambiguous option: (?P<o>\S+) could match (?P<m>.+)", "option ambiguë : {o} peut désigner {m}"),
    (r"unexpected option string: (?P<o>.+)", "option inattendue : {o}"),
    (r"invalid int value: (?P<v>.+)", "nombre entier attendu, reçu {v}"),
    (r"invalid float value: (?P<v>.+)", "nombre attendu (ex. 0.05 ou 0,05), reçu {v}"),
    (r"invalid \S+ value: (?P<v>.+)", "valeur invalide : {v}"),
    (r"invalid choice: (?P<v>.+?) \(choose from (?P<c>.+)\)", "choix invalide : {v} (possibles : {c})"),
    (r"unknown parser (?P<v>.+?) \(choices: (?P<c>.+)\)", "commande inconnue : {v} (possibles : {c})"),
    (r"argument (?P<a>\S+): (?P<m>.+)", "argument {a} : {m}"),
]


def translate_argparse(message: str) -> str:
    """argparse's English error message in French (unknown messages are kept as they are)."""
    for pattern, french in _ARGPARSE_FR:
        m = re.fullmatch(pattern, message, flags=re.DOTALL)
        if m:
            parts = m.groupdict()
            if "m" in parts and pattern.startswith("argument "):
                parts["m"] = translate_argparse(parts["m"])
            if re.fullmatch(r"'[^']*'", parts.get("v") or ""):
                parts["v"] = f"« {parts['v'][1:-1]} »"
            return french.format(**parts)
    return message


class FrenchHelpFormatter(argparse.HelpFormatter):
    """Help in French: « utilisation : » instead of « usage: »."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups,
                                 "utilisation : " if prefix is None else prefix)


class FrenchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose headers, help option and error messages are French; a usage
    error prints the usage and « prog : erreur : ... » and exits with status 2."""

    def __init__(self, *args, add_help: bool = True, **kwargs):
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "arguments positionnels"
        self._optionals.title = "options"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="afficher cette aide et quitter")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {translate_argparse(str(message))}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu, reçu « {text} »") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"un nombre entier supérieur ou égal à 1 est attendu, "
                                         f"reçu « {text} »")
    return value


def _number(text: str) -> float:
    """A float, with a dot or a French decimal comma."""
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"nombre attendu (ex. 0.05 ou 0,05), reçu « {text} »") from None


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

    if Path(args.out).is_dir():
        raise InputError(Problem("c'est un dossier : donnez un nom de fichier .xlsx ou .csv",
                                 file=str(args.out)))
    if Path(args.out).exists():
        raise InputError(Problem(
            "ce fichier existe déjà : le modèle n'écrase jamais un fichier (choisissez un autre "
            "nom ou supprimez-le vous-même)", file=str(args.out)))
    epci = load_epci(args.epci) if args.epci else None
    path = write_template(args.out, epci)
    print(f"Modèle écrit : {path}")
    return 0


def _run(args) -> int:
    from model.costs import POOL_LABELS_FR
    from model.report.export import check_out_dir, scenario_inputs, write_outputs
    from model.report.labels import INDICATOR_LABELS_FR, METHOD_LABELS_FR
    from model.run import run
    from model.scenario import Scenario

    scenario = Scenario.from_yaml(args.scenario)
    check_out_dir(args.out, scenario_inputs(scenario))  # refused before the computation
    result = run(scenario)
    out = write_outputs(result, args.out, csv_fr=args.csv_fr)
    s = result.summary
    for line in s["warnings"]:
        print(line, file=sys.stderr)
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
        TEMPLATE_FILE,
        WORK_DIR,
        all_sirens,
        load_template,
        read_table,
        resolve_sirens,
        run_batch,
        summarise,
    )
    from model.report.export import check_out_dir, scenario_inputs

    template = load_template(args.template)
    check_out_dir(args.out, scenario_inputs(template),
                  adopt=(args.out / WORK_DIR / TEMPLATE_FILE).is_file())
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
    from model.report.export import check_out_dir, scenario_inputs
    from model.scenario import Scenario
    from model.sensitivity import sensitivity, write_sensitivity

    scenario = Scenario.from_yaml(args.scenario)
    protect = scenario_inputs(scenario)
    check_out_dir(args.out, protect)  # refused before the draws
    result = sensitivity(scenario, draws=args.draws, seed=args.seed,
                         licence_growth=args.croissance_licences,
                         rrf_growth=args.croissance_rrf,
                         saas_jump_probability=args.proba_saut_saas)
    out = write_sensitivity(result, args.out, protect)
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


def _dossier(args) -> int:
    from model.report.dossier import dossier_results, write_dossier
    from model.report.export import check_out_dir, scenario_inputs
    from model.scenario import Scenario

    scenario = Scenario.from_yaml(args.scenario)
    check_out_dir(args.out, scenario_inputs(scenario))  # refused before the computation
    result, variant = dossier_results(scenario, args.variante_methode)
    files = write_dossier(result, args.out, variant=variant, year=args.annee,
                          pdf=not args.sans_pdf)
    for line in result.summary["warnings"]:
        print(line, file=sys.stderr)
    if files.pdf_note:
        print(f"Attention : {files.pdf_note}", file=sys.stderr)
    written = " et ".join(f"{p} ({fr_number(p.stat().st_size / 1024)} Ko)" for p in files)
    print(f"Dossier de plénière de {result.summary['epci']['name']} écrit : {written}, en "
          f"{fr_number(sum(files.seconds.values()), 1)} s.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(prog="python -m model",
                                  description="Modèle de coûts de mutualisation numérique.")
    sub = parser.add_subparsers(dest="commande", required=True,
                                metavar="{run,epci,template,batch,sensitivity,coalition,dossier}")

    p_run = sub.add_parser("run", help="exécuter un scénario YAML et écrire ses résultats")
    p_run.add_argument("scenario", type=Path, metavar="SCÉNARIO", help="fichier YAML du scénario")
    p_run.add_argument("--out", type=Path, required=True, metavar="DOSSIER",
                       help="dossier de sortie (absent, vide ou déjà écrit par cet outil)")
    p_run.add_argument("--csv-fr", action="store_true",
                       help="CSV au format d'Excel en français (« ; », virgule décimale, UTF-8 "
                            "avec BOM) au lieu du format machine documenté")
    p_run.set_defaults(func=_run)

    p_epci = sub.add_parser("epci", help="parcourir les EPCI et leurs communes")
    epci_sub = p_epci.add_subparsers(dest="sous_commande", required=True, metavar="{list,show}")
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
    p_tpl.add_argument("--out", type=Path, required=True, metavar="FICHIER",
                       help="fichier .xlsx ou .csv")
    p_tpl.set_defaults(func=_template)

    p_batch = sub.add_parser(
        "batch", help="appliquer un scénario modèle à une liste d'EPCI (ou aux 1 255) : une table",
        description="Applique un scénario modèle (YAML ; sa clé epci est remplacée) à chaque EPCI "
        "et écrit batch.csv (une ligne par EPCI et par année). Reprend après une interruption "
        "sans refaire les EPCI terminés.")
    p_batch.add_argument("template", type=Path, metavar="MODÈLE", help="scénario modèle (YAML)")
    which = p_batch.add_mutually_exclusive_group()
    which.add_argument("--epci", nargs="+", metavar="SIREN", help="SIREN ou noms des EPCI")
    which.add_argument("--all", action="store_true", help="tous les EPCI (1 255)")
    p_batch.add_argument("--out", type=Path, required=True, metavar="DOSSIER",
                         help="dossier de sortie (absent, vide ou déjà écrit par cet outil)")
    p_batch.add_argument("--workers", type=_positive_int, default=None, metavar="N",
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
    p_sens.add_argument("scenario", type=Path, metavar="SCÉNARIO", help="fichier YAML du scénario")
    p_sens.add_argument("--draws", type=_positive_int, default=None, metavar="N",
                        help="nombre de tirages (défaut : hypothèses, 1000)")
    p_sens.add_argument("--seed", type=int, default=0, metavar="GRAINE", help="graine (défaut 0)")
    p_sens.add_argument("--out", type=Path, required=True, metavar="DOSSIER",
                        help="dossier de sortie (absent, vide ou déjà écrit par cet outil)")
    p_sens.add_argument("--croissance-licences", type=_number, nargs=3, default=None,
                        metavar=("BAS", "MODE", "HAUT"),
                        help="loi triangulaire de la hausse annuelle des licences (défaut : hypothèses)")
    p_sens.add_argument("--croissance-rrf", type=_number, nargs=3, default=None,
                        metavar=("BAS", "MODE", "HAUT"),
                        help="loi triangulaire de la hausse annuelle des ressources (défaut : hypothèses)")
    p_sens.add_argument("--proba-saut-saas", type=_number, default=None, metavar="P",
                        help="probabilité du saut de prix SaaS au renouvellement "
                             "(défaut : hypothèses)")
    p_sens.set_defaults(func=_sensitivity)

    p_coal = sub.add_parser(
        "coalition", help="coût de chaque service pour des groupes de communes seuls (CSV)",
        description="« Et si nous faisions sans eux ? » Pour chaque ligne du fichier (codes INSEE "
        "séparés par des virgules), ce que ce groupe de communes paierait pour chaque service "
        "s'il le faisait seul l'année donnée. Écrit un CSV (group,pool,cost_eur) sur la sortie.")
    p_coal.add_argument("scenario", type=Path, metavar="SCÉNARIO", help="fichier YAML du scénario")
    p_coal.add_argument("--year", type=int, required=True, metavar="ANNÉE", help="année de la projection")
    p_coal.add_argument("--file", type=Path, required=True, metavar="FICHIER",
                        help="un groupe par ligne, codes INSEE séparés par des virgules")
    p_coal.set_defaults(func=_coalition)

    from model.scenario import METHODS

    p_dos = sub.add_parser(
        "dossier", help="écrire le dossier de plénière (une page HTML autonome et son PDF)",
        description="Écrit dossier.html (graphiques intégrés, sans serveur ni internet : il "
        "s'ouvre d'un double-clic et s'imprime sur A4) et dossier.pdf, pour les élus et à joindre "
        "à la délibération. Le PDF est imprimé par Chromium, Google Chrome ou Microsoft Edge ; "
        "sans eux, la page HTML est écrite seule.")
    p_dos.add_argument("scenario", type=Path, metavar="SCÉNARIO", help="fichier YAML du scénario")
    p_dos.add_argument("--out", type=Path, required=True, metavar="DOSSIER",
                       help="dossier de sortie (absent, vide ou déjà écrit par cet outil)")
    p_dos.add_argument("--annee", type=int, default=None, metavar="ANNÉE",
                       help="année de la répartition par commune (défaut : la première projetée)")
    p_dos.add_argument("--variante-methode", choices=METHODS, default=None, metavar="MÉTHODE",
                       help="comparer avec une variante B répartie selon MÉTHODE (possibles : "
                            + ", ".join(METHODS) + ")")
    p_dos.add_argument("--sans-pdf", action="store_true", help="n'écrire que la page HTML")
    p_dos.set_defaults(func=_dossier)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status (0 done, 2 bad input, 1 fault of the tool)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # usage error (2, message already printed) or --help (0)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return run_command(args.func, args, argv)


def run_command(func, args, argv: list[str]) -> int:
    """The one top-level handler of every command: a French line and an exit status for any
    failure, never a traceback on screen (KeyboardInterrupt is left to Python)."""
    try:
        return func(args)
    except ModelError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`... | head`): stop quietly, without a second error at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except OSError as exc:
        print(f"Erreur : {os_error_fr(exc, getattr(args, 'out', None))}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the tool's own fault: logged, one French line
        log = _write_log(exc, argv)
        where = (f"le détail technique est dans {log}" if log else
                 "le détail technique n'a pas pu être écrit")
        print(f"Erreur interne de l'outil ({type(exc).__name__}) : ce n'est pas un problème de "
              f"vos données ; {where} (joignez ce fichier à votre signalement).", file=sys.stderr)
        return 1


def _write_log(exc: BaseException, argv: list[str]) -> str | None:
    """Write the traceback into a new log file of the system's temporary folder; its path."""
    import datetime
    import platform
    import shlex
    import tempfile
    import traceback

    from model import __version__

    try:
        fd, path = tempfile.mkstemp(prefix="mutualisation-erreur-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"mutualisation-cost-modeller {__version__}, Python {platform.python_version()}"
                    f", {platform.platform()}\n")
            f.write(f"date : {datetime.datetime.now().isoformat(timespec='seconds')}\n")
            f.write(f"commande : python -m model {shlex.join(argv)}\n")
            f.write(f"dossier courant : {os.getcwd()}\n\n")
            traceback.print_exception(exc, file=f)
        return path
    except Exception:  # noqa: BLE001 - the log is best effort
        return None
