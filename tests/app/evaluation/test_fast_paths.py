"""The one-scan queries (several counts from one pass over the period's cases) agree with the one-count
queries they replace, and 长效治理 agrees with a straightforward reference, on random small histories."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.evaluation import indicators as ind
from app.evaluation.periods import parse_period
from db import evaluation_repo as repo
from db.store import Store
from tests.app.evaluation.history import History, at

A, B = "320302", "320303"
KINDS = ["district", "street", "grid", "department", "inspector", "intake", "person", "post", "centre"]
FILTERS = ["", repo.CASE_FILTERS["public"], repo.CASE_FILTERS["hotline"]]
FATES = ["on_time", "late", "open", "rejected", "self", "registered", "false", "late_accept", "void"]
SOURCES = ["inspector", "hotline_12345", "public", "media", "video"]

case = st.tuples(st.sampled_from(["09", "10"]), st.integers(1, 30), st.sampled_from(FATES),
                 st.sampled_from([A, B]), st.sampled_from(SOURCES), st.sampled_from(["D1", "D2"]))


def build(store: Store, cases: list[tuple[str, int, str, str, str, str]]) -> None:
    h = History(store).base()
    for i, (month, day, fate, district, source, dept) in enumerate(cases):
        d = f"{month}-{day:02d}"
        reporter = "insp1" if source == "inspector" else "op1"
        c = h.case(f"H{i:02d}", district, source=source, reporter=reporter)
        if fate == "self":
            c.self_handle(at(d))
            continue
        c.report(at(d))
        if fate == "rejected":
            c.reject(at(d, "10:00"))
            continue
        if fate == "false":
            c.send_verify(at(d, "09:05")).verify(at(d, "09:30"), passed=False)
            continue
        if fate == "late_accept":
            c.accept(at("11-02"))
            continue
        c.accept(at(d, "09:10")).register(at(d, "09:20"))
        if fate == "registered":
            continue
        if fate == "void":
            c._ev(at(d, "12:00"), "decide_void", "lead1", "shift_lead", {"approved": True}, status="void",
                  closed_at=at(d, "12:00"))
            continue
        c.dispatch(at(d, "09:30"), dept, deadline=at(d, "17:00"))
        if fate == "on_time":
            c.handle(at(d, "12:00")).send_check(at(d, "12:10")).check(at(d, "12:20")).close(at(d, "12:30"))
        elif fate == "late":
            c.handle(at("10-29", "12:00")).send_check(at("10-29", "12:10")).check(at("10-29", "12:20"))
            c.close(at("10-29", "12:30"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(case, min_size=1, max_size=12), st.sampled_from(KINDS), st.sampled_from(FILTERS),
       st.sampled_from(["2026-10", "2026-09", "2026-10-05..2026-10-20"]))
def test_one_scan_counts_equal_the_one_count_queries(cases, kind, flt, period):
    store = Store.memory()
    try:
        build(store, cases)
        p = parse_period(period)
        c, s, e = store.conn, p.start_at, p.end_at
        assert repo.reports_by_unit(c, kind, s, e, flt=flt) == (
            repo.reported_by_unit(c, kind, s, e, flt=flt),
            repo.reported_by_unit(c, kind, s, e, valid=True, flt=flt),
            repo.reported_by_unit(c, kind, s, e, sources=repo.PUBLIC_SOURCES, flt=flt),
        )
        assert repo.closed_pair_by_unit(c, kind, s, e, flt=flt) == (
            repo.closed_by_unit(c, kind, s, e, flt=flt),
            repo.closed_by_unit(c, kind, s, e, on_time=True, flt=flt),
        )
        # and through the indicator layer, where the pair is computed once and shared
        names = ["reported", "valid_reports", "public_reports", "closed", "closed_on_time", "overdue_open",
                 "escalated_overdue"]
        together = ind.compute_counts(store, kind, p, names)
        for n in names:
            assert together[n] == ind.compute_counts(store, kind, p, [n])[n], n
    finally:
        store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(case, min_size=1, max_size=12), st.sampled_from(["district", "department", "centre"]),
       st.integers(1, 60))
def test_long_term_cases_equal_a_reference(cases, kind, days):
    store = Store.memory()
    try:
        build(store, cases)
        p = parse_period("2026-10")
        got = ind.compute_counts(store, kind, p, ["long_term_cases", "long_term_cases_prev"],
                                 {"long_term_cases": {"days": days}})
        rows = store.conn.execute(
            "SELECT case_no, district_code, department, registered_at, closed_at FROM case_state").fetchall()
        from datetime import timedelta

        def reference(end) -> dict[str, list[str]]:
            e = f"{end.isoformat()}T00:00:00+08:00"
            cut = f"{(end - timedelta(days=days)).isoformat()}T00:00:00+08:00"
            out: dict[str, list[str]] = {}
            for no, district, dept, registered, closed in rows:
                unit = {"district": district, "department": dept, "centre": "centre"}[kind]
                if unit and registered and registered < cut and registered < e and (closed is None or closed >= e):
                    out.setdefault(unit, []).append(no)
            return {u: sorted(v) for u, v in out.items()}

        assert got["long_term_cases"] == reference(p.end)
        assert got["long_term_cases_prev"] == reference(p.start)
    finally:
        store.close()
