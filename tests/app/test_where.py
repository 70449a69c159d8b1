"""``where`` and the geocoding service on the test-scale demo store."""

from __future__ import annotations

import json

import pytest

from app.geocoding import OutsideCity, get_geocoder, invalidate
from db import base_repo as br
from db.store import Store
from main import main


@pytest.fixture(scope="module")
def ro(demo_store_path):
    store = Store.open(demo_store_path, readonly=True)
    yield store
    invalidate(store)
    store.close()


def test_reverse_agrees_with_the_grid_polygons(ro):
    geo = get_geocoder(ro)
    assert get_geocoder(ro) is geo  # cached
    for g in br.grids(ro.conn)[::25]:
        p = g.geom.representative_point()
        place = geo.reverse(p.x, p.y)
        assert place.grid_code == g.code
        assert place.community_code == g.community_code
        assert place.district_name.endswith("区")
        assert place.street_name.endswith("街道")
        assert place.community_name.endswith("社区")
        assert place.description
        assert place.distance_m is not None
        assert place.distance_m < 500


def test_reverse_at_a_door_plate(ro):
    a = br.addresses(ro.conn, "门楼牌")[0]
    place = get_geocoder(ro).reverse(a.geom.x, a.geom.y)
    assert place.description == f"{a.name}附近"


def test_bulk_grid_lookup_matches_stored_grid_codes(ro):
    parts = br.parts(ro.conn, limit=400)
    codes = get_geocoder(ro).grids_at([p.geom.x for p in parts], [p.geom.y for p in parts])
    assert codes.tolist() == [p.grid_code for p in parts]


def test_nearest_part(ro):
    geo = get_geocoder(ro)
    p = br.parts(ro.conn, limit=1)[0]
    near = geo.nearest_part(p.geom.x, p.geom.y)
    assert near is not None
    assert near.distance_m < 0.01
    lamp = geo.nearest_part(p.geom.x, p.geom.y, max_distance_m=2000, class_code="0118")
    assert lamp is not None
    assert lamp.class_code == "0118"
    assert geo.nearest_part(p.geom.x + 1.0, p.geom.y) is None


def test_search_on_demo(ro):
    geo = get_geocoder(ro)
    a = br.addresses(ro.conn, "门楼牌")[3]
    assert geo.search(a.name)[0].name == a.name
    assert a.initials
    assert any(h.name == a.name for h in geo.search(a.initials, limit=50))


def test_outside_city(ro):
    with pytest.raises(OutsideCity):
        get_geocoder(ro).reverse(100.0, 30.0)


def test_where_command(demo_store_path, capsys):
    with Store.open(demo_store_path, readonly=True) as s:
        g = br.grids(s.conn)[0]
    p = g.geom.representative_point()
    assert main(["where", str(p.x), str(p.y), "--store", str(demo_store_path)]) == 0
    out = capsys.readouterr().out
    assert g.code in out
    assert "米" in out or "附近" in out
    assert main(["where", str(p.x), str(p.y), "--json", "--store", str(demo_store_path)]) == 0
    assert json.loads(capsys.readouterr().out)["grid_code"] == g.code
    assert main(["where", "100", "30", "--store", str(demo_store_path)]) == 1
    assert "outside" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["where", "abc", "30", "--store", str(demo_store_path)])
    assert exc.value.code == 2


def test_geocoder_is_shared_and_outlives_its_store(demo_store_path):
    invalidate()
    a = Store.open(demo_store_path, readonly=True)
    geo = get_geocoder(a)
    p = br.parts(a.conn, limit=1)[0]
    a.close()
    with Store.open(demo_store_path, readonly=True) as b:
        assert get_geocoder(b) is geo
    near = geo.nearest_part(p.geom.x, p.geom.y)  # the part index loads through its own connection
    assert near is not None
    assert near.code == p.code


def test_nearest_part_bounded_and_unbounded_agree(ro):
    geo = get_geocoder(ro)
    for g in br.grids(ro.conn)[::60]:
        p = g.geom.representative_point()
        near = geo.nearest_part(p.x, p.y, max_distance_m=400)
        anywhere = geo.nearest_part(p.x, p.y, max_distance_m=None)
        assert anywhere is not None
        if near is not None:
            assert near.code == anywhere.code
            assert abs(near.distance_m - anywhere.distance_m) < 1e-6
        else:
            assert anywhere.distance_m > 400
        bin_ = geo.nearest_part(p.x, p.y, max_distance_m=None, class_code="0305")
        assert bin_ is not None
        assert bin_.class_code == "0305"
