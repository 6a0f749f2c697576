"""Errors with messages a municipal analyst can act on."""

from __future__ import annotations

import errno
from pathlib import Path

#: Longest piece of user input echoed in a message (a 100,000-character name is cut).
SHOWN_INPUT = 60


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
    """A municipality name or NIS code that does not exist; suggests the closest names.

    ``hint`` replaces the suggestions with an explanation, e.g. that 02000 is a region.
    """

    def __init__(self, query: str, suggestions: list[str], hint: str | None = None) -> None:
        self.query = query
        self.suggestions = suggestions
        self.hint = hint
        if hint:
            extra = f" {hint}"
        elif suggestions:
            extra = f" Bedoelde u: {', '.join(s + '?' for s in suggestions)}"
        else:
            extra = ""
        super().__init__(f"Onbekende gemeente {shown(query)}.{extra}")

    def __reduce__(self):  # picklable (e.g. across worker processes)
        return (type(self), (self.query, self.suggestions, self.hint))

    def __str__(self) -> str:  # KeyError would repr() the message otherwise
        return self.args[0]


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGTERM); a KeyboardInterrupt for the clean-up code."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def shown(value: object, limit: int = SHOWN_INPUT) -> str:
    """User input as quoted in a message: its repr, cut to ``limit`` characters."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}…' ({len(str(value)):,} tekens)".replace(",", ".")


def shown_path(path: object, limit: int = 120) -> str:
    """A path for a message; an absurdly long one keeps its start and its end."""
    text = str(path)
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-half:]}"


_OS_ADVICE = {
    errno.ENOSPC: "de schijf is vol. Maak ruimte vrij of kies een andere map, en probeer opnieuw",
    errno.EDQUOT: "het schijfquotum is op. Maak ruimte vrij of kies een andere map",
    errno.EROFS: "dat bestandssysteem is alleen-lezen. Kies een map waarin geschreven mag worden",
    errno.EACCES: "geen toegang. Controleer de rechten of kies een andere map",
    errno.EPERM: "niet toegestaan. Controleer de rechten of kies een andere map",
    errno.ENOENT: "die map of dat bestand bestaat niet. Controleer het pad of maak de map aan",
    errno.ENAMETOOLONG: "de naam is te lang voor het bestandssysteem. Kies een kortere naam",
    errno.ENOTDIR: "een deel van dat pad is een bestand, geen map. Kies een andere map",
    errno.EEXIST: "er bestaat al een bestand met die naam. Kies een andere naam of map",
    errno.EISDIR: "dat is een map, geen bestand. Geef een bestandsnaam",
    errno.ELOOP: "het pad bevat een lus van symbolische koppelingen. Controleer het pad",
}


def os_error_advice(exc: OSError) -> str:
    """What is wrong and what to do, for an OSError: 'de schijf is vol. Maak ruimte vrij …'."""
    advice = _OS_ADVICE.get(exc.errno)
    return advice or f"{exc.strerror or type(exc).__name__} (foutcode {exc.errno})"


def os_error_message(exc: OSError, what: str | None = None) -> str:
    """One Dutch sentence for an environment fault: which path, what is wrong, what to do.

    E.g. "Kan /srv/reports/x.html niet schrijven: de schijf is vol. Maak ruimte vrij of kies
    een andere map, en probeer opnieuw." ``what`` names the thing when the error has no path.
    """
    path = exc.filename if exc.filename is not None else what
    verb = "niet schrijven" if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS) else (
        "niet gebruiken")
    where = shown_path(path) if path is not None else "een bestand"
    return f"Kan {where} {verb}: {os_error_advice(exc)}."
