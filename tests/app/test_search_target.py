"""Which search answers move the map by themselves: exactly one code or exact name, or a sole hit that is
not merely similar. Everything else is listed for the operator to pick (tests/widgets/test_search_results.py)."""

from __future__ import annotations

import pytest

from app.search import Searcher, SearchHit, only_approximate, single_target


def _hit(title: str, match: str, district: str = "鼓楼区") -> SearchHit:
    return SearchHit("address", "街巷", title, title, (117.0, 34.0, 117.0, 34.0), district, match)


def test_a_code_or_a_single_exact_name_is_the_target():
    grid = SearchHit("unit_grid", "单元网格", "320302001001008", "320302001001008", (0, 0, 1, 1), "鼓楼区")
    assert single_target([grid]) is grid
    exact = _hit("文亭九巷11号", "exact")
    assert single_target([exact, _hit("文亭九巷10号", "fuzzy"), _hit("文亭九巷12号", "fuzzy")]) is exact


def test_similar_names_are_never_the_target():
    hits = [_hit("文亭九巷", "fuzzy")]
    assert single_target(hits) is None  # 文亭小巷 typed: 文亭九巷 only resembles it
    assert only_approximate(hits)


def test_the_same_name_twice_is_a_choice():
    assert single_target([_hit("文亭九巷", "exact"), _hit("文亭九巷", "exact", "云龙区")]) is None


@pytest.mark.parametrize("match", ["prefix", "initials", "contains"])
def test_a_sole_partial_hit_is_the_target(match):
    hit = _hit("永安南苑社区", match)
    assert single_target([hit]) is hit
    assert single_target([hit, _hit("永安北苑社区", match)]) is None


def test_nothing_is_no_target():
    assert single_target([]) is None
    assert not only_approximate([])


@pytest.fixture(scope="module")
def searcher(demo_store_path):
    from app.map_data import MapData

    data = MapData(demo_store_path)
    yield Searcher(demo_store_path, data)
    data.close()


def test_hits_carry_district_and_match(searcher):
    hits = searcher.search("文亭九巷")
    lanes = [h for h in hits if h.match == "exact"]
    assert sorted(h.district for h in lanes) == ["云龙区", "鼓楼区"]
    assert all(h.district for h in hits)
    assert single_target(hits) is None


def test_district_with_name_or_full_address_names_one_place(searcher):
    for text in ("云龙区文亭九巷", "徐州市云龙区文亭九巷", "云龙区 文亭九巷"):
        target = single_target(searcher.search(text))
        assert target is not None, text
        assert (target.title, target.district) == ("文亭九巷", "云龙区"), text


def test_a_missing_lane_only_finds_approximate_names(searcher):
    hits = searcher.search("文亭小巷")
    assert hits
    assert only_approximate(hits)
    assert single_target(hits) is None


def test_codes_carry_their_district(searcher):
    cases = searcher.map_data.points("case")
    hits = searcher.search(str(cases.codes[0]))
    assert [h.kind for h in hits] == ["case"]
    assert hits[0].district in ("鼓楼区", "云龙区")
    assert single_target(hits) is hits[0]


def test_search_works_from_any_thread(searcher):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(searcher.search, ["文亭九巷", "yanysq", "文亭小巷"] * 3))
    assert all(results)
