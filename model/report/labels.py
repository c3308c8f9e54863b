"""French display names for every code and column, applied only at the presentation edge."""

from __future__ import annotations

import pandas as pd

from model.costs import POOL_LABELS_FR
from model.data.schema import LABELS_FR as COMMUNE_LABELS_FR

METHOD_LABELS_FR = {
    "voted_key": "Clé votée, corrigée au minimum (par défaut)",
    "lp": "Péréquation : charge maximale minimale (choix de solidarité)",
    "nucleolus": "Nucléole (le groupe le plus mal servi, le mieux servi possible)",
    "shapley": "Valeur de Shapley",
    "usage": "Clé d'usage (unités d'œuvre)",
    "population": "Clé population",
    "potentiel_financier": "Clé potentiel financier",
    "agents": "Clé agents",
    "workstations": "Clé postes de travail",
    "equal": "Parts égales",
    "weighted": "Clé mixte (part fixe + usage)",
}

INDICATOR_LABELS_FR = {
    "teb_alert": "Taux d'épargne brute sous le seuil d'alerte",
    "teb_degraded": "Taux d'épargne brute sous le seuil dégradé",
    "eb_negative": "Épargne brute négative (fonctionnement financé par l'emprunt ou les réserves)",
    "digital_burden": "Charge numérique au-dessus de la moyenne nationale",
}

COLUMN_LABELS_FR = {
    **COMMUNE_LABELS_FR,
    "year": "Année",
    "method": "Méthode",
    "payer_id": "Payeur (code INSEE)",
    "payer_name": "Payeur",
    "pool": "Service",
    "amount_eur": "Montant (€)",
    "usage_share": "Part d'usage",
    "standalone_eur": "Coût isolé (€)",
    "incremental_eur": "Coût incrémental (€)",
    "band_lo_eur": "Plancher bande d'usage (€)",
    "band_hi_eur": "Plafond bande d'usage (€)",
    "capacity_eur": "Capacité contributive (€)",
    "estimated": "Estimé",
    "other_drf_eur": "Autres dépenses réelles de fonctionnement (€)",
    "digital_pooled_eur": "Coût numérique mutualisé (€)",
    "digital_standalone_eur": "Coût numérique isolé (€)",
    "lp_burden": "Charge (part de la capacité)",
    "epargne_brute_pooled_eur": "Épargne brute, mutualisé (€)",
    "epargne_brute_standalone_eur": "Épargne brute, isolé (€)",
    "teb_pooled": "Taux d'épargne brute, mutualisé",
    "teb_standalone": "Taux d'épargne brute, isolé",
    "digital_burden_pooled": "Charge numérique / RRF, mutualisé",
    "digital_burden_standalone": "Charge numérique / RRF, isolé",
    "teb_alert_pooled": "Alerte TEB < 10 %, mutualisé",
    "teb_alert_standalone": "Alerte TEB < 10 %, isolé",
    "teb_degraded_pooled": "TEB < 7 %, mutualisé",
    "teb_degraded_standalone": "TEB < 7 %, isolé",
    "burden_alert_pooled": "Charge numérique élevée, mutualisé",
    "burden_alert_standalone": "Charge numérique élevée, isolé",
    "saving_eur": "Économie (€)",
    "settlement": "Mode de règlement",
    "invoice_eur": "À facturer (€)",
    "ac_deduction_eur": "Imputé sur l'AC (€)",
    "balancing_eur": "Régularisation de fin d'année (€)",
    "indicator": "Indicateur",
    "threshold": "Seuil",
    "year_pooled": "Année du ciseau, mutualisé",
    "year_standalone": "Année du ciseau, isolé",
    "years_gained": "Années gagnées par la mutualisation",
    "group": "Contrainte",
    "shadow_price": "Prix dual",
    "explanation_fr": "Explication",
    "slack_eur": "Écart (€)",
    "driver": "Unité d'œuvre",
    "volume": "Volume (unités d'œuvre)",
    "finances_estimated": "Finances estimées",
    "eb_from_resources_eur": "Épargne brute : variation due aux ressources (€)",
    "eb_from_other_eur": "Épargne brute : variation due aux autres dépenses (€)",
    **{f"{stem}_{mode}{suffix}": f"{text}, {word}{unit}"
       for mode, word in (("pooled", "mutualisé"), ("standalone", "isolé"))
       for stem, text, suffix, unit in (
           ("digital_gap", "Écart numérique / ressources", "_eur", " (€)"),
           ("digital_gap_cum", "Écart numérique / ressources cumulé", "_eur", " (€)"),
           ("eb_from_digital", "Épargne brute : variation due au numérique", "_eur", " (€)"),
           ("eb_change", "Variation de l'épargne brute", "_eur", " (€)"),
           ("teb_from_resources", "TEB : variation due aux ressources", "", " (points)"),
           ("teb_from_other", "TEB : variation due aux autres dépenses", "", " (points)"),
           ("teb_from_digital", "TEB : variation due au numérique", "", " (points)"),
           ("teb_change", "Variation du TEB", "", " (points)"),
           ("digital_absorbs_eb", "Hausse du numérique / épargne brute de départ", "", ""),
           ("eb_negative", "Épargne brute négative", "", ""),
       )},
}

#: Topics of data/assumptions.yaml in French (the Hypothèses sheet).
TOPIC_LABELS_FR = {
    "meta": "Général",
    "drivers": "Unités d'œuvre (estimation)",
    "finance": "Finances communales",
    "dsi": POOL_LABELS_FR.get("dsi", "DSI"),
    "dpo": POOL_LABELS_FR.get("dpo", "DPO"),
    "archivage": POOL_LABELS_FR.get("archivage", "Archivage"),
    "licences": POOL_LABELS_FR.get("licences", "Licences"),
    "allocation": "Répartition",
    "projection": "Projection",
    "sensitivity": "Incertitude",
    "plausibility": "Contrôles de vraisemblance",
}

#: Reference keys of the default split in French (METHOD_LABELS_FR plus the tariff grid).
REFERENCE_KEY_LABELS_FR = {"grid": "Grille tarifaire"}

#: Voted rules of the default split, in words (value -> text).
RULE_LABELS_FR = {
    "burden_cap": "plafond de charge",
    "guaranteed_saving": "économie garantie à chaque commune",
    "key_departure": "écart maximal à la clé de référence",
    "usage_band": "bande d'usage",
}

SETTLEMENT_LABELS_FR = {"invoice": "Facture (convention)", "ac": "Attribution de compensation"}


def french(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with French column headers and French names for pools and methods."""
    out = df.copy()
    for col, mapping in (("pool", POOL_LABELS_FR), ("method", METHOD_LABELS_FR),
                         ("indicator", INDICATOR_LABELS_FR), ("settlement", SETTLEMENT_LABELS_FR)):
        if col in out.columns:
            out[col] = out[col].map(lambda v, m=mapping: m.get(v, v))
    return out.rename(columns=lambda c: COLUMN_LABELS_FR.get(c, c))
