"""Errors raised to users: French messages that say what is wrong and where."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where (file, row, column) and what (French message)."""

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"fichier « {self.file} »")
        if self.row is not None:
            where.append(f"ligne {self.row}")
        if self.column:
            where.append(f"colonne « {self.column} »")
        return (", ".join(where) + " : " if where else "") + self.message


class ModelError(Exception):
    """Base class of every error the model reports to a user."""


class InputError(ModelError, ValueError):
    """Invalid user input. Carries every problem found, so the user sees them all at once."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._format())

    def _format(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problèmes dans les données :"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class InfeasibleError(ModelError):
    """The allocation constraints cannot all hold; `diagnosis` says which groups conflict."""

    message: str
    diagnosis: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __str__(self) -> str:
        return self.message
