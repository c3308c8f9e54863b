"""Errors raised to users: French messages that say what is wrong and where."""

from __future__ import annotations

import errno
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


class OutputError(ModelError):
    """An output path that cannot be written safely: refused (it holds other files, it is the
    current folder, it holds the inputs), unwritable, or the disk is full. ``path`` is the path
    the user gave."""

    def __init__(self, message: str, path=None):
        super().__init__(message)
        self.path = path


#: French wording of the operating-system errors a user can fix (errno name -> text).
_OS_ERRORS_FR = {
    "ENOSPC": "disque plein",
    "EDQUOT": "quota de disque dépassé",
    "EACCES": "accès refusé (droits insuffisants)",
    "EPERM": "opération non permise (droits insuffisants)",
    "EROFS": "le disque est en lecture seule",
    "ENOTDIR": "un élément du chemin est un fichier, pas un dossier",
    "EISDIR": "c'est un dossier, pas un fichier",
    "ENOENT": "fichier ou dossier introuvable",
    "EEXIST": "le fichier ou dossier existe déjà",
    "ENOTEMPTY": "le dossier n'est pas vide",
    "ENAMETOOLONG": "nom de fichier trop long",
    "ELOOP": "trop de liens symboliques",
    "EBUSY": "fichier ou dossier occupé par un autre programme",
    "EXDEV": "déplacement impossible entre deux disques",
    "EIO": "erreur d'entrée-sortie du disque",
    "EMFILE": "trop de fichiers ouverts",
    "ETXTBSY": "fichier occupé par un autre programme",
}


def os_error_reason(exc: OSError) -> str:
    """What went wrong, in French (« disque plein », « accès refusé ... »)."""
    name = errno.errorcode.get(exc.errno or -1, "")
    return _OS_ERRORS_FR.get(name) or exc.strerror or type(exc).__name__


def os_error_fr(exc: OSError, path=None) -> str:
    """A French sentence for an operating-system error, naming the file the system names (else
    ``path``, the one the user gave)."""
    where = exc.filename if exc.filename is not None else path
    if where is None:
        return f"erreur du système de fichiers : {os_error_reason(exc)}"
    also = f" (vers « {exc.filename2} »)" if exc.filename2 is not None else ""
    return f"« {where} »{also} : {os_error_reason(exc)}"
