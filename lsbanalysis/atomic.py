"""Replacing a published folder (the store, a report) without ever leaving it half-written.

``replace_dir`` swaps a complete new folder in with two renames. A process killed between
them leaves the target missing and its backup ``.<name>-previous-<pid>`` beside it; one killed
while writing leaves ``.<name>-building-*``. ``recover_dir`` (called by the next run, with the
run's lock held) puts the backup back and removes the leftovers.
"""

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


def backups_of(target: Path) -> list[Path]:
    """Backups of ``target`` left by an interrupted :func:`replace_dir`, newest last."""
    try:
        found = [p for p in target.parent.glob(f".{target.name}-previous-*") if p.is_dir()]
    except OSError:
        return []
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def leftovers_of(target: Path) -> list[Path]:
    """Half-written ``.<name>-building-*`` folders of interrupted runs."""
    try:
        return sorted(target.parent.glob(f".{target.name}-building-*"))
    except OSError:
        return []


def recover_dir(target: Path) -> list[str]:
    """Clean up after runs that were killed while writing or replacing ``target``.

    Call it with the run's lock held (no other run is then using these folders). When
    ``target`` is missing, the newest backup is renamed back to it; other backups and
    half-written folders are removed. Returns one line per action, for the user.
    """
    done: list[str] = []
    backups = backups_of(target)
    if backups and not target.exists():
        newest = backups.pop()
        newest.rename(target)
        done.append(
            f"{target} was missing (a previous run was stopped while replacing it); "
            f"restored from {newest.name}"
        )
    for stale in [*backups, *leftovers_of(target)]:
        shutil.rmtree(stale, ignore_errors=True)
        done.append(f"removed {stale.name}, left by a run that was stopped")
    return done
