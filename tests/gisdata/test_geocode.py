"""Address search tiers and reverse-geocoding descriptions on small crafted data."""

from __future__ import annotations

import pytest
import shapely

from gisdata.crs import Projector
from gisdata.geocode import AddressBook, OutsideCity, ReverseGeocoder, describe, direction_name

NAMES = ["解放路", "解放路12号", "解放路14号", "中山路3号", "彭城小学", "苏果超市(解放路店)", "云龙公园"]
KINDS = ["街巷", "门楼牌", "门楼牌", "门楼牌", "兴趣点", "兴趣点", "兴趣点"]
INITIALS = ["jfl", "jfl12h", "jfl14h", "zsl3h", "pcxx", "sgcsjfld", "ylgy"]


@pytest.fixture
def book():
    return AddressBook(NAMES, KINDS, [f"徐州市{n}" for n in NAMES], INITIALS)


def test_exact_then_prefix_then_contains(book):
    hits = book.search("解放路")
    assert [h.name for h in hits[:3]] == ["解放路", "解放路12号", "解放路14号"]
    assert [h.match for h in hits[:3]] == ["exact", "prefix", "prefix"]
    assert hits[3].name == "苏果超市(解放路店)"
    assert hits[3].match == "contains"


def test_initials_and_case_and_width(book):
    assert [h.name for h in book.search("PCXX")] == ["彭城小学"]
    assert [h.name for h in book.search("ｊｆｌ１２")] == ["解放路12号"]  # full-width input
    assert book.search("jfl")[0].name == "解放路"


def test_fuzzy(book):
    hits = book.search("云龙公圆")  # a typo
    assert hits
    assert hits[0].name == "云龙公园"
    assert hits[0].match == "fuzzy"
    assert book.search("完全无关") == []
    assert book.search("   ") == []


def test_kind_filter_and_limit(book):
    assert {h.kind for h in book.search("解放", kinds=["门楼牌"])} == {"门楼牌"}
    assert len(book.search("解放", limit=2)) == 2


@pytest.mark.parametrize(
    ("dx", "dy", "want"),
    [(30, 0, "东"), (0, 30, "北"), (-30, 0, "西"), (0, -30, "南"), (20, 20, "东北"), (-20, -20, "西南"),
     (-20, 20, "西北"), (20, -20, "东南")],
)
def test_directions(dx, dy, want):
    assert direction_name(dx, dy) == want


def test_describe():
    assert describe("解放路12号", 30.2, 1.0) == "解放路12号东30米"
    assert describe("解放路12号", 1.0, 2.0) == "解放路12号附近"


def test_reverse_geocoder():
    proj = Projector.for_lon(117.2)
    cells = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)]
    grids = proj.inverse(cells)
    ax, ay = proj.inverse_xy([50.0], [50.0])
    names = {"320311": "泉山区", "320311001": "王陵街道", "320311001001": "和平社区"}
    rg = ReverseGeocoder(grids, ["320311001001001", "320311001001002"], names, ["解放路12号"], ax, ay, proj)
    lon, lat = proj.inverse_xy([150.0], [50.0])
    place = rg.reverse(float(lon[0]), float(lat[0]))
    assert place.grid_code == "320311001001002"
    assert (place.district_name, place.street_name, place.community_name) == ("泉山区", "王陵街道", "和平社区")
    assert place.description == "解放路12号东100米"
    assert place.direction == "东"
    assert place.distance_m == pytest.approx(100.0, abs=0.01)
    assert "网格 320311001001002" in place.text
    with pytest.raises(OutsideCity, match="lon="):
        rg.reverse(118.5, 35.0)
