from __future__ import annotations

import main


def test_codes_explains_grid_and_part(capsys):
    rc = main.main(["codes", "--store", "/nonexistent.gpkg", "320311 001 002 007", "3205080101000001"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "320311 001 002 007 → 徐州市泉山区 / 街道 001 / 社区 002 / 网格 007" in out
    assert "上水井盖" in out


def test_codes_exits_1_on_invalid(capsys):
    rc = main.main(["codes", "--store", "/nonexistent.gpkg", "320311001002007", "32031100100200x"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "第 15 位" in out


def test_codes_2026_part_class_name(capsys):
    rc = main.main(["codes", "--store", "/nonexistent.gpkg", "32031101001000001"])
    assert rc == 0
    assert "供水井盖" in capsys.readouterr().out
