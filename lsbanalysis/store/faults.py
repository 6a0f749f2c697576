"""File-system faults (full disk, read-only, no permission, name too long) as one sentence."""

from __future__ import annotations

import errno
from pathlib import Path

from lsbanalysis.errors import LsbError, StoreError


def is_disk_full(exc: OSError) -> bool:
    """ENOSPC/EDQUOT, also when a library (pyarrow) reports it only in its message."""
    text = str(exc).lower()
    return exc.errno in (errno.ENOSPC, errno.EDQUOT) or "no space left" in text or (
        "errno 28" in text)


def fs_error(
    exc: OSError,
    path: Path,
    doing: str,
    *,
    intact: str = "",
    option: str = "--out",
    need: str = "",
    error: type[LsbError] = StoreError,
) -> LsbError:
    """What failed (``could not {doing}``), where, what is intact, and what to do.

    ``intact`` is a sentence about what was kept ("The previous store in … is intact.");
    ``option`` the command-line option that chooses another place; ``need`` how much space.
    """
    intact = f" {intact}" if intact else ""
    reason = exc.strerror or " ".join(str(exc).split())
    if is_disk_full(exc):
        room = f" (it needs {need})" if need else ""
        return error(
            f"the disk is full: could not {doing} in {path} ({reason}).{intact} Free some "
            f"space{room} and run again."
        )
    if exc.errno == errno.EROFS:
        return error(
            f"{path} is on a read-only file system: could not {doing}.{intact} Choose another "
            f"{option}."
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return error(
            f"no permission to {doing} in {path}.{intact} Choose another {option} or make the "
            "folder writable."
        )
    if exc.errno == errno.ENAMETOOLONG:
        return error(
            f"the path {path} is too long for the file system (names of at most 255 "
            f"characters): could not {doing}.{intact} Choose a shorter {option}."
        )
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return error(
            f"part of the path {path} is a file, not a folder: could not {doing}.{intact} "
            f"Choose another {option}."
        )
    return error(f"could not {doing} in {path} ({reason}).{intact}")
