from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest
import shapely

from db import gpkg
from db.schema import MIGRATIONS
from db.store import Store, StoreError


def test_new_store_is_a_geopackage(tmp_path):
    path = tmp_path / "s.gpkg"
    store = Store.open(path, create=True)
    assert store.conn.execute("PRAGMA application_id").fetchone()[0] == gpkg.APPLICATION_ID
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in store.conn.execute("SELECT table_name FROM gpkg_contents WHERE data_type='features'")}
    assert {"district", "street", "community", "unit_grid", "part", "address", "case_state"} <= tables
    assert store.applied_migrations() == [m.name for m in MIGRATIONS]
    store.close()


def test_rtree_follows_inserts_updates_deletes(mem_store):
    g = shapely.MultiPolygon([shapely.box(117.0, 34.0, 117.01, 34.01)])
    with mem_store.atomic() as c:
        c.execute("INSERT INTO district (geom, code, name) VALUES (?,?,?)",
                  (gpkg.encode(shapely.to_wkb(g), g.bounds), "320311", "泉山区"))
    row = mem_store.conn.execute("SELECT minx, maxx, miny, maxy FROM rtree_district_geom").fetchone()
    assert row == pytest.approx((117.0, 117.01, 34.0, 34.01), abs=1e-4)
    with mem_store.atomic() as c:
        c.execute("UPDATE district SET geom=? WHERE code='320311'", (gpkg.encode_point(118.0, 35.0),))
    assert mem_store.conn.execute("SELECT minx FROM rtree_district_geom").fetchone()[0] == pytest.approx(118.0)
    with mem_store.atomic() as c:
        c.execute("DELETE FROM district")
    assert mem_store.conn.execute("SELECT count(*) FROM rtree_district_geom").fetchone()[0] == 0


def test_atomic_rolls_back_everything(mem_store):
    with pytest.raises(RuntimeError), mem_store.atomic() as c:
        c.execute("INSERT INTO department (code, name) VALUES ('D1', '市政处')")
        with mem_store.atomic() as c2:
            c2.execute("INSERT INTO department (code, name) VALUES ('D2', '园林处')")
        raise RuntimeError("boom")
    assert mem_store.count("department") == 0


def test_nested_savepoint_rolls_back_inner_only(mem_store):
    with mem_store.atomic() as c:
        c.execute("INSERT INTO department (code, name) VALUES ('D1', '市政处')")
        with pytest.raises(sqlite3.IntegrityError), mem_store.atomic() as c2:
            c2.execute("INSERT INTO department (code, name) VALUES ('D1', 'dup')")
    assert mem_store.count("department") == 1


def test_open_missing_and_garbage(tmp_path):
    with pytest.raises(StoreError, match="不存在"):
        Store.open(tmp_path / "missing.gpkg")
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"not a database at all")
    with pytest.raises(StoreError, match="不是有效"):
        Store.open(bad)


def test_migration_backs_up_older_store(tmp_path):
    path = tmp_path / "old.gpkg"
    store = Store.open(path, create=True, migrate=False)
    store.migrate(MIGRATIONS[:1], backup=False)
    store.close()
    store = Store.open(path)
    assert store.applied_migrations() == [m.name for m in MIGRATIONS]
    assert (tmp_path / "old.gpkg.bak-1").exists()
    store.close()


def test_envelope_of_point_without_header_envelope():
    blob = gpkg.encode_point(117.5, 34.25)
    assert gpkg.envelope(blob) == (117.5, 117.5, 34.25, 34.25)
    assert gpkg.envelope(None) is None


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin not installed")
def test_ogrinfo_reads_store(tmp_path):
    path = tmp_path / "s.gpkg"
    store = Store.open(path, create=True)
    with store.atomic() as c:
        c.execute("INSERT INTO part (geom, code, class_code) VALUES (?,?,?)",
                  (gpkg.encode_point(117.2, 34.2), "3203110101000001", "0101"))
    store.close()
    out = subprocess.run(["ogrinfo", "-so", str(path), "part"], capture_output=True, text=True, check=True).stdout
    assert "Feature Count: 1" in out
