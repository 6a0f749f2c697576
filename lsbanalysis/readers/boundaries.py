"""Boundaries of Flemish and Brussels municipalities, arrondissements, provinces and regions.

Source: the Provincies in Cijfers area-level shapefiles ("gebiedsniveaus", on the basis of
Statbel), see ``boundaries/SOURCES.md`` in the raw-data mirror. They cover the Flemish and the
Brussels-Capital Region only (no Wallonia), in EPSG:31370 (Belgian Lambert 72), in two
municipal geographies: ``"2025"`` (304 municipalities, after the 2025 Flemish mergers) and
``"2019"`` (319 municipalities, valid 2019-2024).

Three functions:

* :func:`read` reads and validates the layers into one GeoDataFrame with the columns in
  :data:`COLUMNS` (full, unsimplified geometry).
* :func:`simplify` makes a compact copy for maps (coverage-preserving simplification, so
  neighbouring areas keep sharing their borders exactly).
* :func:`neighbours` lists the municipalities that share a border, computed on the unsimplified
  geometry.

Conventions:

* ``level`` is the layer a feature comes from, not :func:`lsbanalysis.nis.level_of` of its
  code: the province layers include the Brussels-Capital Region (``04000``) as a
  province-equivalent, so ``04000`` appears with level ``"province"`` (province layers) and with
  level ``"region"`` (region layer). The key of a row is (``level``, ``geo_version``, ``nis``).
* The region layer belongs to both geographies (regional borders did not change). It is
  returned twice, once with ``geo_version`` ``"2025"`` and once with ``"2019"``, so that
  filtering on one ``geo_version`` always yields a complete set of layers. The region file is
  drawn like the 2025 layers; the 2019-2024 layers were digitised slightly differently (other
  vertices, a different coastline: 3.8 km² symmetric difference in all, 0.03 %). So when the
  2019-2024 provinces are read too, the 2019 regions are those provinces dissolved (02000 =
  the five Flemish provinces, 04000 = Brussels), which nests exactly in the 2019 layers;
  otherwise the region file's geometry is used for 2019 as well.
* ``name_nl`` is the name as the layer spells it (e.g. ``"Antwerpen (Prov.)"``) or None where
  the layer carries no names (arrondissements 2025, regions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.nis import level_of, normalise_nis

#: Output columns of :func:`read` and :func:`simplify`.
COLUMNS = ["nis", "level", "geo_version", "name_nl", "geometry"]
#: Coordinate reference system of all output: Belgian Lambert 72.
CRS_EPSG = 31370
#: Output columns of :func:`neighbours`.
NEIGHBOUR_COLUMNS = ["geo_version", "nis", "neighbour_nis"]
LEVEL_ORDER = ("region", "province", "arrondissement", "municipality")
GEO_VERSIONS = ("2025", "2019")

#: Default simplification tolerance (Visvalingam-Whyatt: roughly the square root of the area of
#: the triangles removed, in metres). Chosen by measurement on the 2025/2019 layers: all layers
#: together take ~0.8 MB as zstd GeoParquet, no municipality changes area by more than 0.1 %.
DEFAULT_TOLERANCE_M = 25.0
#: Default grid the simplified coordinates are snapped to, in metres (invisible on an A4 map;
#: it is what shrinks the GeoParquet file most).
DEFAULT_GRID_M = 1.0
#: Default minimum length of a shared border for two municipalities to count as neighbours.
#: Excludes municipalities that only meet in a corner point (quadripoints).
DEFAULT_MIN_SHARED_BORDER_M = 10.0


@dataclass(frozen=True)
class LayerSpec:
    """What one shapefile must contain."""

    filename: str
    level: str
    geo_versions: tuple[str, ...]
    code_column: str
    name_column: str | None
    expected_count: int
    description: str


#: The layers :func:`read` understands, by key of its ``paths`` argument.
LAYERS: dict[str, LayerSpec] = {
    "municipalities_2025": LayerSpec(
        "flanders_brussels_municipalities_2025.shp",
        "municipality",
        ("2025",),
        "geoitem",
        "naam",
        304,
        "municipalities since 2025 (285 Flemish + 19 Brussels)",
    ),
    "municipalities_2019_2024": LayerSpec(
        "flanders_brussels_municipalities_2019_2024.shp",
        "municipality",
        ("2019",),
        "gemeente",
        "naam",
        319,
        "municipalities 2019-2024 (300 Flemish + 19 Brussels)",
    ),
    "arrondissements_2025": LayerSpec(
        "flanders_brussels_arrondissements_2025.shp",
        "arrondissement",
        ("2025",),
        "arrondiss",
        None,
        23,
        "arrondissements (22 Flemish + Brussel)",
    ),
    "arrondissements_2019_2024": LayerSpec(
        "flanders_brussels_arrondissements_2019_2024.shp",
        "arrondissement",
        ("2019",),
        "arrondiss",
        "naam",
        23,
        "arrondissements (22 Flemish + Brussel)",
    ),
    "provinces_2025": LayerSpec(
        "flanders_brussels_provinces_2025.shp",
        "province",
        ("2025",),
        "provincie",
        "name",
        6,
        "provinces (5 Flemish provinces + the Brussels-Capital Region)",
    ),
    "provinces_2019_2024": LayerSpec(
        "flanders_brussels_provinces_2019_2024.shp",
        "province",
        ("2019",),
        "provincie",
        "naam",
        6,
        "provinces (5 Flemish provinces + the Brussels-Capital Region)",
    ),
    "regions": LayerSpec(
        "flanders_brussels_regions.shp",
        "region",
        ("2025", "2019"),
        "gewest",
        None,
        2,
        "regions (Flemish Region 2000 + Brussels-Capital Region 4000)",
    ),
}

# The Brussels-Capital Region stands in for a province in the province layers.
_ALLOWED_EXTRA_LEVELS = {"province": {"region"}}


def layer_paths(folder: Path) -> dict[str, Path]:
    """The ``paths`` argument for :func:`read`: every known layer in ``folder``.

    ``folder`` is the ``boundaries/`` directory of the raw-data mirror.
    """
    return {key: Path(folder) / spec.filename for key, spec in LAYERS.items()}


# --------------------------------------------------------------------------------------------
# Reading


def read(paths: dict[str, Path]) -> gpd.GeoDataFrame:
    """Read and validate boundary layers into one GeoDataFrame in EPSG:31370.

    ``paths`` maps layer keys of :data:`LAYERS` (e.g. ``"municipalities_2025"``) to the ``.shp``
    files; any non-empty subset of the keys may be given. Returns the columns of
    :data:`COLUMNS`, sorted by ``geo_version`` (2025 first), level (region to municipality) and
    ``nis``. Geometry is as published (made valid where needed), not simplified.

    Raises SourceFormatError naming the file when a shapefile or one of its sidecar files is
    missing, empty or truncated, has no CRS, lacks the code or name column, has an invalid or
    duplicate NIS code, an empty or non-polygonal geometry, or an unexpected number of features.
    """
    if not paths:
        raise ValueError(f"no boundary layers given; expected some of {sorted(LAYERS)}")
    unknown = sorted(set(paths) - set(LAYERS))
    if unknown:
        raise ValueError(f"unknown boundary layer(s) {unknown}; expected some of {sorted(LAYERS)}")
    layers = {key: _read_layer(Path(path), LAYERS[key]) for key, path in paths.items()}
    frames = []
    for key, layer in layers.items():
        for version in LAYERS[key].geo_versions:
            if key == "regions" and version == "2019" and "provinces_2019_2024" in layers:
                layer = _regions_from_provinces(layer, layers["provinces_2019_2024"])
            frames.append(layer.assign(geo_version=version))
    out = pd.concat(frames, ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=CRS_EPSG)
    return _sorted(out)[COLUMNS]


def _regions_from_provinces(
    regions: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The regions with their geometry replaced by the dissolved provinces of one geography."""
    geoms = np.asarray(provinces.geometry.array, dtype=object)
    is_brussels = (provinces["nis"] == "04000").to_numpy()
    dissolved = {
        "04000": shapely.coverage_union_all(geoms[is_brussels]),
        "02000": shapely.coverage_union_all(geoms[~is_brussels]),
    }
    out = regions.copy()
    out["geometry"] = [dissolved[code] for code in out["nis"]]
    return out


def _sorted(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    order = pd.DataFrame(
        {
            "v": gdf["geo_version"].map({v: i for i, v in enumerate(GEO_VERSIONS)}),
            "l": gdf["level"].map({lv: i for i, lv in enumerate(LEVEL_ORDER)}),
            "n": gdf["nis"],
        }
    ).sort_values(["v", "l", "n"], kind="stable")
    return gdf.loc[order.index].reset_index(drop=True)


def _sidecar(shp: Path, ext: str) -> Path | None:
    for cand in (shp.with_suffix(ext), shp.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    return None


def _read_layer(path: Path, spec: LayerSpec) -> gpd.GeoDataFrame:
    """One validated layer with columns nis, level, name_nl, geometry (no geo_version yet)."""
    what = f"a shapefile of {spec.description}"
    if not path.exists():
        raise SourceFormatError(path, f"file not found; expected {what}")
    if path.stat().st_size == 0:
        raise SourceFormatError(path, f"file is empty (0 bytes); expected {what}")
    for ext, role in ((".shx", "index"), (".dbf", "attribute table")):
        side = _sidecar(path, ext)
        if side is None:
            raise SourceFormatError(
                path.with_suffix(ext),
                f"{role} file of {path.name} not found; a shapefile needs its {ext} next to "
                f"the .shp",
            )
        if side.stat().st_size == 0:
            raise SourceFormatError(side, f"{role} file is empty (0 bytes); expected {what}")
    try:
        raw = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises DataSourceError, FeatureError, ... for bad files
        raise SourceFormatError(
            path, f"cannot be read as {what} ({type(exc).__name__}: {exc})"
        ) from exc

    # Attribute columns.
    required = [c for c in (spec.code_column, spec.name_column) if c is not None]
    for col in required:
        if col not in raw.columns:
            present = [c for c in raw.columns if c != raw.geometry.name]
            raise SourceFormatError(
                path, f"expected column {col!r}; the layer has columns {present}", column=col
            )

    # Feature count: truncated attribute tables and other editions show up here.
    if len(raw) == 0:
        raise SourceFormatError(path, f"layer has no features; expected {spec.expected_count}")
    if len(raw) != spec.expected_count:
        raise SourceFormatError(
            path,
            f"expected {spec.expected_count} features ({spec.description}), found {len(raw)}; "
            "the file may be truncated or from another edition",
        )

    # CRS.
    if raw.crs is None:
        prj = _sidecar(path, ".prj")
        why = "the .prj file is missing" if prj is None else f"{prj.name} is not understood"
        raise SourceFormatError(
            path, f"no coordinate reference system ({why}); expected EPSG:{CRS_EPSG}"
        )
    if raw.crs.to_epsg() != CRS_EPSG:
        raw = raw.to_crs(CRS_EPSG)

    codes = _codes(raw[spec.code_column], path=path, spec=spec)
    geometry = _geometry(raw.geometry.values, path=path, codes=codes)
    if spec.name_column is None:
        names = pd.Series([None] * len(raw), dtype=object)
    else:
        names = raw[spec.name_column].astype(object).where(raw[spec.name_column].notna(), None)
        names = names.map(lambda n: n.strip() if isinstance(n, str) else n)
    return gpd.GeoDataFrame(
        {
            "nis": pd.Series(codes, dtype=str),
            "level": spec.level,
            "name_nl": names.to_numpy(dtype=object),
        },
        geometry=geometry,
        crs=CRS_EPSG,
    )


def _codes(cells: pd.Series, *, path: Path, spec: LayerSpec) -> list[str]:
    """Normalised NIS codes; fail on invalid codes, codes of another level and duplicates."""
    allowed = {spec.level} | _ALLOWED_EXTRA_LEVELS.get(spec.level, set())
    codes: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(cells.to_numpy(dtype=object)):
        try:
            code = normalise_nis(cell)
        except ValueError as exc:
            raise SourceFormatError(
                path,
                f"{exc}; expected the NIS code of one of the {spec.level}s",
                row=i,
                column=spec.code_column,
            ) from None
        if level_of(code) not in allowed:
            raise SourceFormatError(
                path,
                f"NIS code {code} is a {level_of(code)} code; expected {spec.level} codes",
                row=i,
                column=spec.code_column,
            )
        if code in seen:
            raise SourceFormatError(
                path,
                f"NIS code {code} occurs twice (records {seen[code] + 1} and {i + 1}); "
                "expected one feature per code",
                row=i,
                column=spec.code_column,
            )
        seen[code] = i
        codes.append(code)
    return codes


def _geometry(geoms: np.ndarray, *, path: Path, codes: list[str]) -> np.ndarray:
    """Polygonal, valid, non-empty geometries; fail (naming the feature) otherwise."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        bad = np.flatnonzero(missing)
        raise SourceFormatError(
            path,
            f"{len(bad)} of {len(geoms)} features have no geometry (first: NIS {codes[bad[0]]}); "
            "the .shp file is probably truncated or damaged",
            row=int(bad[0]),
        )
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure")
    types = shapely.get_type_id(geoms)
    # 3 = Polygon, 6 = MultiPolygon.
    odd = ~np.isin(types, (3, 6))
    if odd.any():
        first = int(np.flatnonzero(odd)[0])
        raise SourceFormatError(
            path,
            f"feature with NIS {codes[first]} is a {geoms[first].geom_type}; "
            "expected a (multi)polygon",
            row=first,
        )
    return geoms


# --------------------------------------------------------------------------------------------
# Simplification for maps


def simplify(
    gdf: gpd.GeoDataFrame,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    *,
    grid_m: float | None = DEFAULT_GRID_M,
    max_area_change: float = 0.01,
) -> gpd.GeoDataFrame:
    """Compact copy of :func:`read`'s output for maps, with shared borders kept shared.

    Each (level, geo_version) layer is simplified as one polygon coverage with
    ``shapely.coverage_simplify`` (Visvalingam-Whyatt; ``tolerance_m`` is roughly the square
    root of the area, in m², of the triangles removed), so neighbouring areas keep identical
    borders: no slivers or gaps. Coordinates are then snapped to a ``grid_m`` metre grid (None:
    not snapped). With shapely < 2.1 (no coverage simplification) geometries are only snapped to
    the grid, which keeps borders shared but the output larger.

    Raises ValueError if a simplified area differs by ``max_area_change`` (fraction) or more
    from the original; lower ``tolerance_m`` then.
    """
    out = gdf.copy()
    if out.crs is None or out.crs.to_epsg() != CRS_EPSG:
        raise ValueError(f"expected geometry in EPSG:{CRS_EPSG}, got {out.crs}")
    geoms = np.asarray(out.geometry.array, dtype=object)
    result = geoms.copy()
    have_coverage = hasattr(shapely, "coverage_simplify")
    groups = out.groupby(["level", "geo_version"], sort=False).indices
    for idx in groups.values():
        part = geoms[idx]
        if have_coverage and tolerance_m > 0:
            part = shapely.coverage_simplify(part, tolerance_m)
        if grid_m:
            part = shapely.set_precision(part, grid_m)
        result[idx] = part
    invalid = ~shapely.is_valid(result)
    if invalid.any():
        result[invalid] = shapely.make_valid(result[invalid], method="structure")
    before = shapely.area(geoms)
    change = np.abs(shapely.area(result) / before - 1.0)
    too_much = change >= max_area_change
    if too_much.any():
        worst = int(np.argmax(change))
        raise ValueError(
            f"simplification with tolerance {tolerance_m} m changes the area of "
            f"{int(too_much.sum())} areas by {max_area_change:.0%} or more (worst: "
            f"{out['level'].iloc[worst]} {out['nis'].iloc[worst]}, {change[worst]:.1%}); "
            "use a smaller tolerance"
        )
    out = out.set_geometry(gpd.GeoSeries(result, index=out.index, crs=out.crs))
    return out


# --------------------------------------------------------------------------------------------
# Neighbours


def neighbours(
    gdf: gpd.GeoDataFrame, min_shared_border_m: float = DEFAULT_MIN_SHARED_BORDER_M
) -> pd.DataFrame:
    """Pairs of municipalities sharing a border longer than ``min_shared_border_m`` metres.

    Pass the UNSIMPLIFIED output of :func:`read`; only its ``municipality`` rows are used, per
    ``geo_version``. Returns columns ``geo_version``, ``nis``, ``neighbour_nis``: symmetric
    (each pair in both directions), no self-pairs, sorted. Municipalities that touch in a single
    point or along a border shorter than the threshold are not neighbours.

    The layers hold Flanders and Brussels only: Walloon (and Dutch) neighbours of border
    municipalities are absent.
    """
    frames = []
    municipalities = gdf[gdf["level"] == "municipality"]
    for version, layer in municipalities.groupby("geo_version", sort=False):
        geoms = np.asarray(layer.geometry.array, dtype=object)
        codes = layer["nis"].to_numpy(dtype=object)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        # In a clean coverage the intersection of two neighbours is their shared border
        # (lines); a point contact has length 0.
        shared = shapely.length(shapely.intersection(geoms[left], geoms[right]))
        keep = shared > min_shared_border_m
        a, b = codes[left[keep]], codes[right[keep]]
        frames.append(
            pd.DataFrame(
                {
                    "geo_version": version,
                    "nis": np.concatenate([a, b]),
                    "neighbour_nis": np.concatenate([b, a]),
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in NEIGHBOUR_COLUMNS})
    out = pd.concat(frames, ignore_index=True).astype(str)
    version_rank = out["geo_version"].map({v: i for i, v in enumerate(GEO_VERSIONS)})
    out = out.assign(_v=version_rank).sort_values(["_v", "nis", "neighbour_nis"])
    return out.drop(columns="_v").reset_index(drop=True)


#: The municipalities before the 2019 mergers, used only to link them to their 2019 successors.
MUNICIPALITIES_2018 = LayerSpec(
    "flanders_brussels_municipalities_2018.shp",
    "municipality",
    ("1977",),
    "gemeente20",
    None,
    327,
    "municipalities 1977-2018 (308 Flemish + 19 Brussels)",
)


def merger_links(path_2018: Path, layers: gpd.GeoDataFrame) -> pd.DataFrame:
    """Links from the municipalities of 1977-2018 to those of 2019-2024.

    The 2019 mergers joined whole municipalities, so each old municipality lies inside exactly
    one new one: it is linked to the 2019 municipality that contains a point inside it. Returns
    ``nis_from, geo_from ("1977"), nis_to, geo_to ("2019")`` for the Flemish and Brussels
    municipalities (identity links included). Fails if an unchanged code would be linked to
    another municipality, which would mean the layers do not match.
    """
    old = _read_layer(Path(path_2018), MUNICIPALITIES_2018)
    new = layers[(layers["level"] == "municipality") & (layers["geo_version"] == "2019")]
    if new.empty:
        raise ValueError("merger_links needs the 2019-2024 municipalities (from read())")
    points = gpd.GeoDataFrame({"nis_from": old["nis"]}, geometry=old.representative_point(),
                              crs=CRS_EPSG)
    joined = gpd.sjoin(points, new[["nis", "geometry"]], predicate="within", how="left")
    joined = joined.rename(columns={"nis": "nis_to"}).drop_duplicates("nis_from")
    unlinked = joined.loc[joined["nis_to"].isna(), "nis_from"].tolist()
    if unlinked:
        raise SourceFormatError(
            path_2018, f"municipalities {unlinked[:5]} lie in no 2019-2024 municipality"
        )
    survivors = joined[joined["nis_from"].isin(set(new["nis"]))]
    moved = survivors[survivors["nis_from"] != survivors["nis_to"]]
    if len(moved):
        pairs = ", ".join(f"{a}→{b}" for a, b in zip(moved["nis_from"], moved["nis_to"],
                                                     strict=True))
        raise SourceFormatError(
            path_2018, f"unchanged municipality codes would be linked elsewhere: {pairs[:200]}"
        )
    return pd.DataFrame({
        "nis_from": joined["nis_from"].to_numpy(dtype=object), "geo_from": "1977",
        "nis_to": joined["nis_to"].to_numpy(dtype=object), "geo_to": "2019",
    }).sort_values("nis_from", ignore_index=True)
