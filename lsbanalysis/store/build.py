"""Build the processed store from the raw official files: raw → tidy, validated Parquet.

The build reads every source of the manifest (in two worker processes), validates the combined
observations, checks every NIS code against the REFNIS geography of its source, writes the store
to a temporary folder and only then replaces the previous store, so a failed build never leaves
a half-written store behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from lsbanalysis import __version__
from lsbanalysis.atomic import replace_dir
from lsbanalysis.errors import LsbError, SourceFormatError, StoreError
from lsbanalysis.sources import Source, load_manifest, sha256_of
from lsbanalysis.store import io
from lsbanalysis.store.schema import validate_observations


def locate(source: Source, raw_dir: Path) -> list[Path]:
    """Paths of a source's files below ``raw_dir``; fails listing every missing file."""
    paths = [raw_dir / f.path for f in source.files]
    missing = [str(p) for p in paths if not p.exists()]
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
    """Read one source and validate its rows (in the worker, so sources validate in parallel)."""
    frame = _read_source(source, raw_dir)
    frame.insert(0, "source", source.id)
    try:
        validate_observations(frame)
    except Exception as exc:  # pandera SchemaErrors: list every failing check
        raise StoreError(
            f"{source.files[0].name}: the rows read do not pass validation:\n{exc}"
        ) from exc
    return frame


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
    history = refnis.read_history(locate(manifest["statbel_refnis_history"], raw_dir)[0])
    s2019 = refnis.read_structure(locate(manifest["statbel_refnis_2019"], raw_dir)[0])
    s2025 = refnis.read_structure(locate(manifest["statbel_refnis_2025"], raw_dir)[0])
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


def build_store(
    raw_dir: Path,
    out_dir: Path,
    *,
    jobs: int | None = None,
    progress: bool = True,
) -> dict:
    """Rebuild the store in ``out_dir`` from the raw files in ``raw_dir``; returns its manifest.

    On any error the previous store in ``out_dir`` is left untouched.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not raw_dir.is_dir():
        raise StoreError(f"raw data folder {raw_dir} does not exist; run `lsb data fetch` first")
    sources = load_manifest()
    obs_sources = [s for s in sources if s.role == "observations"]
    for src in sources:  # fail fast, before starting any work, on missing files
        locate(src, raw_dir)

    # Longest tasks first so two workers finish together (boundaries ~1.4 s, the quarterly
    # prices ~1.3 s, fiscal income ~0.8 s, each population-structure year ~0.5 s).
    order = {"real_estate": 0, "fiscal_income": 1, "population_structure": 2}
    tasks: list[tuple[str, Callable, tuple]] = [("boundaries", _read_boundaries, (raw_dir,))]
    tasks += [
        (s.id, _read_observations, (s, raw_dir))
        for s in sorted(obs_sources, key=lambda s: order.get(s.reader, 9))
    ]
    tasks.insert(3, ("geography", _read_geography, (raw_dir,)))
    jobs = jobs or min(2, os.cpu_count() or 1)
    results: dict[str, object] = {}
    bar = tqdm(total=len(tasks) + 1, desc="lsb data build", unit="bron", disable=not progress)
    try:
        if jobs > 1:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(func, *args): name for name, func, args in tasks}
                try:
                    for fut in as_completed(futures):
                        name = futures[fut]
                        results[name] = fut.result()
                        bar.set_postfix_str(name)
                        bar.update()
                except BaseException:
                    # Report the first failure now instead of reading every other source first.
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        else:
            for name, func, args in tasks:
                results[name] = func(*args)
                bar.set_postfix_str(name)
                bar.update()
    except BaseException:
        bar.close()
        raise

    observations = pd.concat([results[s.id] for s in obs_sources], ignore_index=True)
    geo = results["geography"]
    check_codes(observations, geo["geography"], raw_dir)
    bounds = results["boundaries"]
    # 1977 → 2019 links come from the boundaries, 2019 → 2025 from the lookup tables.
    geo["crosswalk"] = pd.concat([bounds["crosswalk"], geo["crosswalk"]], ignore_index=True)
    bar.set_postfix_str("schrijven")

    manifest = _manifest(sources, raw_dir, observations)
    _write_atomically(out_dir, observations, geo, bounds, manifest)
    bar.update()
    bar.close()
    return manifest


def _manifest(sources, raw_dir: Path, observations: pd.DataFrame) -> dict:
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
            actual = sha256_of(raw_dir / f.path)
            files.append(
                {
                    "name": f.name,
                    "path": f.path,
                    "sha256": actual,
                    "bytes": (raw_dir / f.path).stat().st_size,
                    "matches_manifest": actual == f.sha256,
                }
            )
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


def _write_atomically(out_dir: Path, observations, geo, bounds, manifest: dict) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-building-", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the store is meant to be shared and committed
    try:
        obs = observations.copy()
        for col in io.CATEGORICAL:
            obs[col] = obs[col].astype("category")
        io.write_table(obs, tmp / io.OBSERVATIONS_FILE)
        io.write_table(geo["geography"], tmp / io.GEOGRAPHY_FILE)
        io.write_table(geo["crosswalk"], tmp / io.CROSSWALK_FILE)
        io.write_table(bounds["neighbours"], tmp / io.NEIGHBOURS_FILE)
        bounds["boundaries"].to_parquet(tmp / io.BOUNDARIES_FILE, compression="zstd", index=False)
        io.write_manifest(tmp, manifest)
        if out_dir.exists():  # keep files that are not part of the store (README.md)
            for extra in out_dir.iterdir():
                if extra.name not in io.STORE_FILES and extra.is_file():
                    shutil.copy2(extra, tmp / extra.name)
        replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = ["build_store", "check_codes", "locate", "LsbError"]
