"""Errors with messages a municipal analyst can act on."""

from __future__ import annotations

from pathlib import Path


class LsbError(Exception):
    """Base class for all errors raised by lsbanalysis."""


class SourceFormatError(LsbError):
    """A raw file does not have the layout its reader expects.

    The message always names the file and, where known, the sheet, row and column,
    and what was expected instead.
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.problem = problem
        self.sheet = sheet
        self.row = row
        self.column = column
        where = [f"file {self.path.name}"]
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            # Report 1-based rows, as a spreadsheet user sees them.
            where.append(f"row {row + 1}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {problem}")


class ChecksumError(LsbError):
    """A raw file's sha256 differs from the one in the source manifest."""


class StoreError(LsbError):
    """The processed store is missing, incomplete or of an unexpected version."""


class UnknownMunicipalityError(LsbError, KeyError):
    """A municipality name or NIS code that does not exist; suggests the closest names."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f" Bedoelde u: {', '.join(s + '?' for s in suggestions)}" if suggestions else ""
        super().__init__(f"Onbekende gemeente {query!r}.{hint}")

    def __str__(self) -> str:  # KeyError would repr() the message otherwise
        return self.args[0]
