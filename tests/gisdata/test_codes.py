from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gisdata.codes import (
    CodeError,
    grid_code,
    kind_of,
    normalize_grid,
    parse_community,
    parse_district,
    parse_grid,
    parse_part,
    parse_street,
    part_code,
)

districts = st.builds(
    lambda p, c, d: f"{p:02d}{c:02d}{d:02d}", st.integers(11, 82), st.integers(0, 99), st.integers(1, 99)
)
serial3 = st.integers(1, 999)


@given(districts, serial3, serial3, serial3)
def test_grid_round_trip(d, s, c, g):
    code = f"{d}{s:03d}{c:03d}{g:03d}"
    parsed = parse_grid(code)
    assert parsed.format() == code
    assert parse_grid(parsed.format()) == parsed
    assert parsed.community_code == code[:12]
    assert parse_community(parsed.community_code).format() == code[:12]
    assert parse_street(parsed.street_code).format() == code[:9]


@given(districts, serial3, serial3, st.integers(1, 99))
def test_legacy_grid_converts_and_round_trips(d, s, c, g):
    legacy = f"{d}{s:03d}{c:03d}{g:02d}"
    parsed = parse_grid(legacy)
    assert parsed.legacy
    assert parsed.format() == f"{d}{s:03d}{c:03d}{g:03d}"
    assert parsed.format_legacy() == legacy
    assert normalize_grid(legacy) == parsed.format()


@given(districts, st.integers(1, 99), st.integers(1, 99), st.integers(1, 999_999))
def test_part16_round_trip(d, major, minor, serial):
    code = part_code(d, f"{major:02d}{minor:02d}", serial)
    assert len(code) == 16
    p = parse_part(code)
    assert p.format() == code
    assert p.class_code == f"{major:02d}{minor:02d}"
    assert p.catalog == "cjt214-2007"


@given(districts, st.integers(1, 99), st.integers(1, 999), st.integers(1, 999_999))
def test_part17_round_trip(d, major, minor, serial):
    code = part_code(d, f"{major:02d}{minor:03d}", serial)
    assert len(code) == 17
    assert parse_part(code).format() == code
    assert parse_part(code).catalog == "gbt47678-2026"


@given(districts)
def test_district_round_trip(d):
    assert parse_district(d).format() == d


@pytest.mark.parametrize(
    ("code", "position"),
    [
        ("32031100100200a", 15),  # a letter
        ("320311001002000", 13),  # serial all zeros
        ("32031100100200", 13),  # legacy serial 00 is the community itself
        ("320311000002007", 7),  # street 000
        ("320311001000007", 10),  # community 000
        ("000311001002007", 1),  # province 00
    ],
)
def test_bad_grid_names_position(code, position):
    with pytest.raises(CodeError) as err:
        parse_grid(code)
    assert err.value.position == position
    assert code in str(err.value)


def test_bad_length_is_explained():
    with pytest.raises(CodeError, match="15"):
        parse_grid("3203110010020")


def test_part_errors():
    with pytest.raises(CodeError) as err:
        parse_part("3203110001000001")
    assert err.value.position == 7
    with pytest.raises(CodeError) as err:
        parse_part("3203110100000001")
    assert err.value.position == 9
    with pytest.raises(CodeError) as err:
        parse_part("3203110101000000")
    assert err.value.position == 11
    with pytest.raises(CodeError):
        parse_part("32031101010000001", "cjt214-2007")


def test_grid_code_formatter():
    assert grid_code("320311001002", 7) == "320311001002007"
    with pytest.raises(CodeError):
        grid_code("320311001002", 1000)


def test_kind_of():
    assert kind_of("320311 001 002 007") == "grid"
    assert kind_of("3203110101000001") == "part"
    assert kind_of("12") == "unknown"
