"""Tests for lsbanalysis.readers.boundaries: real layers, simplification, neighbours, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from lsbanalysis.errors import SourceFormatError
from lsbanalysis.readers import boundaries
from tests.isom import ISOM

# Verified on the 2025 and 2019-2024 layers: shared borders of 8.8 km (Heist-op-den-Berg),
# 2.8 km (Nijlen), 6.1 km (Grobbendonk) and 7.1 km (Herentals). Vorselaar (2.3 km away) and
# Westerlo (2.7 km away) do not touch Herenthout.
HERENTHOUT_NEIGHBOURS = {"12014", "12026", "13010", "13011"}
EXPECTED_COUNTS = {
    ("2025", "municipality"): 304,
    ("2019", "municipality"): 319,
    ("2025", "arrondissement"): 23,
    ("2019", "arrondissement"): 23,
    ("2025", "province"): 6,
    ("2019", "province"): 6,
    ("2025", "region"): 2,
    ("2019", "region"): 2,
}


# --------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def raw(mirror: Path) -> gpd.GeoDataFrame:
    return boundaries.read(boundaries.layer_paths(mirror / "boundaries"))


@pytest.fixture(scope="module")
def simple(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return boundaries.simplify(raw)


@pytest.fixture(scope="module")
def nbrs(raw: gpd.GeoDataFrame):
    return boundaries.neighbours(raw)


def _layer(gdf: gpd.GeoDataFrame, version: str, level: str) -> gpd.GeoDataFrame:
    return gdf[(gdf["geo_version"] == version) & (gdf["level"] == level)]


@pytest.mark.realdata
def test_columns_crs_and_counts(raw):
    assert list(raw.columns) == boundaries.COLUMNS
    assert raw.crs.to_epsg() == 31370
    counts = raw.groupby(["geo_version", "level"]).size().to_dict()
    assert counts == EXPECTED_COUNTS
    assert raw["nis"].str.fullmatch(r"\d{5}").all()
    assert not raw.duplicated(["level", "geo_version", "nis"]).any()
    assert raw.geometry.is_valid.all() and not raw.geometry.is_empty.any()


@pytest.mark.realdata
def test_codes_and_names(raw):
    regions = _layer(raw, "2025", "region")
    assert set(regions["nis"]) == {"02000", "04000"}
    assert regions["name_nl"].isna().all()
    provinces = _layer(raw, "2019", "province")
    assert set(provinces["nis"]) == {"04000", "10000", "20001", "30000", "40000", "70000"}
    assert set(_layer(raw, "2025", "province")["nis"]) == set(provinces["nis"])
    muni = _layer(raw, "2025", "municipality").set_index("nis")
    assert muni.loc["46030", "name_nl"] == "Beveren-Kruibeke-Zwijndrecht"
    assert "11007" not in muni.index  # Borsbeek, merged into Antwerpen in 2025
    assert "11007" in set(_layer(raw, "2019", "municipality")["nis"])


@pytest.mark.realdata
@pytest.mark.parametrize("version", ["2025", "2019"])
def test_isom_municipalities_present(raw, version):
    muni = _layer(raw, version, "municipality").set_index("nis")
    for code, name in ISOM.items():
        assert muni.loc[code, "name_nl"] == name


@pytest.mark.realdata
def test_regions_cover_the_same_area_as_municipalities(raw):
    for version in ("2025", "2019"):
        total = _layer(raw, version, "municipality").area.sum()
        for level in ("arrondissement", "province", "region"):
            assert _layer(raw, version, level).area.sum() == pytest.approx(total, rel=1e-6)


@pytest.mark.realdata
def test_regions_2019_nest_in_2019_layers_and_match_region_file(raw):
    regions_2019 = _layer(raw, "2019", "region").set_index("nis").geometry
    regions_2025 = _layer(raw, "2025", "region").set_index("nis").geometry
    provinces = _layer(raw, "2019", "province").geometry.values
    assert regions_2019.area.sum() == pytest.approx(shapely.area(provinces).sum(), rel=1e-9)
    for code in ("02000", "04000"):
        diff = regions_2019[code].symmetric_difference(regions_2025[code]).area
        assert diff < 2e-3 * regions_2025[code].area  # Brussels: 0.16 km², 0.1 %


@pytest.mark.realdata
@pytest.mark.parametrize("version", ["2025", "2019"])
def test_herenthout_neighbours(nbrs, version):
    got = set(nbrs[(nbrs["geo_version"] == version) & (nbrs["nis"] == "13012")]["neighbour_nis"])
    assert got == HERENTHOUT_NEIGHBOURS


@pytest.mark.realdata
def test_neighbours_symmetric_no_self_pairs(raw, nbrs):
    assert list(nbrs.columns) == boundaries.NEIGHBOUR_COLUMNS
    assert not (nbrs["nis"] == nbrs["neighbour_nis"]).any()
    assert not nbrs.duplicated().any()
    pairs = set(nbrs.itertuples(index=False, name=None))
    assert pairs == {(v, b, a) for v, a, b in pairs}
    for version in ("2025", "2019"):
        codes = set(_layer(raw, version, "municipality")["nis"])
        sub = nbrs[nbrs["geo_version"] == version]
        # Every municipality has a neighbour, except Voeren, surrounded by Wallonia and the
        # Netherlands, which are not in the layers.
        assert set(sub["nis"]) == codes - {"73109"}
        assert set(sub["neighbour_nis"]) <= codes


@pytest.mark.realdata
def test_corner_contact_is_not_a_neighbour(nbrs):
    # Aarschot and Bekkevoort meet in a single point; Kasterlee and Herentals share a border.
    sub = nbrs[(nbrs["geo_version"] == "2025") & (nbrs["nis"] == "24001")]
    assert "24008" not in set(sub["neighbour_nis"])
    sub = nbrs[(nbrs["geo_version"] == "2025") & (nbrs["nis"] == "13017")]
    assert "13011" in set(sub["neighbour_nis"])


@pytest.mark.realdata
def test_simplified_valid_and_area_preserved(raw, simple):
    assert list(simple.columns) == boundaries.COLUMNS
    assert simple.crs.to_epsg() == 31370
    assert (simple["nis"].to_numpy() == raw["nis"].to_numpy()).all()
    assert simple.geometry.is_valid.all() and not simple.geometry.is_empty.any()
    change = np.abs(simple.area.to_numpy() / raw.area.to_numpy() - 1)
    assert change.max() < 0.01
    assert (
        shapely.get_num_coordinates(simple.geometry.values).sum()
        < shapely.get_num_coordinates(raw.geometry.values).sum()
    )


@pytest.mark.realdata
@pytest.mark.parametrize("version", ["2025", "2019"])
def test_simplified_municipalities_have_no_gaps_or_overlaps(raw, simple, version):
    muni = _layer(simple, version, "municipality").geometry.values
    assert shapely.coverage_is_valid(muni)  # no overlaps, borders edge-matched
    union = shapely.union_all(muni)
    assert abs(union.area - shapely.area(muni).sum()) < 100  # m²: no overlaps

    def holes(geom):
        return sum(len(p.interiors) for p in getattr(geom, "geoms", [geom]))

    # The only holes are the Dutch enclaves in Baarle-Hertog, as in the original.
    original = shapely.union_all(_layer(raw, version, "municipality").geometry.values)
    assert holes(union) == holes(original)
    provinces = shapely.union_all(_layer(simple, version, "province").geometry.values)
    assert union.symmetric_difference(provinces).area < 1e-5 * union.area


@pytest.mark.realdata
def test_simplified_geoparquet_is_small(simple, tmp_path):
    target = tmp_path / "boundaries.parquet"
    simple.to_parquet(target, compression="zstd")
    assert target.stat().st_size <= 1_500_000
    back = gpd.read_parquet(target)
    assert back.crs.to_epsg() == 31370 and len(back) == len(simple)


@pytest.mark.realdata
def test_simplify_refuses_a_tolerance_that_distorts_areas(raw):
    with pytest.raises(ValueError, match="smaller tolerance"):
        boundaries.simplify(raw, tolerance_m=500)


# --------------------------------------------------------------------------------------------
# Bad input


def _copy_layer(mirror: Path, key: str, folder: Path) -> Path:
    """Copy a layer's .shp and sidecars to ``folder`` (never touching the mirror)."""
    source = mirror / "boundaries" / boundaries.LAYERS[key].filename
    for side in source.parent.glob(source.stem + ".*"):
        target = folder / side.name
        shutil.copyfile(side, target)
    return folder / source.name


def _read_one(key: str, path: Path):
    return boundaries.read({key: path})


@pytest.mark.realdata
def test_missing_shp(tmp_path):
    path = tmp_path / "flanders_brussels_provinces_2025.shp"
    with pytest.raises(SourceFormatError, match="not found") as info:
        _read_one("provinces_2025", path)
    assert "flanders_brussels_provinces_2025.shp" in str(info.value)
    assert "provinces" in str(info.value)


@pytest.mark.realdata
def test_empty_shp(mirror, tmp_path):
    path = _copy_layer(mirror, "provinces_2025", tmp_path)
    path.write_bytes(b"")
    with pytest.raises(SourceFormatError, match=r"empty \(0 bytes\)") as info:
        _read_one("provinces_2025", path)
    assert "flanders_brussels_provinces_2025.shp" in str(info.value)


@pytest.mark.realdata
@pytest.mark.parametrize("keep", [0.5, 0.02])
def test_truncated_shp(mirror, tmp_path, keep):
    path = _copy_layer(mirror, "provinces_2025", tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(SourceFormatError, match="truncated") as info:
        _read_one("provinces_2025", path)
    assert "flanders_brussels_provinces_2025.shp" in str(info.value)


@pytest.mark.realdata
def test_shp_header_only(mirror, tmp_path):
    path = _copy_layer(mirror, "provinces_2025", tmp_path)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(SourceFormatError, match="cannot be read as a shapefile of provinces"):
        _read_one("provinces_2025", path)


@pytest.mark.realdata
def test_truncated_dbf(mirror, tmp_path):
    path = _copy_layer(mirror, "municipalities_2025", tmp_path)
    dbf = path.with_suffix(".dbf")
    data = dbf.read_bytes()
    dbf.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceFormatError) as info:
        _read_one("municipalities_2025", path)
    assert "flanders_brussels_municipalities_2025" in str(info.value)


@pytest.mark.realdata
def test_missing_dbf(mirror, tmp_path):
    path = _copy_layer(mirror, "provinces_2025", tmp_path)
    path.with_suffix(".dbf").unlink()
    with pytest.raises(SourceFormatError, match=r"attribute table .* not found") as info:
        _read_one("provinces_2025", path)
    assert "flanders_brussels_provinces_2025.dbf" in str(info.value)


@pytest.mark.realdata
def test_renamed_code_column(mirror, tmp_path):
    layer = gpd.read_file(mirror / "boundaries" / boundaries.LAYERS["municipalities_2025"].filename)
    path = tmp_path / "municipalities.shp"
    layer.head(5).rename(columns={"geoitem": "code"}).to_file(path)
    with pytest.raises(SourceFormatError, match="expected column 'geoitem'") as info:
        _read_one("municipalities_2025", path)
    assert "municipalities.shp" in str(info.value)
    assert info.value.column == "geoitem"


@pytest.mark.realdata
def test_missing_name_column(mirror, tmp_path):
    layer = gpd.read_file(mirror / "boundaries" / boundaries.LAYERS["provinces_2019_2024"].filename)
    path = tmp_path / "provinces.shp"
    layer.drop(columns="naam").to_file(path)
    with pytest.raises(SourceFormatError, match="expected column 'naam'"):
        _read_one("provinces_2019_2024", path)


@pytest.mark.realdata
def test_unexpected_feature_count(mirror, tmp_path):
    layer = gpd.read_file(mirror / "boundaries" / boundaries.LAYERS["municipalities_2025"].filename)
    path = tmp_path / "municipalities.shp"
    layer.head(150).to_file(path)
    with pytest.raises(SourceFormatError, match="expected 304 features .* found 150") as info:
        _read_one("municipalities_2025", path)
    assert "municipalities.shp" in str(info.value)


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("1X000", "'1X000' is not a NIS code"),
        ("13012", "13012 is a municipality code; expected province codes"),
        ("10000", "10000 occurs twice"),
    ],
)
def test_invalid_nis_code(mirror, tmp_path, code, message):
    layer = gpd.read_file(mirror / "boundaries" / boundaries.LAYERS["provinces_2025"].filename)
    layer.loc[layer.index[1], "provincie"] = code  # replaces 20001 Vlaams-Brabant
    path = tmp_path / "provinces.shp"
    layer.to_file(path)
    with pytest.raises(SourceFormatError, match=message) as info:
        _read_one("provinces_2025", path)
    assert "provinces.shp" in str(info.value)
    assert info.value.column == "provincie"
    assert info.value.row == 1


@pytest.mark.realdata
def test_missing_crs(mirror, tmp_path):
    path = _copy_layer(mirror, "regions", tmp_path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(SourceFormatError, match=r"no coordinate reference system.*\.prj") as info:
        _read_one("regions", path)
    assert "flanders_brussels_regions.shp" in str(info.value)
    assert "EPSG:31370" in str(info.value)


@pytest.mark.realdata
def test_other_crs_is_reprojected(mirror, tmp_path):
    source = mirror / "boundaries" / boundaries.LAYERS["regions"].filename
    layer = gpd.read_file(source)
    path = tmp_path / "regions_wgs84.shp"
    layer.to_crs(4326).to_file(path)
    got = _read_one("regions", path)
    assert got.crs.to_epsg() == 31370
    assert len(got) == 4  # two regions, once per geo_version
    assert set(got["geo_version"]) == {"2025", "2019"}
    areas = got[got["geo_version"] == "2025"].set_index("nis").area
    assert areas["02000"] == pytest.approx(layer.area.iloc[0], rel=1e-4)


def test_unknown_layer_key(tmp_path):
    with pytest.raises(ValueError, match="unknown boundary layer"):
        boundaries.read({"municipalities_1977": tmp_path / "x.shp"})
    with pytest.raises(ValueError, match="no boundary layers"):
        boundaries.read({})


def test_merger_links_of_2019(mirror, raw):
    links = boundaries.merger_links(
        mirror / "boundaries" / "flanders_brussels_municipalities_2018.shp", raw)
    assert len(links) == 327
    assert set(links["geo_from"]) == {"1977"} and set(links["geo_to"]) == {"2019"}
    changed = links[links["nis_from"] != links["nis_to"]]
    by_new = changed.groupby("nis_to")["nis_from"].apply(sorted).to_dict()
    assert by_new == {
        "12041": ["12030", "12034"],  # Puurs-Sint-Amands
        "44083": ["44011", "44049"],  # Deinze + Nevele
        "44084": ["44001", "44029"],  # Aalter + Knesselare
        "44085": ["44036", "44072", "44080"],  # Lievegem
        "45068": ["45017", "45057"],  # Kruisem
        "72042": ["71047", "72040"],  # Oudsbergen
        "72043": ["72025", "72029"],  # Pelt
    }
    assert (links.loc[links["nis_from"] == "13012", "nis_to"] == "13012").all()


def test_merger_links_need_the_whole_old_layer(mirror, raw, tmp_path):
    old = gpd.read_file(mirror / "boundaries" / "flanders_brussels_municipalities_2018.shp")
    path = tmp_path / "flanders_brussels_municipalities_2018.shp"
    old.head(20).to_file(path)
    with pytest.raises(SourceFormatError, match="expected 327 features"):
        boundaries.merger_links(path, raw)
