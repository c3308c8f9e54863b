"""Inputs and results of the allocation LP, and the checks run before building it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from model.errors import InputError, Problem

#: Money is expressed in millions of euros inside every LP (toolchain.md §2, CBC scaling bug).
SCALE_EUR = 1e6
#: The closed set of constraint groups (style.md, "LP names").
GROUPS = ("balance", "usage_lower", "usage_upper", "standalone", "incremental", "burden")
#: Separator of LP names: ``{group}__{pool}__{commune}``.
SEP = "__"
#: Two amounts closer than this (euros) are treated as equal when reporting binding constraints.
TIGHT_EUR = 0.005


@dataclass(frozen=True)
class AllocationInputs:
    """Everything the allocation LP needs for one year, in euros.

    Attributes
    ----------
    to_split : index ``pool``; euros the communes pay in total for each pool (EPCI share removed).
    standalone : ``commune`` x pool; stand-alone cost ``SA_ip`` (euros, >= 0).
    incremental : ``commune`` x pool; incremental cost ``C_p(N) - C_p(N \\ {i})`` (euros).
    usage_share : ``commune`` x pool; usage key ``k_ip``, each column sums to 1.
    capacity : index ``commune``; ability to pay (euros > 0), potentiel financier by default.
    band : ``(lo, hi)`` multipliers around the usage share.
    names : optional ``commune -> display name`` used in French explanations.
    burden_cap : optional ceiling on every commune's burden (ratio of its capacity): the
        ability-to-pay bound ``sum_p x_ip <= cap * capacity_i``, i.e. ``t <= cap``.
    """

    to_split: pd.Series
    standalone: pd.DataFrame
    incremental: pd.DataFrame
    usage_share: pd.DataFrame
    capacity: pd.Series
    band: tuple[float, float] = (0.5, 2.0)
    names: pd.Series | None = None
    burden_cap: float | None = None

    @property
    def communes(self) -> pd.Index:
        return self.standalone.index

    @property
    def pools(self) -> pd.Index:
        return self.to_split.index

    @cached_property
    def _name_of(self) -> dict:
        return {} if self.names is None else self.names.to_dict()

    def label(self, commune: str) -> str:
        """Display name of a commune (``name (code)``), or its code when no name is known."""
        name = self._name_of.get(commune)
        return f"{name} ({commune})" if name is not None else str(commune)


@dataclass
class AllocationResult:
    """What `allocate_lp` returns. Money in euros; `amounts` is cent-rounded and balances exactly."""

    amounts: pd.DataFrame
    status: str
    max_burden: float
    burden: pd.Series
    binding: pd.DataFrame
    diagnosis: pd.DataFrame
    solver: str
    solve_seconds: float
    leximin_rounds: int
    #: The unrounded LP solution (euros), for cross-checks between solver paths.
    raw: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Burden level at which each commune was fixed (ratio) and the leximin round that fixed it.
    levels: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Arrays:
    """The inputs as aligned numpy arrays (commune-major), money in millions of euros."""

    communes: pd.Index
    pools: pd.Index
    total: np.ndarray  # (P,) to_split
    lower: np.ndarray  # (n, P) usage band floor
    upper: np.ndarray  # (n, P) usage band ceiling
    standalone: np.ndarray  # (n,) sum_p SA_ip
    incremental: np.ndarray  # (n,) sum_p inc_ip
    capacity: np.ndarray  # (n,)
    usage: np.ndarray  # (n, P) k_ip * to_split_p (the usage-key amounts)
    burden_cap: float = np.inf  # ceiling on t (ratio); inf when there is none


def check_inputs(inputs: AllocationInputs) -> None:
    """Collect every problem in `inputs` and raise one `InputError` (French messages)."""
    problems: list[Problem] = []
    communes, pools = inputs.communes, inputs.pools
    if inputs.to_split.index.has_duplicates or communes.has_duplicates:
        problems.append(Problem("Codes de communes ou de pools en double."))
    for name in ("standalone", "incremental", "usage_share"):
        frame = getattr(inputs, name)
        if not frame.index.equals(communes):
            problems.append(Problem("Les communes ne sont pas les mêmes partout.", column=name))
        if set(frame.columns) != set(pools):
            problems.append(Problem("Les pools ne correspondent pas à `to_split`.", column=name))
        elif not np.isfinite(frame[list(pools)].to_numpy(dtype=float)).all():
            problems.append(Problem("Valeur manquante ou non finie.", column=name))
    if set(inputs.capacity.index) != set(communes):
        problems.append(Problem("La capacité doit être donnée pour chaque commune.", column="capacity"))
    elif not (inputs.capacity.reindex(communes).to_numpy(dtype=float) > 0).all():
        problems.append(Problem("La capacité doit être strictement positive.", column="capacity"))
    if not (np.isfinite(inputs.to_split.to_numpy(dtype=float)).all() and (inputs.to_split >= 0).all()):
        problems.append(Problem("Le montant à répartir doit être positif ou nul.", column="to_split"))
    if not problems:
        if (inputs.standalone.to_numpy(dtype=float) < 0).any():
            problems.append(Problem("Un coût isolé est négatif.", column="standalone"))
        shares = inputs.usage_share[list(pools)]
        if (shares.to_numpy(dtype=float) < 0).any():
            problems.append(Problem("Une part d'usage est négative.", column="usage_share"))
        bad = [p for p in pools if abs(float(shares[p].sum()) - 1.0) > 1e-6]
        if bad:
            problems.append(Problem(
                f"Les parts d'usage ne somment pas à 1 pour : {', '.join(map(str, bad))}.",
                column="usage_share"))
    lo, hi = inputs.band
    if not 0 <= lo <= hi:
        problems.append(Problem(f"Bande d'usage invalide ({lo}, {hi}) : il faut 0 ≤ bas ≤ haut.",
                                column="band"))
    cap = inputs.burden_cap
    if cap is not None and not (np.isfinite(cap) and cap > 0):
        problems.append(Problem(f"Plafond de charge invalide ({cap}) : il faut un ratio > 0.",
                                column="burden_cap"))
    if problems:
        raise InputError(problems)


def to_arrays(inputs: AllocationInputs) -> Arrays:
    """Aligned arrays in millions of euros (checks the inputs first)."""
    check_inputs(inputs)
    communes, pools = inputs.communes, inputs.pools
    cols = list(pools)
    total = inputs.to_split.to_numpy(dtype=float) / SCALE_EUR
    share = inputs.usage_share.reindex(index=communes, columns=cols).to_numpy(dtype=float)
    usage = share * total
    lo, hi = inputs.band
    sa = inputs.standalone.reindex(columns=cols).to_numpy(dtype=float).sum(axis=1) / SCALE_EUR
    inc = inputs.incremental.reindex(index=communes, columns=cols).to_numpy(dtype=float)
    return Arrays(
        communes=communes,
        pools=pools,
        total=total,
        lower=lo * usage,
        upper=hi * usage,
        standalone=sa,
        incremental=np.maximum(inc.sum(axis=1), 0.0) / SCALE_EUR,
        capacity=inputs.capacity.reindex(communes).to_numpy(dtype=float) / SCALE_EUR,
        usage=usage,
        burden_cap=np.inf if inputs.burden_cap is None else float(inputs.burden_cap),
    )


def lp_name(group: str, pool: str, commune: str) -> str:
    """``{group}__{pool}__{commune}``; ``pool`` is ``""`` for commune-level groups."""
    return f"{group}{SEP}{pool}{SEP}{commune}"
