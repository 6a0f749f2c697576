"""Build the processed store from the raw official files: raw → tidy, validated Parquet.

Before any work the build takes the store's lock (two builds of one store never collide),
cleans up after a build that was killed (a missing store is put back from its backup,
half-written folders are removed), and compares every raw file's sha256 with the source
manifest: a changed file stops the build unless ``accept_new_editions`` is given. It then
reads every source (in worker processes that die with the build), checks that each file is
the edition the manifest declares (``[source.expect]``: year, language, table ...), validates
the observations, checks every NIS code against the REFNIS geography of its source, writes the
store to a temporary folder and only then replaces the previous store. A failed or stopped
build never leaves a half-written store behind; environment faults (a full disk, a read-only
file system, a name too long) become a StoreError saying what happened and what is intact.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout
from tqdm.auto import tqdm

from lsbanalysis import __version__
from lsbanalysis.atomic import recover_dir, replace_dir
from lsbanalysis.errors import ChecksumError, LsbError, SourceFormatError, StoreError
from lsbanalysis.sources import Source, load_manifest, sha256_of
from lsbanalysis.store import io
from lsbanalysis.store.editions import check_edition
from lsbanalysis.store.faults import fs_error
from lsbanalysis.store.schema import validate_observations
from lsbanalysis.workers import die_with_parent, signals_as_exceptions, stop_workers

ACCEPT_OPTION = "--accept-new-edition"


class BuildInterrupted(StoreError):
    """The build was stopped by a signal (SIGTERM, SIGHUP) and cleaned up after itself."""


def locate(source: Source, raw_dir: Path) -> list[Path]:
    """Paths of a source's files below ``raw_dir``; fails listing every missing file."""
    paths = [raw_dir / f.path for f in source.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise StoreError(
            f"source {source.id!r} ({source.title}): missing raw file(s) {missing}. "
            f"Place them with `lsb data fetch --raw {raw_dir}` (or --mirror DIR)."
        )
    return paths


def _file(paths: list[Path], stem: str) -> Path:
    for p in paths:
        if p.name.startswith(stem):
            return p
    raise StoreError(f"no file starting with {stem!r} among {[p.name for p in paths]}")


def _pinc_files(raw_dir: Path) -> dict[str, Path]:
    src = next(s for s in load_manifest() if s.reader == "pinc_lookups")
    return {Path(f.path).stem.removeprefix("pinc_"): p for f, p in zip(
        src.files, locate(src, raw_dir), strict=True)}


def _pinc_names(raw_dir: Path) -> pd.DataFrame:
    """Municipality names of the 2025 map (and PinC placeholders), to attach codes to names."""
    from lsbanalysis.readers import pinc_lookups

    return pinc_lookups.read_codes_names(_pinc_files(raw_dir)["gemeente_2025_codes_names"])


# --- tasks: each runs in a worker process and returns picklable results -------------------


def _read_observations(source: Source, raw_dir: Path) -> pd.DataFrame:
    """Read one source, check its edition and validate its rows (in the worker, in parallel)."""
    path = raw_dir / source.files[0].path
    with _unexpected_errors(f"file {path.name}", path):
        frame = _read_source(source, raw_dir)
    check_edition(source, frame, path)
    frame.insert(0, "source", source.id)
    try:
        validate_observations(frame)
    except Exception as exc:  # pandera SchemaErrors: list every failing check
        raise StoreError(
            f"{source.files[0].name}: the rows read do not pass validation:\n{exc}"
        ) from exc
    frame.attrs.clear()  # reader notes were for the check above, not for the store
    return frame


@contextlib.contextmanager
def _unexpected_errors(what: str, path: Path | None = None) -> Iterator[None]:
    """A reader failing in a way it does not foresee still names the file it was reading."""
    try:
        yield
    except LsbError:
        raise
    except MemoryError:
        raise StoreError(f"{what}: not enough memory to read it; retry with --jobs 1") from None
    except Exception as exc:
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        if path is not None:
            raise SourceFormatError(
                path, f"could not be read ({reason}); the file may be damaged or of an "
                "unexpected layout"
            ) from exc
        raise StoreError(f"{what} could not be read ({reason})") from exc


def _read_source(source: Source, raw_dir: Path) -> pd.DataFrame:
    (path,) = locate(source, raw_dir)
    if source.reader == "fiscal_income":
        from lsbanalysis.readers import fiscal_income as reader
    elif source.reader == "income_bands":
        from lsbanalysis.readers import income_bands as reader
    elif source.reader == "real_estate":
        from lsbanalysis.readers import real_estate as reader
    elif source.reader == "population":
        from lsbanalysis.readers import population as reader
    elif source.reader == "population_structure":
        from lsbanalysis.readers import population_structure as reader
    elif source.reader == "jobseekers":
        from lsbanalysis.readers import jobseekers, pinc_lookups

        names_file = _pinc_files(raw_dir)["gemeente_2025_codes_names"]
        names = pinc_lookups.read_codes_names(names_file)
        return jobseekers.read(path, municipality_names=names)
    elif source.reader == "vacancies":
        from lsbanalysis.readers import vacancies

        return vacancies.read(path, municipality_names=_pinc_names(raw_dir))
    elif source.reader == "pinc_csv":
        from lsbanalysis.readers import pinc_csv

        # The export (its expected indicator labels) is the source id of the manifest.
        return pinc_csv.read(path, export=source.id, municipality_names=_pinc_names(raw_dir))
    elif source.reader == "admin_income":
        from lsbanalysis.readers import admin_income as reader
    elif source.reader == "building_permits":
        from lsbanalysis.readers import building_permits as reader
    else:
        raise StoreError(f"source {source.id!r}: no reader named {source.reader!r}")
    return reader.read(path)


def _read_geography(raw_dir: Path) -> dict[str, pd.DataFrame]:
    from lsbanalysis.readers import pinc_lookups, refnis

    manifest = {s.id: s for s in load_manifest()}

    def read(source_id: str, reader):
        source = manifest[source_id]
        path = locate(source, raw_dir)[0]
        with _unexpected_errors(f"file {path.name}", path):
            frame = reader(path)
        check_edition(source, frame, path)
        return frame

    history = read("statbel_refnis_history", refnis.read_history)
    s2019 = read("statbel_refnis_2019", refnis.read_structure)
    s2025 = read("statbel_refnis_2025", refnis.read_structure)
    with _unexpected_errors("the REFNIS geography and the Provincies in Cijfers tables"):
        geography = _readable_names(refnis.build_geography(history, s2019, s2025), history)
        tables = pinc_lookups.read(_pinc_files(raw_dir))
        crosswalk = refnis.municipality_crosswalk(
            tables["gemeente2024_to_gemeente2025"], geography=geography
        )
    return {"geography": geography, "crosswalk": crosswalk}


def _readable_names(geography: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Higher levels as written in the REFNIS history ("Provincie Antwerpen"), not in capitals.

    The REFNIS structure files write regions, provinces and arrondissements in capitals
    ("PROVINCIE ANTWERPEN"); the history file has the usual spelling for the same codes.
    """
    latest = history.sort_values("valid_from").drop_duplicates("nis", keep="last")
    nl = dict(zip(latest["nis"], latest["name_nl"], strict=True))
    fr = dict(zip(latest["nis"], latest["name_fr"], strict=True))
    nl["01000"], fr["01000"] = "België", "Belgique"
    higher = geography["level"] != "municipality"
    geography = geography.copy()
    geography.loc[higher, "name_nl"] = geography.loc[higher, "nis"].map(nl).fillna(
        geography.loc[higher, "name_nl"])
    geography.loc[higher, "name_fr"] = geography.loc[higher, "nis"].map(fr).fillna(
        geography.loc[higher, "name_fr"])
    return geography


def _read_boundaries(raw_dir: Path) -> dict[str, object]:
    from lsbanalysis.readers import boundaries

    src = next(s for s in load_manifest() if s.reader == "boundaries")
    paths = locate(src, raw_dir)
    shapefiles = {
        p.stem.removeprefix("flanders_brussels_"): p for p in paths if p.suffix == ".shp"
    }
    before_2019 = shapefiles.pop("municipalities_2018")
    # The layers' feature counts (boundaries.LAYERS) identify their edition: 304 municipalities
    # in 2025, 319 in 2019-2024, ... so a swapped layer fails in the reader.
    with _unexpected_errors("the boundary shapefiles"):
        layers = boundaries.read(shapefiles)
        return {
            "boundaries": boundaries.simplify(layers),
            "neighbours": boundaries.neighbours(layers),
            "crosswalk": boundaries.merger_links(before_2019, layers),
        }


# --- orchestration -------------------------------------------------------------------------


def check_codes(observations: pd.DataFrame, geography: pd.DataFrame, raw_dir: Path) -> None:
    """Every observation's NIS code must exist in the REFNIS geography its source uses."""
    known = set(zip(geography["geo_version"], geography["nis"], strict=True))
    keys = observations.loc[
        observations["level"] != "community", ["source", "geo_version", "nis"]
    ].drop_duplicates()
    unknown = keys[[(g, n) not in known for g, n in zip(keys["geo_version"], keys["nis"],
                                                         strict=True)]]
    if len(unknown):
        first = unknown.iloc[0]
        src = next(s for s in load_manifest() if s.id == first["source"])
        codes = ", ".join(sorted(unknown.loc[unknown["source"] == first["source"], "nis"])[:10])
        raise SourceFormatError(
            raw_dir / src.files[0].path,
            f"unknown NIS code(s) {codes}: not in the REFNIS geography {first['geo_version']} "
            "that this source is published in",
        )


#: Tasks that read more than one source: which sources each covers (for reading changed
#: files first).
_TASK_SOURCES = {
    "geography": ("statbel_refnis_history", "statbel_refnis_2019", "statbel_refnis_2025",
                  "pinc_lookups"),
    "boundaries": ("pinc_boundaries",),
}


def build_store(
    raw_dir: Path,
    out_dir: Path,
    *,
    jobs: int | None = None,
    progress: bool = True,
    accept_new_editions: bool = False,
    lock_timeout: float = 0,
    say: Callable[[str], None] | None = None,
) -> dict:
    """Rebuild the store in ``out_dir`` from the raw files in ``raw_dir``; returns its manifest.

    A raw file whose sha256 differs from ``sources.toml`` stops the build (ChecksumError,
    before anything is read) unless ``accept_new_editions``; an accepted file must still be
    the edition ``[source.expect]`` declares, and its old and new sha256 and the date are
    recorded in the store's manifest (a later build of the same store accepts that same file
    again). ``lock_timeout``: seconds to wait for another build of ``out_dir`` to finish.
    ``say`` receives notes (clean-up after an interrupted build). On any error, or when the
    build is stopped (Ctrl-C, SIGTERM), the previous store in ``out_dir`` is left untouched.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    say = say or (lambda _line: None)
    sources = load_manifest()

    def interrupted(signame: str) -> BuildInterrupted:
        return BuildInterrupted(
            f"lsb data build was stopped ({signame}) before it finished; the store in "
            f"{out_dir} was left as it was."
        )

    with signals_as_exceptions(interrupted), _store_lock(out_dir, lock_timeout):
        try:
            for line in recover_dir(out_dir):
                say(line)
        except OSError as exc:
            raise _fs_error(exc, out_dir.parent, "clean up after an interrupted build") from exc
        _check_out_dir(out_dir)
        _check_raw_dir(raw_dir)
        for src in sources:  # fail fast, before starting any work, on missing files
            locate(src, raw_dir)
        actual = _raw_checksums(sources, raw_dir)
        changed = _check_editions_changed(sources, actual, out_dir, accept_new_editions)
        results = _read_all(sources, raw_dir, jobs, progress, first={c["source"]
                                                                   for c in changed.values()})
        obs_sources = [s for s in sources if s.role == "observations"]
        observations = pd.concat([results[s.id] for s in obs_sources], ignore_index=True)
        geo = results["geography"]
        check_codes(observations, geo["geography"], raw_dir)
        bounds = results["boundaries"]
        # 1977 → 2019 links come from the boundaries, 2019 → 2025 from the lookup tables.
        geo["crosswalk"] = pd.concat([bounds["crosswalk"], geo["crosswalk"]], ignore_index=True)
        manifest = _manifest(sources, raw_dir, observations, actual, changed)
        _write_atomically(out_dir, observations, geo, bounds, manifest)
    return manifest


def _read_all(
    sources: tuple[Source, ...], raw_dir: Path, jobs: int | None, progress: bool,
    first: set[str],
) -> dict[str, object]:
    """Run every reading task (in ``jobs`` worker processes); the results by task name."""
    obs_sources = [s for s in sources if s.role == "observations"]
    # Changed (newly accepted) files first, so a wrong one fails at once; then the longest
    # tasks first so two workers finish together (boundaries ~1.4 s, the quarterly prices
    # ~1.3 s, fiscal income ~0.8 s, each population-structure year ~0.5 s).
    order = {"real_estate": 0, "fiscal_income": 1, "population_structure": 2}
    tasks: list[tuple[str, Callable, tuple]] = [("boundaries", _read_boundaries, (raw_dir,))]
    tasks += [
        (s.id, _read_observations, (s, raw_dir))
        for s in sorted(obs_sources, key=lambda s: order.get(s.reader, 9))
    ]
    tasks.insert(3, ("geography", _read_geography, (raw_dir,)))
    tasks.sort(key=lambda t: not (first & set(_TASK_SOURCES.get(t[0], (t[0],)))))
    jobs = jobs or min(2, os.cpu_count() or 1)
    results: dict[str, object] = {}
    bar = tqdm(total=len(tasks), desc="lsb data build", unit="bron", disable=not progress)
    try:
        if jobs > 1:
            pool = ProcessPoolExecutor(
                max_workers=jobs, initializer=die_with_parent, initargs=(os.getpid(),)
            )
            try:
                futures = {pool.submit(func, *args): name for name, func, args in tasks}
                for fut in as_completed(futures):
                    name = futures[fut]
                    try:
                        results[name] = fut.result()
                    except BrokenProcessPool as exc:
                        raise StoreError(
                            f"a worker process of the build died while reading {name!r} (out "
                            "of memory, or killed); nothing was written. Retry, with --jobs 1 "
                            "if memory is short."
                        ) from exc
                    bar.set_postfix_str(name)
                    bar.update()
            except BaseException:
                # Report the first failure (or the interruption) now: stop the other workers
                # instead of letting them read every other source first.
                stop_workers(pool)
                raise
            pool.shutdown(wait=True)
        else:
            for name, func, args in tasks:
                results[name] = func(*args)
                bar.set_postfix_str(name)
                bar.update()
    finally:
        bar.close()
    return results


# --- checksums and declared editions -------------------------------------------------------


def _raw_checksums(sources: tuple[Source, ...], raw_dir: Path) -> dict[str, str]:
    actual = {}
    for src in sources:
        for f in src.files:
            try:
                actual[f.path] = sha256_of(raw_dir / f.path)
            except OSError as exc:
                raise StoreError(
                    f"raw file {raw_dir / f.path} cannot be read ({exc.strerror})."
                ) from exc
    return actual


def _accepted_before(out_dir: Path) -> dict[str, dict]:
    """Files whose new edition the current store's manifest records as accepted, by path."""
    try:
        manifest = io.read_manifest(out_dir)
    except LsbError:
        return {}
    return {
        f["path"]: f
        for s in manifest["sources"]
        for f in s["files"]
        if isinstance(f, dict) and f.get("accepted_at") and "path" in f
    }


def _check_editions_changed(
    sources: tuple[Source, ...], actual: dict[str, str], out_dir: Path, accept: bool
) -> dict[str, dict]:
    """Raw files that differ from sources.toml, if accepted (now or by an earlier build).

    Returns, by path: the source id, the manifest's sha256 and the date of acceptance.
    Raises ChecksumError listing every changed file that is not accepted.
    """
    before = _accepted_before(out_dir)
    today = datetime.now(UTC).date().isoformat()
    changed: dict[str, dict] = {}
    refused = []
    for src in sources:
        for f in src.files:
            found = actual[f.path]
            if found == f.sha256:
                continue
            earlier = before.get(f.path, {})
            if earlier.get("sha256") == found and earlier.get("manifest_sha256") == f.sha256:
                when = earlier["accepted_at"]
            elif accept:
                when = today
            else:
                refused.append(f"- {f.path} (source {src.id}, {src.edition}): sources.toml "
                               f"declares sha256 {f.sha256}, the file has {found}")
                continue
            changed[f.path] = {"source": src.id, "manifest_sha256": f.sha256, "accepted_at": when}
    if refused:
        raise ChecksumError(
            f"{len(refused)} raw file(s) differ from the edition in sources.toml; nothing was "
            f"built and the store in {out_dir} is unchanged:\n" + "\n".join(refused) + "\n"
            "Put the right file(s) back (`lsb data fetch`), or, if the publisher released a "
            f"new edition, run `lsb data build {ACCEPT_OPTION}`: each changed file must then "
            "still be the edition sources.toml declares (year, language, table), and its new "
            "sha256 is recorded in the store's manifest.json."
        )
    return changed


def _manifest(
    sources, raw_dir: Path, observations: pd.DataFrame, actual: dict[str, str],
    changed: dict[str, dict],
) -> dict:
    counts = observations.groupby("source", observed=True).agg(
        rows=("value", "size"),
        measures=("measure", "nunique"),
        first_period=("period", "min"),
        last_period=("period", "max"),
        suppressed=("status", lambda s: int((s == "suppressed").sum())),
        missing=("status", lambda s: int((s == "missing").sum())),
    )
    entries = []
    for src in sources:
        files = []
        for f in src.files:
            entry = {
                "name": f.name,
                "path": f.path,
                "sha256": actual[f.path],
                "bytes": (raw_dir / f.path).stat().st_size,
                "matches_manifest": actual[f.path] == f.sha256,
            }
            if f.path in changed:  # a new edition, accepted: keep both checksums and the date
                entry["manifest_sha256"] = changed[f.path]["manifest_sha256"]
                entry["accepted_at"] = changed[f.path]["accepted_at"]
            files.append(entry)
        entry = {
            "id": src.id,
            "title": src.title,
            "publisher": src.publisher,
            "edition": src.edition,
            "attribution": src.attribution,
            "licence": src.licence,
            "page": src.page,
            "role": src.role,
            "geo_version": src.geo_version,
            "files": files,
        }
        if src.id in counts.index:
            row = counts.loc[src.id]
            entry.update({k: (int(v) if k not in ("first_period", "last_period") else str(v))
                          for k, v in row.items()})
        entries.append(entry)
    return {
        "store_format": io.STORE_FORMAT,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "lsbanalysis_version": __version__,
        "sources": entries,
    }


# --- the store folder: lock, checks, atomic write, environment faults ---------------------


@contextlib.contextmanager
def _store_lock(out_dir: Path, timeout: float) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside the store: one build of a store at a time."""
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        lock_path.touch(exist_ok=True)
    except OSError as exc:
        raise _fs_error(exc, out_dir.parent, "create the store folder", out_dir=out_dir) from exc
    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(
            f"another `lsb data build` is writing {out_dir} (it holds {lock_path}); wait until "
            "it has finished, then run again."
        ) from None
    try:
        yield
    finally:
        lock.release()


def _check_out_dir(out_dir: Path) -> None:
    """Refuse an ``--out`` that is not a store: replacing it would throw its contents away."""
    try:
        if not out_dir.exists():
            return
        if not out_dir.is_dir():
            raise StoreError(f"{out_dir} is a file; --out must be a folder for the store.")
        entries = list(out_dir.iterdir())
    except OSError as exc:
        raise _fs_error(exc, out_dir, "read the store folder", out_dir=out_dir) from exc
    # The new store takes the folder's place and keeps its loose files (README.md); a
    # sub-folder would be lost, and a folder of other files is not a store.
    folders = sorted(p.name for p in entries if p.is_dir())
    names = {p.name for p in entries}
    foreign = names - set(io.STORE_FILES) - {"README.md"}
    if folders or (foreign and not names & set(io.STORE_FILES)):
        why = f"it holds folder(s) {folders[:3]}" if folders else (
            f"it holds {sorted(foreign)[:3]} and no store file")
        raise StoreError(
            f"{out_dir} is not a processed store ({why}); the build replaces the whole folder, "
            "so choose a new or empty folder for --out."
        )


def _check_raw_dir(raw_dir: Path) -> None:
    try:
        exists = raw_dir.is_dir()
    except OSError as exc:
        raise _fs_error(exc, raw_dir, "open the raw data folder", option="--raw") from exc
    if not exists:
        raise StoreError(f"raw data folder {raw_dir} does not exist; run `lsb data fetch` first")


def _fs_error(
    exc: OSError, path: Path, doing: str, *, out_dir: Path | None = None, option: str = "--out"
) -> StoreError:
    """:func:`faults.fs_error`, saying whether the previous store in ``out_dir`` is intact."""
    intact = ""
    if out_dir is not None:
        with contextlib.suppress(OSError):
            if (out_dir / io.MANIFEST_FILE).is_file():
                intact = f"The previous store in {out_dir} is intact."
    return fs_error(exc, path, doing, intact=intact, option=option, need="about 5 MB, twice "
                    "that while the store is replaced")


def _write_atomically(out_dir: Path, observations, geo, bounds, manifest: dict) -> None:
    """Write the store to a temporary folder beside ``out_dir``, then swap it in.

    The files are written deterministically (same frames, same bytes); their sha256 go into
    the manifest (``store_files``) so that a damaged copy is found on load.
    """
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-building-", dir=out_dir.parent))
    except OSError as exc:
        raise _fs_error(exc, out_dir.parent, "create the store folder", out_dir=out_dir) from exc
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the store is meant to be shared and committed
        obs = observations.copy()
        for col in io.CATEGORICAL:
            obs[col] = obs[col].astype("category")
        io.write_table(obs, tmp / io.OBSERVATIONS_FILE)
        io.write_table(geo["geography"], tmp / io.GEOGRAPHY_FILE)
        io.write_table(geo["crosswalk"], tmp / io.CROSSWALK_FILE)
        io.write_table(bounds["neighbours"], tmp / io.NEIGHBOURS_FILE)
        bounds["boundaries"].to_parquet(tmp / io.BOUNDARIES_FILE, compression="zstd", index=False)
        manifest["store_files"] = {
            name: {"sha256": sha256_of(tmp / name), "bytes": (tmp / name).stat().st_size}
            for name in io.STORE_FILES
            if name != io.MANIFEST_FILE
        }
        io.write_manifest(tmp, manifest)
        if out_dir.exists():  # keep files that are not part of the store (README.md)
            for extra in out_dir.iterdir():
                if extra.name not in io.STORE_FILES and extra.is_file():
                    shutil.copy2(extra, tmp / extra.name)
        replace_dir(tmp, out_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _fs_error(exc, tmp.parent, "write the store", out_dir=out_dir) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = ["build_store", "check_codes", "locate", "BuildInterrupted", "LsbError"]
