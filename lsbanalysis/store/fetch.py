"""Place the raw official files in ``data/raw/``: from a local mirror or the publishers' URLs.

Every file is checked against the sha256 in the source manifest (pooch does the download,
the checksum and the atomic move into place), so a corrupt or different edition never
silently enters the pipeline.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pooch
from tqdm.auto import tqdm

from lsbanalysis.errors import ChecksumError, LsbError
from lsbanalysis.sources import Source, SourceFile, load_manifest, sha256_of


def _copy_from(mirror: Path):
    """A pooch downloader that copies from the local mirror instead of the network."""

    def download(url: str, output_file, pooch_obj, check_only: bool = False) -> bool | None:
        src = mirror / url.removeprefix("mirror://")
        if check_only:
            return src.exists()
        if not src.exists():
            raise FileNotFoundError(f"{src} is not in the mirror {mirror}")
        with open(src, "rb") as fin:
            if isinstance(output_file, str | Path):
                with open(output_file, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
            else:
                shutil.copyfileobj(fin, output_file)
        return None

    return download


def fetch_file(
    source: Source, file: SourceFile, raw_dir: Path, mirror: Path | None
) -> tuple[Path, str]:
    """Fetch one file into ``raw_dir``; returns its path and 'present', 'mirror' or 'download'."""
    target = raw_dir / file.path
    if target.exists() and sha256_of(target) == file.sha256:
        return target, "present"
    if mirror is not None:
        url, downloader = f"mirror://{file.path}", _copy_from(Path(mirror))
        origin = "mirror"
    elif file.url:
        url, downloader, origin = file.url, None, "download"
    else:
        raise LsbError(
            f"{file.name} ({source.title}) has no direct download address. Download it from "
            f"{source.page} and place it at {target}, or use --mirror DIR."
        )
    try:
        pooch.retrieve(
            url,
            known_hash=f"sha256:{file.sha256}",
            fname=target.name,
            path=target.parent,
            downloader=downloader,
            progressbar=origin == "download",
        )
    except ValueError as exc:
        if "hash" in str(exc).lower():
            raise ChecksumError(
                f"{file.name}: the file from {url} does not have the sha256 in the source "
                f"manifest ({file.sha256[:12]}…); it may be a newer edition. {exc}"
            ) from exc
        raise
    except FileNotFoundError as exc:
        raise LsbError(str(exc)) from exc
    except OSError as exc:  # network errors (requests' exceptions are OSErrors too)
        hint = "" if file.url_confirmed else " (this address could not be confirmed)"
        raise LsbError(
            f"{file.name}: download from {url}{hint} failed: {exc}. Download it from "
            f"{source.page} and place it at {target}, or use --mirror DIR."
        ) from exc
    return target, origin


def fetch_all(raw_dir: Path, mirror: Path | None = None, *, progress: bool = True) -> dict:
    """Fetch every file of the manifest; returns counts per origin."""
    raw_dir = Path(raw_dir)
    files = [(s, f) for s in load_manifest() for f in s.files]
    counts: dict[str, int] = {}
    failures: list[LsbError] = []
    for source, file in tqdm(files, desc="lsb data fetch", unit="bestand", disable=not progress):
        try:
            _, origin = fetch_file(source, file, raw_dir, mirror)
        except LsbError as exc:  # try every file, then report all that failed
            failures.append(exc)
            continue
        counts[origin] = counts.get(origin, 0) + 1
    if failures:
        if len(failures) == 1:
            raise failures[0]
        more = f"\n(en nog {len(failures) - 5})" if len(failures) > 5 else ""
        # A file that is not what the manifest says is the more serious problem: name it first.
        failures.sort(key=lambda exc: not isinstance(exc, ChecksumError))
        listed = "\n".join(f"- {exc}" for exc in failures[:5])
        error = ChecksumError if isinstance(failures[0], ChecksumError) else LsbError
        raise error(
            f"{len(failures)} van de {len(files)} bestanden konden niet opgehaald worden:\n"
            f"{listed}{more}"
        )
    return counts
