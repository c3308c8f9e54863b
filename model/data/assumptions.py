"""Read data/assumptions.yaml, check values against data/assumptions_schema.yaml and apply a
scenario's overrides (every default has a source; every value has a type, a unit and a range).

The schema is a table, like PyPSA's attribute CSVs or Calliope's ``checks``: one entry per
assumption with its type, unit, range or allowed values and French label. Checks collect every
problem and report them at once, each naming the file, the key path (``assumptions.allocation.
epci_share.dsi``), the value refused and what is allowed, in French.

YAML files are read strictly (``read_yaml``): duplicate keys, anchors and aliases (the
« billion laughs »), deep nesting and files over 1 MB are refused; UTF-8 is read first, then
Windows-1252.
"""

from __future__ import annotations

import copy
import difflib
import math
import numbers
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from model.data.bundled import DATA_DIR
from model.errors import InputError, Problem

ASSUMPTIONS_FILE = DATA_DIR / "assumptions.yaml"
SCHEMA_FILE = DATA_DIR / "assumptions_schema.yaml"
ENTRY_KEYS = {"value", "unit", "source", "note"}
#: Source recorded for a value a scenario overrides.
OVERRIDE_SOURCE = "Valeur du scénario"
#: Said of a default value that the scenario's other values make invalid.
DEFAULT_NOTE = " (valeur par défaut, à donner dans le scénario)"
#: Largest YAML file read (a scenario is a few kilobytes).
MAX_YAML_BYTES = 1_000_000
#: Deepest nesting of YAML collections accepted (a scenario needs 4).
MAX_YAML_DEPTH = 20


# --------------------------------------------------------------------------------------------
# Strict YAML reading


class _Refused(Exception):
    """A YAML construct refused by the strict loader (French message, 1-based line)."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message, self.line = message, line


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, anchors/aliases (unless trusted) and deep nesting."""

    allow_aliases = False

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        if not self.allow_aliases and (isinstance(event, yaml.AliasEvent)
                                       or getattr(event, "anchor", None) is not None):
            raise _Refused("les ancres et alias YAML (&nom, *nom) ne sont pas acceptés : "
                           "écrivez chaque valeur en entier", line)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _Refused(f"imbrication trop profonde (plus de {MAX_YAML_DEPTH} niveaux)",
                               line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                line = key_node.start_mark.line + 1
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise _Refused("une clé doit être un texte, pas une liste ou un "
                                   "dictionnaire", line) from None
                if key in seen:
                    raise _Refused(f"clé « {_plain(key)} » en double (déjà donnée ligne "
                                   f"{seen[key]}) : une seule valeur par clé", line)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


class _TrustedLoader(_StrictLoader):
    """For the bundled files: duplicate keys refused, anchors allowed (the schema uses them)."""

    allow_aliases = True


def _node_lines(node, prefix: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    """``dotted.key.path -> line`` (1-based) of every mapping key of a composed YAML tree."""
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
                out.setdefault(path, key_node.start_mark.line + 1)
                _node_lines(value_node, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{prefix}[{i}]"
            out.setdefault(path, item.start_mark.line + 1)
            _node_lines(item, path, out)
    return out


def decode_text(data: bytes, origin: str | None) -> str:
    """UTF-8 (with or without BOM), else UTF-16 with a BOM, else Windows-1252; French error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first = exc
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(Problem(
            f"encodage illisible : ni UTF-8 (octet 0x{data[first.start]:02x}), ni Windows-1252 "
            f"(octet 0x{data[exc.start]:02x}) ; enregistrez le fichier en UTF-8",
            file=origin, row=line)) from None


def _char_code(character: Any) -> str:
    return f"#x{character:04x}" if isinstance(character, int) else repr(character)


def read_yaml(path: str | Path, origin: str | None = None, trusted: bool = False,
              max_bytes: int = MAX_YAML_BYTES) -> tuple[Any, dict[str, int]]:
    """The content of a YAML file and the line of each key (``{"assumptions.licences": 9}``).

    Raises ``InputError`` (French, naming ``origin``, the path as the user gave it) for a missing
    or unreadable file, a file over ``max_bytes``, an encoding that is neither UTF-8 nor
    Windows-1252, invalid YAML, a duplicate key, an anchor or alias (unless ``trusted``: bundled
    files) or nesting deeper than ``MAX_YAML_DEPTH``.
    """
    path = Path(path)
    origin = str(path) if origin is None else origin
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(Problem(
                f"fichier trop volumineux ({size / 1e6:.1f} Mo) : un scénario fait quelques "
                f"kilo-octets, la limite est {max_bytes / 1e6:g} Mo", file=origin))
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(Problem("fichier introuvable", file=origin)) from None
    except IsADirectoryError:
        raise InputError(Problem("c'est un dossier, pas un fichier", file=origin)) from None
    except OSError as exc:
        raise InputError(Problem(f"fichier illisible ({exc.strerror or exc})", file=origin)) from None
    if len(data) > max_bytes:
        raise InputError(Problem(f"fichier trop volumineux : la limite est {max_bytes / 1e6:g} Mo",
                                 file=origin))
    text = decode_text(data, origin)
    loader = None
    try:
        loader = (_TrustedLoader if trusted else _StrictLoader)(text)
        node = loader.get_single_node()
        lines = _node_lines(node) if node is not None else {}
        content = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise InputError(Problem(exc.message, file=origin, row=exc.line)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = "; ".join(str(m) for m in (exc.context, exc.problem) if m)
        raise InputError(Problem(f"YAML illisible ({what})", file=origin,
                                 row=mark.line + 1 if mark else None)) from None
    except yaml.reader.ReaderError as exc:  # a character that no text file contains
        line = text[:exc.position].count("\n") + 1
        raise InputError(Problem(
            f"caractère interdit ({_char_code(exc.character)}) : ce n'est pas un fichier texte YAML",
            file=origin, row=line)) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"YAML illisible ({exc})", file=origin)) from None
    except (ValueError, OverflowError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        raise InputError(Problem(f"valeur illisible ({type(exc).__name__} : {exc})",
                                 file=origin)) from None
    finally:
        if loader is not None:
            loader.dispose()
    return content, lines


# --------------------------------------------------------------------------------------------
# Loading


@cache
def _load(path: Path) -> dict:
    return read_yaml(path, trusted=True)[0]


def load_assumptions(path: str | Path | None = None) -> dict:
    """The full assumption tree: ``{topic: {name: {value, unit, source, note}}}`` (a fresh copy)."""
    return copy.deepcopy(_load(Path(path) if path else ASSUMPTIONS_FILE))


@cache
def load_schema() -> dict:
    """data/assumptions_schema.yaml: ``{"scenario": {key: spec}, "assumptions": {topic: {name:
    spec}}}`` (shared, do not modify)."""
    return _load(SCHEMA_FILE)


def assumption_values(tree: dict) -> dict[str, dict[str, Any]]:
    """Only the values: ``{topic: {name: value}}``."""
    return {topic: {k: v["value"] for k, v in entries.items()} for topic, entries in tree.items()}


# --------------------------------------------------------------------------------------------
# Checking one value against its schema entry


INVALID = object()
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_BOUND = re.compile(rf"^\s*(?:(?P<num>{_NUMBER})|(?P<ref>[a-z_]+\.[a-z_]+)\s*"
                    rf"(?:(?P<sign>[-+])\s*(?P<off>{_NUMBER}))?)\s*$")
_INTERVAL = re.compile(r"^\s*(?P<lo_br>[\[(])(?P<lo>[^,]*),(?P<hi>[^,]*)(?P<hi_br>[\])])\s*$")


@dataclass(frozen=True)
class Bound:
    """A number, or another assumption (``topic.name``) plus an offset."""

    ref: str | None
    offset: float

    def value(self, env: dict | None) -> float | None:
        if self.ref is None:
            return self.offset
        if env is None:
            return None
        topic, name = self.ref.split(".")
        v = env.get(topic, {}).get(name, INVALID)
        if v is INVALID or v is None or isinstance(v, bool) or not isinstance(v, numbers.Real):
            return None
        return v + self.offset

    def describe(self, env: dict | None) -> str:
        v = self.value(env)
        if self.ref is None:
            return _num(self.offset)
        ref = self.ref if not self.offset else (
            f"{self.ref} {'+' if self.offset > 0 else '-'} {_num(abs(self.offset))}")
        return f"{_num(v)} ({ref})" if v is not None else ref


@dataclass(frozen=True)
class Interval:
    lo: Bound
    hi: Bound
    lo_open: bool
    hi_open: bool

    @property
    def has_refs(self) -> bool:
        return self.lo.ref is not None or self.hi.ref is not None

    def contains(self, x: float, env: dict | None) -> bool:
        """False only when a bound that can be evaluated is broken."""
        lo, hi = self.lo.value(env), self.hi.value(env)
        if lo is not None and (x < lo or (self.lo_open and x == lo)):
            return False
        return not (hi is not None and (x > hi or (self.hi_open and x == hi)))

    def describe(self, env: dict | None) -> str:
        lo, hi = self.lo.describe(env), self.hi.describe(env)
        if self.lo_open and self.hi_open:
            return f"strictement entre {lo} et {hi}"
        if self.lo_open:
            return f"supérieur à {lo} et au plus {hi}"
        if self.hi_open:
            return f"au moins {lo} et inférieur à {hi}"
        return f"entre {lo} et {hi}"


def _parse_bound(text: str) -> Bound:
    m = _BOUND.match(text)
    if not m:
        raise ValueError(f"borne illisible dans le schéma : {text!r}")
    if m["num"] is not None:
        return Bound(None, float(m["num"]))
    off = float(m["off"]) if m["off"] else 0.0
    return Bound(m["ref"], -off if m["sign"] == "-" else off)


@cache
def parse_interval(text: str) -> Interval:
    """``"[0, 1]"``, ``"(0, 1]"``, ``"[projection.start_year, projection.start_year + 15]"``."""
    m = _INTERVAL.match(text)
    if not m:
        raise ValueError(f"intervalle illisible dans le schéma : {text!r}")
    return Interval(_parse_bound(m["lo"]), _parse_bound(m["hi"]), m["lo_br"] == "(",
                    m["hi_br"] == ")")


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def _plain(value: Any) -> str:
    text = str(value)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def show_value(value: Any, depth: int = 0) -> str:
    """A value as the user would have written it in YAML (short)."""
    if value is None:
        out = "null"
    elif isinstance(value, bool):
        out = "true" if value else "false"
    elif isinstance(value, str):
        out = f"« {_plain(value)} »"
    elif isinstance(value, numbers.Real):
        out = _num(float(value)) if isinstance(value, float) else _plain(value)
    elif depth > 2:
        out = "…"
    elif isinstance(value, list | tuple):
        items = [show_value(v, depth + 1) for v in value[:5]]
        out = "[" + ", ".join(items) + (", …" if len(value) > 5 else "") + "]"
    elif isinstance(value, dict):
        items = [f"{_plain(k)}: {show_value(v, depth + 1)}" for k, v in list(value.items())[:5]]
        out = "{" + ", ".join(items) + (", …" if len(value) > 5 else "") + "}"
    else:
        out = _plain(value)
    return out if len(out) <= 80 else out[:77] + "…"


def kind_fr(value: Any) -> str:
    """What a value is, in French (« un texte », « un booléen »...)."""
    if value is None:
        return "vide (null)"
    if isinstance(value, bool):
        return "un booléen (true/false)"
    if isinstance(value, numbers.Integral):
        return "un nombre entier"
    if isinstance(value, numbers.Real):
        return "un nombre"
    if isinstance(value, str):
        return "un texte"
    if isinstance(value, list | tuple):
        return "une liste"
    if isinstance(value, dict):
        return "un dictionnaire"
    if hasattr(value, "isoformat"):
        return "une date"
    return f"une valeur de type {type(value).__name__}"


def _as_number(value: Any) -> int | float | None:
    """``value`` as a Python number, or None (booleans, texts, ... are not numbers)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def _text_hint(value: str) -> str:
    """How to write as a number a text that looks like one."""
    text = value.strip().replace("\u202f", " ").replace("\xa0", " ")
    pct = re.fullmatch(r"([-+]?\d+(?:[.,]\d+)?)\s*%", text)
    if pct:
        x = float(pct[1].replace(",", ".")) / 100
        return f" ; écrivez {_num(round(x, 12))} pour {text}"
    if re.fullmatch(r"[-+]?\d+,\d+", text):
        return f" ; écrivez {text.replace(',', '.')} (point décimal, sans guillemets)"
    if re.fullmatch(_NUMBER, text):
        return f" ; écrivez {text} sans guillemets"
    return ""


def intervals(spec: dict) -> list[Interval]:
    """The intervals of an entry (``range`` is one interval or a list of them, all to hold)."""
    rng = spec.get("range")
    if rng is None:
        return []
    return [parse_interval(r) for r in (rng if isinstance(rng, list) else [rng])]


def expected_fr(spec: dict, env: dict | None = None, only: list[Interval] | None = None) -> str:
    """What an entry accepts, in French (``only``: the intervals to state, default all)."""
    t = spec["type"]
    unit = f" ({spec['unit']})" if spec.get("unit") and t in ("int", "float") else ""
    if t in ("int", "float"):
        out = "un nombre entier" if t == "int" else "un nombre"
        if "allowed" in spec:
            out += " parmi " + ", ".join(_num(a) for a in spec["allowed"])
        shown = intervals(spec) if only is None else only
        if shown:
            out += " " + " et ".join(i.describe(env) for i in shown)
        out += unit
    elif t == "str":
        out = ("un texte parmi : " + ", ".join(spec["allowed"])) if "allowed" in spec else "un texte"
    elif t == "bool":
        out = "true ou false"
    elif t == "list":
        n = f"{spec['length']} " if "length" in spec else ""
        out = f"une liste de {n}éléments, chacun {expected_fr(spec['items'], env)}"
        if spec.get("order") == "nondecreasing":
            out += ", croissants (bas ≤ mode ≤ haut)"
        if spec.get("unique"):
            out += ", sans doublon"
        if spec.get("min_items"):
            out += f", au moins {spec['min_items']}"
        if spec.get("unit"):
            out += f" ({spec['unit']})"
    elif t == "mapping":
        keys = spec.get("keys")
        if isinstance(keys, list):
            what = "/".join(keys)
        elif isinstance(keys, dict):
            what = expected_fr(keys, env)
        else:
            what = "nom"
        out = "un dictionnaire {" + what
        out += (": " + expected_fr(spec["values"], env) + "}") if "values" in spec else ": …}"
    else:
        raise ValueError(f"type inconnu dans le schéma : {t!r}")
    return out + (", ou null" if spec.get("nullable") else "")


def broken_intervals(spec: dict, x: float, env: dict | None) -> list[Interval]:
    """The intervals of ``spec`` that ``x`` breaks (bounds naming others need ``env``)."""
    return [i for i in intervals(spec) if not i.contains(x, env)]


def _suggest(value: Any, allowed: list) -> str:
    if not isinstance(value, str):
        return ""
    names = [str(a) for a in allowed]
    lowered = {n.lower(): n for n in names}
    hit = difflib.get_close_matches(value.strip().lower(), list(lowered), n=1, cutoff=0.6)
    return f" ; vouliez-vous dire « {lowered[hit[0]]} » ?" if hit else ""


def check_value(spec: dict, value: Any, path: str, out: list[tuple[str, Any, str]],
                env: dict | None = None) -> Any:
    """``value`` checked against ``spec``: the normalised value (2026.0 -> 2026) or ``INVALID``.

    Each problem is appended to ``out`` as ``(key path, value, French reason)``. ``env`` (the
    assumption values, ``{topic: {name: value}}``) evaluates bounds that name another
    assumption; without it those bounds are skipped.
    """
    def fail(reason: str) -> object:
        out.append((path, value, reason))
        return INVALID

    t = spec["type"]
    if value is None:
        if spec.get("nullable"):
            return None
        return fail(f"il faut {expected_fr(spec, env)}, pas une valeur vide")
    if t == "bool":
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return bool(value)
        return fail(f"il faut true ou false, pas {kind_fr(value)}")
    if t in ("int", "float"):
        x = _as_number(value)
        if x is None:
            hint = _text_hint(value) if isinstance(value, str) else ""
            return fail(f"il faut {expected_fr(spec, env)}, pas {kind_fr(value)}{hint}")
        if isinstance(x, float) and not math.isfinite(x):
            return fail(f"il faut {expected_fr(spec, env)} (un nombre fini)")
        if t == "int" and isinstance(x, float):
            if not x.is_integer():
                return fail(f"il faut {expected_fr(spec, env)} : {_num(x)} n'est pas entier")
            x = int(x)
        if "allowed" in spec and x not in spec["allowed"]:
            return fail(f"il faut {expected_fr(spec, env)}")
        broken = broken_intervals(spec, x, env)
        if broken:
            return fail(f"il faut {expected_fr(spec, env, broken)}")
        return x
    if t == "str":
        if not isinstance(value, str):
            hint = (" (yes, no, on, off sont lus comme true/false en YAML : mettez le texte "
                    "entre guillemets)" if isinstance(value, bool) else "")
            return fail(f"il faut {expected_fr(spec, env)}, pas {kind_fr(value)}{hint}")
        if "allowed" in spec and value not in spec["allowed"]:
            return fail(f"valeurs possibles : {', '.join(spec['allowed'])}"
                        f"{_suggest(value, spec['allowed'])}")
        return value
    if t == "list":
        if isinstance(value, str):
            return fail(f"il faut une liste, pas un texte : écrivez [{_plain(value)}] "
                        "(crochets, éléments séparés par des virgules)")
        if not isinstance(value, list | tuple):
            return fail(f"il faut {expected_fr(spec, env)}, pas {kind_fr(value)}")
        if "length" in spec and len(value) != spec["length"]:
            return fail(f"il faut {expected_fr(spec, env)} ; {len(value)} élément(s) donné(s)")
        if len(value) < spec.get("min_items", 0):
            return fail(f"il faut {expected_fr(spec, env)} ; liste vide")
        items = [check_value(spec["items"], v, f"{path}[{i}]", out, env)
                 for i, v in enumerate(value)]
        if any(v is INVALID for v in items):
            return INVALID
        if spec.get("unique"):
            twice = [v for i, v in enumerate(items) if v in items[:i]]
            if twice:
                return fail(f"élément(s) en double : {', '.join(_plain(v) for v in twice)}")
        if spec.get("order") == "nondecreasing" and any(
                a > b for a, b in zip(items, items[1:], strict=False)):
            return fail("il faut des valeurs croissantes : bas ≤ mode ≤ haut")
        return items
    if t == "mapping":
        if not isinstance(value, dict):
            keys = spec.get("keys")
            hint = (f" ; écrivez par exemple {{{keys[0]}: {show_value(value)}}}"
                    if isinstance(keys, list) and _as_number(value) is not None else "")
            return fail(f"il faut {expected_fr(spec, env)}, pas {kind_fr(value)}{hint}")
        keys, result, bad = spec.get("keys"), {}, False
        for k, v in value.items():
            sub = f"{path}.{_plain(k)}"
            if isinstance(keys, list) and k not in keys:
                out.append((sub, v, f"nom inconnu « {_plain(k)} » (possibles : "
                                    f"{', '.join(keys)}){_suggest(k, keys)}"))
                bad = True
                continue
            if isinstance(keys, dict):
                k2 = check_value(keys, k, sub, out, env)
                if k2 is INVALID:
                    bad = True
                    continue
            if "values" in spec:
                v = check_value(spec["values"], v, sub, out, env)
                if v is INVALID:
                    bad = True
                    continue
            result[k] = v
        if bad:
            return INVALID
        if len(result) < spec.get("min_items", 0):
            return fail(f"il faut au moins {spec['min_items']} élément(s)")
        return result
    raise ValueError(f"type inconnu dans le schéma : {t!r}")


def problems_of(spec: dict, out: list[tuple[str, Any, str]], origin: str | None,
                lines: dict[str, int] | None, note: str = "") -> list[Problem]:
    """French ``Problem``s from ``check_value``'s ``(path, value, reason)`` records."""
    problems = []
    for path, value, reason in out:
        label = spec.get("label")
        what = f"clé « {path} »" + (f" ({label})" if label else "")
        end = "" if reason.endswith(("?", ".", "!")) else "."
        problems.append(Problem(f"{what} : valeur {show_value(value)}{note} refusée : {reason}{end}",
                                file=origin, row=line_of(path, lines)))
    return problems


def line_of(path: str, lines: dict[str, int] | None) -> int | None:
    """The line of ``path`` or of its nearest parent key in the file (None if unknown)."""
    if not lines:
        return None
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return None
        path = path[:cut]
    return None


# --------------------------------------------------------------------------------------------
# Overrides


def _is_entry_form(value: Any) -> bool:
    """``{value: ..., source: ..., note: ...}``: a value with its own documentation."""
    return isinstance(value, dict) and "value" in value and set(value) <= ENTRY_KEYS


def _merged(default: Any, override: Any) -> Any:
    """The value an override gives (a bare mapping is merged into a mapping default)."""
    if _is_entry_form(override):
        return override["value"]
    if isinstance(default, dict) and isinstance(override, dict):
        return {**default, **override}
    return override


def check_overrides(overrides: Any, tree: dict | None = None, origin: str | None = None,
                    lines: dict[str, int] | None = None,
                    prefix: str = "assumptions") -> tuple[dict, list[Problem]]:
    """Check a scenario's ``assumptions:`` against the tree (``load_assumptions()``) and the schema.

    Returns the overrides with normalised values (``2026.0`` -> ``2026``) and every problem:
    unknown topics and names (with the nearest known name), values of the wrong type or out of
    range, and values left at their default that the overrides make invalid (``end_year`` before
    a later ``start_year``). Keys of ``data/assumptions.yaml`` without a schema entry are not
    checked (a test requires an entry for each).
    """
    tree = load_assumptions() if tree is None else tree
    schema = load_schema()["assumptions"]
    problems: list[Problem] = []
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        return {}, [Problem(
            f"clé « {prefix} » : valeur {show_value(overrides)} refusée : il faut un dictionnaire "
            f"{{rubrique: {{nom: valeur}}}}, pas {kind_fr(overrides)}",
            file=origin, row=line_of(prefix, lines))]

    # Structure: known topics and names; the value each override gives.
    given: dict[tuple[str, str], Any] = {}
    for topic, entries in overrides.items():
        where = f"{prefix}.{_plain(topic)}"
        row = line_of(where, lines)
        if topic not in tree:
            problems.append(Problem(
                f"clé « {where} » : rubrique d'hypothèses inconnue « {_plain(topic)} » (connues : "
                f"{', '.join(tree)}){_suggest(topic, list(tree))}", file=origin, row=row))
            continue
        if not isinstance(entries, dict):
            problems.append(Problem(
                f"clé « {where} » : la rubrique « {topic} » doit être un dictionnaire "
                f"{{nom: valeur}}, pas {kind_fr(entries)} ({show_value(entries)})",
                file=origin, row=row))
            continue
        for name, value in entries.items():
            path = f"{where}.{_plain(name)}"
            if name not in tree[topic]:
                problems.append(Problem(
                    f"clé « {path} » : hypothèse inconnue « {topic}.{_plain(name)} » (connues : "
                    f"{', '.join(tree[topic])}){_suggest(name, list(tree[topic]))}",
                    file=origin, row=line_of(path, lines)))
                continue
            if _is_entry_form(value):
                for k in ("source", "note", "unit"):
                    if k in value and not isinstance(value[k], str):
                        problems.append(Problem(
                            f"clé « {path}.{k} » : il faut un texte, pas {kind_fr(value[k])}",
                            file=origin, row=line_of(f"{path}.{k}", lines)))
            given[(topic, name)] = value

    # Values: every entry (default or given), static bounds first, then bounds naming others.
    env: dict[str, dict[str, Any]] = {}
    checked: dict[tuple[str, str], tuple[dict, Any, str, str]] = {}
    records: dict[tuple[str, str], list] = {}
    for topic, entries in tree.items():
        env[topic] = {}
        for name, entry in entries.items():
            default = entry.get("value") if isinstance(entry, dict) else entry
            spec = schema.get(topic, {}).get(name)
            key = (topic, name)
            value = _merged(default, given[key]) if key in given else default
            if spec is None:
                env[topic][name] = value
                continue
            path = f"{prefix}.{topic}.{name}" + (
                ".value" if key in given and _is_entry_form(given[key]) else "")
            out: list = []
            env[topic][name] = check_value(spec, value, path, out)
            checked[key] = (spec, value, path, "" if key in given else DEFAULT_NOTE)
            records[key] = out
    for key, (spec, value, path, _note) in checked.items():
        norm = env[key[0]][key[1]]
        if (any(i.has_refs for i in intervals(spec)) and norm is not INVALID
                and norm is not None and not records[key]):
            broken = broken_intervals(spec, norm, env)
            if broken:
                records[key].append((path, value, f"il faut {expected_fr(spec, env, broken)}"))
    order = list(given) + [k for k in checked if k not in given]
    for key in order:
        if key in checked and records[key]:
            spec, _value, _path, note = checked[key]
            problems.extend(problems_of(spec, records[key], origin, lines, note))

    normalised: dict = {}
    for (topic, name), value in given.items():
        norm = env[topic][name]
        if norm is INVALID or (topic, name) not in checked:
            norm = value
        elif _is_entry_form(value):
            norm = {**value, "value": norm}
        elif isinstance(value, dict) and isinstance(norm, dict):
            norm = {k: norm.get(k, v) for k, v in value.items()}
        normalised.setdefault(topic, {})[name] = norm
    return normalised, problems


def apply_overrides(tree: dict, overrides: dict | None, origin: str | None = None) -> dict:
    """Return a copy of ``tree`` with ``overrides`` (``{topic: {name: value}}``) applied.

    An override may be a bare value or a mapping with ``value`` (and optionally ``source``/``note``
    to document the user's own figure); a mapping value (``epci_share``) is merged into the
    default. Every override is checked against data/assumptions_schema.yaml first; unknown topics
    or names and bad values are reported all at once (``origin``: the scenario file, if any).
    """
    normalised, problems = check_overrides(overrides, tree, origin)
    if problems:
        raise InputError(problems)
    out = copy.deepcopy(tree)
    for topic, entries in normalised.items():
        for name, value in entries.items():
            entry = out[topic][name]
            if _is_entry_form(value):
                entry.update(value)
            elif isinstance(entry["value"], dict) and isinstance(value, dict):
                entry["value"] = {**entry["value"], **value}
            else:
                entry["value"] = value
            entry.setdefault("source", "")
            if not (isinstance(value, dict) and "source" in value):
                entry["source"] = OVERRIDE_SOURCE
    return out
