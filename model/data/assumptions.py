"""Read data/assumptions.yaml and apply a scenario's overrides (every default has a source)."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from model.data.bundled import DATA_DIR
from model.errors import InputError, Problem

ASSUMPTIONS_FILE = DATA_DIR / "assumptions.yaml"
ENTRY_KEYS = {"value", "unit", "source", "note"}


@cache
def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_assumptions(path: str | Path | None = None) -> dict:
    """The full assumption tree: ``{topic: {name: {value, unit, source, note}}}`` (a fresh copy)."""
    return copy.deepcopy(_load(Path(path) if path else ASSUMPTIONS_FILE))


def assumption_values(tree: dict) -> dict[str, dict[str, Any]]:
    """Only the values: ``{topic: {name: value}}``."""
    return {topic: {k: v["value"] for k, v in entries.items()} for topic, entries in tree.items()}


def apply_overrides(tree: dict, overrides: dict | None, origin: str = "scénario") -> dict:
    """Return a copy of ``tree`` with ``overrides`` (``{topic: {name: value}}``) applied.

    An override may be a bare value or a mapping with ``value`` (and optionally ``source``/``note``
    to document the user's own figure). Unknown topics or names are reported all at once.
    """
    out = copy.deepcopy(tree)
    problems = []
    for topic, entries in (overrides or {}).items():
        if topic not in out:
            problems.append(Problem(
                f"rubrique d'hypothèses inconnue « {topic} » (connues : {', '.join(out)})",
                file=origin))
            continue
        if not isinstance(entries, dict):
            problems.append(Problem(f"la rubrique « {topic} » doit être un dictionnaire", file=origin))
            continue
        for name, value in entries.items():
            if name not in out[topic]:
                problems.append(Problem(
                    f"hypothèse inconnue « {topic}.{name} » (connues : {', '.join(out[topic])})",
                    file=origin))
                continue
            entry = out[topic][name]
            if isinstance(value, dict) and "value" in value and set(value) <= ENTRY_KEYS:
                entry.update(value)
            elif isinstance(entry["value"], dict) and isinstance(value, dict):
                entry["value"] = {**entry["value"], **value}
            else:
                entry["value"] = value
            entry.setdefault("source", "")
            if not (isinstance(value, dict) and "source" in value):
                entry["source"] = f"Valeur du {origin}"
    if problems:
        raise InputError(problems)
    return out
