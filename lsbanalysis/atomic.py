"""Replacing a published folder (the store, a report) without ever leaving it half-written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def replace_dir(new: Path, target: Path) -> None:
    """Replace folder ``target`` by the complete folder ``new`` with two renames.

    Both live in the same parent, so each rename is atomic; if the second rename fails the
    previous ``target`` is put back.
    """
    if not target.exists():
        new.rename(target)
        return
    backup = target.with_name(f".{target.name}-previous-{os.getpid()}")
    target.rename(backup)
    try:
        new.rename(target)
    except BaseException:
        backup.rename(target)
        raise
    shutil.rmtree(backup, ignore_errors=True)
