"""The engine's error hierarchy: one base class, one subclass per kind of problem.

Pages catch :class:`CBError` in one place and show its message; anything else is a bug
and is not swallowed.
"""
from __future__ import annotations

from dataclasses import dataclass


class CBError(Exception):
    """Base of every error the engine raises on purpose (bad input, bad state).

    ``key`` (keyword) names the same message in the catalog ``data/i18n`` and ``params`` its
    parameters, so an app can say it in the user's language; the English message stays for logs
    and the command line. Without a key the message is all there is.
    """

    key: str | None = None
    params: dict = {}

    def __init__(self, *args: object, key: str | None = None, **params: object) -> None:
        super().__init__(*args)
        if key is not None:
            self.key = key
        if params:
            self.params = params


class ConfigError(CBError):
    """A setting or parameter is outside what it accepts."""


class DataSourceError(CBError):
    """A file, folder or database table could not be read at all (missing, undecodable, not a table)."""


@dataclass(frozen=True)
class Problem:
    """One broken rule in one table column, with the rows where it breaks."""

    table: str
    column: str
    rule: str
    rows: tuple[int, ...] = ()
    n_rows: int = 0
    example: str = ""

    def __str__(self) -> str:
        where = ""
        if self.n_rows:
            shown = ", ".join(str(r) for r in self.rows)
            more = f" (+{self.n_rows - len(self.rows)} more)" if self.n_rows > len(self.rows) else ""
            where = f" rows {shown}{more}:"
        example = f" e.g. {self.example!r}" if self.example else ""
        return f"{self.table}.{self.column}:{where} {self.rule}{example}"


class SchemaError(CBError):
    """Input tables break the data contract. ``problems`` lists every broken rule found."""

    def __init__(self, problems: list[Problem], message: str | None = None) -> None:
        self.problems = list(problems)
        # said in the user's language as a count above the table of problems (each rule translated)
        super().__init__(message or self.report(), key="err_schema_problems", n=len(self.problems))

    def report(self) -> str:
        lines = [f"{len(self.problems)} problem(s) in the input:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ModelError(CBError):
    """A model artifact is missing, corrupted or does not fit the data."""


class MissingFeaturesError(ModelError):
    """The data lacks features the model needs."""


class PolicyError(CBError):
    """A policy's cutoffs or bands are invalid."""


class ConflictError(CBError):
    """Someone else changed the same record first (optimistic locking)."""


class StoreUnavailableError(CBError):
    """The database cannot be reached, or is full; nothing was written."""


class StorageError(CBError):
    """A file could not be written (disk full, read-only, no permission); what was in use stays."""


class AuthError(CBError):
    """Login failed, the account is locked, or the role may not do this."""
