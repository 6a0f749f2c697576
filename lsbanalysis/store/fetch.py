"""Place the raw official files in ``data/raw/``: from a local mirror or the publishers' URLs.

Every file is checked against the sha256 in the source manifest before it is moved into place
(a temporary file beside the target, then a rename), so a corrupt, truncated or different
edition never enters the pipeline and a file already in place is never half-overwritten. Where
the publisher ships an archive (``archive_member``), the member is unpacked and checked.

Downloads run in parallel within one total time budget (``timeout``): a connection that goes
quiet for ``STALL_TIMEOUT_S`` is dropped, and a host that stopped answering fails its other
files at once, so a hanging network fails in about half a minute with one message listing
every file that could not be fetched, instead of half an hour of timeouts one after another.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
from filelock import FileLock, Timeout
from tqdm.auto import tqdm

from lsbanalysis import __version__
from lsbanalysis.errors import ChecksumError, LsbError
from lsbanalysis.sources import Source, SourceFile, load_manifest, sha256_of
from lsbanalysis.store.faults import fs_error

#: Total time for all downloads of one fetch, in seconds (``lsb data fetch --timeout``).
DEFAULT_TIMEOUT_S = 300.0
#: A connection that neither connects nor delivers a byte for this long is given up.
STALL_TIMEOUT_S = 30.0
#: Downloads at the same time.
DEFAULT_JOBS = 4
#: Extra seconds to wait for workers to report their own timeout after the budget ends.
_GRACE_S = 2.0
_CHUNK = 1 << 16


class _Budget:
    """The time left for a whole fetch, and the hosts that stopped answering within it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self._dead: dict[str, str] = {}
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise LsbError(
                f"{what}: gave up, the time for the whole fetch ({self.seconds:g} s, "
                "--timeout) ran out"
            )

    def mark_dead(self, host: str, why: str) -> None:
        with self._lock:
            self._dead.setdefault(host, why)

    def dead(self, host: str) -> str | None:
        with self._lock:
            return self._dead.get(host)


def url_file_name(url: str) -> str:
    """The file name an address ends in (``…/REFNIS%20code/TU_COM_REFNIS.zip`` → the zip)."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def fetch_file(
    source: Source,
    file: SourceFile,
    raw_dir: Path,
    mirror: Path | None,
    *,
    budget: _Budget | None = None,
) -> tuple[Path, str]:
    """Fetch one file into ``raw_dir``; returns its path and 'present', 'mirror' or 'download'."""
    raw_dir = Path(raw_dir)
    budget = budget or _Budget(DEFAULT_TIMEOUT_S)
    target = raw_dir / file.path
    if target.is_file() and sha256_of(target) == file.sha256:
        return target, "present"
    if mirror is not None:
        origin, where = "mirror", str(Path(mirror) / file.path)
    elif file.url:
        origin, where = "download", file.url
    else:
        raise LsbError(
            f"{file.name} ({source.title}) has no direct download address. Download it from "
            f"{source.page} and place it at {target}, or use --mirror DIR."
        )
    budget.check(file.name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise _raw_fs_error(exc, target.parent, f"place {file.name}") from exc
    parts = [Path(name)]
    try:
        if origin == "mirror":
            _copy_from_mirror(Path(mirror), file, parts[0])  # type: ignore[arg-type]
        else:
            _download(source, file, target, parts[0], budget)
        data = parts[0]
        if file.archive_member and origin == "download":
            data = _unpack(file, parts[0], target)
            parts.append(data)
        found = sha256_of(data)
        if found != file.sha256:
            raise ChecksumError(
                f"{file.name}: the file from {where} does not have the sha256 in the source "
                f"manifest ({file.sha256[:12]}…, found {found[:12]}…); it may be a newer "
                f"edition. The file in {raw_dir} was left as it was."
            )
        os.replace(data, target)
    except OSError as exc:
        raise _raw_fs_error(exc, target.parent, f"write {file.name}") from exc
    finally:
        for part in parts:
            with contextlib.suppress(OSError):
                part.unlink()
    return target, origin


def _raw_fs_error(exc: OSError, path: Path, doing: str) -> LsbError:
    return fs_error(exc, path, doing, intact="Files already in place are unchanged.",
                    option="--raw", error=LsbError)


def _copy_from_mirror(mirror: Path, file: SourceFile, dest: Path) -> None:
    src = mirror / file.path
    if not src.is_file():
        raise LsbError(f"{src} is not in the mirror {mirror}")
    shutil.copyfile(src, dest)


def _download(source: Source, file: SourceFile, target: Path, dest: Path,
              budget: _Budget) -> None:
    """Stream ``file.url`` into ``dest`` within the budget; errors name the file and URL."""
    url = file.url or ""
    host = urlsplit(url).netloc
    hint = "" if file.url_confirmed else " (this address could not be confirmed)"
    advice = f"Download it from {source.page} and place it at {target}, or use --mirror DIR."
    down = budget.dead(host)
    if down:
        raise LsbError(f"{file.name}: not tried, {host} {down}. {advice}")
    # A wrong answer (an HTML page, another file) must not fill the disk.
    limit = max(10 * file.bytes, 50_000_000)
    try:
        stall = min(STALL_TIMEOUT_S, max(budget.remaining(), 0.1))
        with requests.get(url, stream=True, timeout=(stall, stall),
                          headers={"User-Agent": f"lsbanalysis/{__version__}"}) as response:
            response.raise_for_status()
            size = 0
            with open(dest, "wb") as out:
                for chunk in response.iter_content(_CHUNK):
                    budget.check(f"{file.name} (download from {url})")
                    size += len(chunk)
                    if size > limit:
                        raise LsbError(
                            f"{file.name}: {url} sends more than {limit:,} bytes where about "
                            f"{file.bytes:,} were expected; not this file. {advice}"
                        )
                    out.write(chunk)
    except (requests.Timeout, requests.ConnectionError) as exc:
        if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
            budget.mark_dead(host, f"did not answer within {stall:g} s for another file")
        raise LsbError(
            f"{file.name}: download from {url}{hint} failed ({_short(exc)}). {advice}"
        ) from exc
    except requests.HTTPError as exc:
        raise LsbError(
            f"{file.name}: {url}{hint} answered {exc.response.status_code} "
            f"{exc.response.reason}. {advice}"
        ) from exc
    except requests.RequestException as exc:
        raise LsbError(
            f"{file.name}: download from {url}{hint} failed ({_short(exc)}). {advice}"
        ) from exc


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "…"


def _unpack(file: SourceFile, archive: Path, target: Path) -> Path:
    """Extract ``file.archive_member`` from the downloaded zip next to ``target``."""
    member_name = file.archive_member or ""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            wanted = [i for i in members if Path(i.filename).name.lower()
                      == member_name.lower()]
            if len(wanted) != 1:
                raise LsbError(
                    f"{file.name}: the archive from {file.url} has no member {member_name!r} "
                    f"(it holds {[i.filename for i in members][:10]}); the publisher may have "
                    "changed the download. Update archive_member in sources.toml."
                )
            info = wanted[0]
            if info.file_size != file.bytes:
                raise ChecksumError(
                    f"{file.name}: member {info.filename} of the archive from {file.url} has "
                    f"{info.file_size:,} bytes, the source manifest {file.bytes:,}; it may be a "
                    "newer edition."
                )
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".member",
                                        dir=target.parent)
            with os.fdopen(fd, "wb") as out, zf.open(info) as src:
                shutil.copyfileobj(src, out)
            return Path(name)
    except zipfile.BadZipFile as exc:
        raise LsbError(
            f"{file.name}: {file.url} did not send a zip archive ({exc}); the address may "
            "have changed."
        ) from exc


def fetch_all(
    raw_dir: Path,
    mirror: Path | None = None,
    *,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
    jobs: int = DEFAULT_JOBS,
    sources: Sequence[Source] | None = None,
) -> dict:
    """Fetch every file of the manifest (``sources``: another list, for tests); counts per origin.

    All files are tried, ``jobs`` at a time, within ``timeout`` seconds in all; then one error
    lists every file that failed (a file that is not what the manifest says first).
    """
    raw_dir = Path(raw_dir)
    files = [(s, f) for s in (sources if sources is not None else load_manifest())
             for f in s.files]
    try:
        raw_dir.mkdir(parents=True, exist_ok=True)
        lock_path = raw_dir.parent / f".{raw_dir.name}.fetch.lock"
        lock_path.touch(exist_ok=True)
    except OSError as exc:
        raise _raw_fs_error(exc, raw_dir, "create the raw data folder") from exc
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise LsbError(
            f"another `lsb data fetch` is placing files in {raw_dir} (it holds {lock_path}); "
            "wait until it has finished, then run again."
        ) from None
    budget = _Budget(timeout)
    bar = tqdm(total=len(files), desc="lsb data fetch", unit="bestand", disable=not progress)

    def work(item: tuple[Source, SourceFile]) -> str:
        source, file = item
        return fetch_file(source, file, raw_dir, mirror, budget=budget)[1]

    try:
        _remove_partial_files(raw_dir, files)
        done = _run_parallel(files, work, jobs, budget.deadline + _GRACE_S, bar.update)
    finally:
        bar.close()
        lock.release()
    counts: dict[str, int] = {}
    failures: list[LsbError] = []
    for i, (_source, file) in enumerate(files):
        if i not in done:
            failures.append(LsbError(
                f"{file.name}: no answer before the time for the whole fetch "
                f"({timeout:g} s, --timeout) ran out"))
            continue
        origin, exc = done[i]
        if exc is None:
            counts[origin] = counts.get(origin, 0) + 1
        elif isinstance(exc, LsbError):  # try every file, then report all that failed
            failures.append(exc)
        else:
            failures.append(LsbError(f"{file.name}: {type(exc).__name__}: {_short(exc)}"))
    if failures:
        if len(failures) == 1:
            raise failures[0]
        more = f"\n(en nog {len(failures) - 10})" if len(failures) > 10 else ""
        # A file that is not what the manifest says is the more serious problem: name it first.
        failures.sort(key=lambda exc: not isinstance(exc, ChecksumError))
        listed = "\n".join(f"- {exc}" for exc in failures[:10])
        error = ChecksumError if isinstance(failures[0], ChecksumError) else LsbError
        raise error(
            f"{len(failures)} van de {len(files)} bestanden konden niet opgehaald worden "
            f"(bestanden die al klaarstonden bleven ongewijzigd):\n{listed}{more}"
        )
    return counts


def _remove_partial_files(raw_dir: Path, files: list[tuple[Source, SourceFile]]) -> None:
    """Temporary files of a fetch that was stopped (we hold the lock: none is in use)."""
    for _, file in files:
        folder = (raw_dir / file.path).parent
        if folder.is_dir():
            for suffix in (".part", ".member"):
                for stale in folder.glob(f".{file.name}.*{suffix}"):
                    with contextlib.suppress(OSError):
                        stale.unlink()


def _run_parallel(items: list, work: Callable, jobs: int, wait_until: float,
                  tick: Callable[[], object]) -> dict[int, tuple[object, BaseException | None]]:
    """``work(item)`` in ``jobs`` daemon threads; the results that arrived by ``wait_until``.

    Daemon threads, because a download stuck where no timeout reaches (a DNS lookup) must not
    keep the process alive after the fetch has given up.
    """
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for job in enumerate(items):
        todo.put(job)
    results: queue.SimpleQueue = queue.SimpleQueue()

    def worker() -> None:
        while True:
            try:
                i, item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results.put((i, work(item), None))
            except BaseException as exc:  # reported by the caller, per file
                results.put((i, None, exc))

    for _ in range(max(1, min(jobs, len(items)))):
        threading.Thread(target=worker, name="lsb-fetch", daemon=True).start()
    done: dict[int, tuple[object, BaseException | None]] = {}
    while len(done) < len(items):
        left = wait_until - time.monotonic()
        if left <= 0:
            break
        try:
            i, value, exc = results.get(timeout=left)
        except queue.Empty:
            break
        done[i] = (value, exc)
        tick()
    return done
