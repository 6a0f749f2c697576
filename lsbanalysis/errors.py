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

    def __reduce__(self):
        # Picklable with all fields, so the error crosses the build's worker processes intact
        # (the default would call __init__ with the message only and fail).
        return (
            _rebuild_source_format_error,
            (type(self), self.path, self.problem, self.sheet, self.row, self.column),
        )


def _rebuild_source_format_error(cls, path, problem, sheet, row, column):
    return cls(path, problem, sheet=sheet, row=row, column=column)


class EditionError(SourceFormatError):
    """A raw file has the right layout but is another edition than the manifest declares.

    For example ``fisc2016_C_NL.xls`` copied over ``fisc2022_C_NL.xls``: the reader finds
    income year 2016 in the file's own title where ``[source.expect]`` declares 2022.
    """


class ChecksumError(LsbError):
    """A raw file's sha256 differs from the one in the source manifest."""


class ManifestError(LsbError):
    """The source manifest (``sources.toml``) is malformed or asks what no reader reports."""


class StoreError(LsbError):
    """The processed store is missing, incomplete or of an unexpected version."""


class UnknownMunicipalityError(LsbError, KeyError):
    """A municipality name or NIS code that does not exist; suggests the closest names."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f" Bedoelde u: {', '.join(s + '?' for s in suggestions)}" if suggestions else ""
        super().__init__(f"Onbekende gemeente {query!r}.{hint}")

    def __reduce__(self):  # picklable (e.g. across worker processes)
        return (type(self), (self.query, self.suggestions))

    def __str__(self) -> str:  # KeyError would repr() the message otherwise
        return self.args[0]
