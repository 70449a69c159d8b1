"""The wall computes this month's rates in Python over one scan and last month's in SQL: both must use the
evaluation's "closed on time" (self-handled cases count as on time; a closed case needs its handling at or
before the deadline), or the month-on-month arrow compares two different definitions."""

from __future__ import annotations

from db import dashboard as dash


def test_month_digest_and_period_rates_agree(demo_store):
    conn = demo_store.conn
    first, last = conn.execute("SELECT min(reported_at), max(reported_at) FROM case_state").fetchone()
    # the two shapes where the definitions used to differ: closed with no handling recorded (closed before
    # the deadline is not "handled on time"), and a self-handled case past a deadline (on time by rule)
    with demo_store.atomic() as c:
        for no, handled, self_handled in (("T-AGREE-1", None, 0), ("T-AGREE-3", None, 0),
                                          ("T-AGREE-2", "2026-11-20T12:00:00+08:00", 1)):
            c.execute(
                "INSERT INTO case_state (case_no, status, source, kind, class_code, reported_at, registered_at, "
                "handled_at, closed_at, handle_deadline, self_handled, dispatch_count, rework_count, last_seq) "
                "VALUES (?, 'closed', 'inspector', 'event', '0101', ?, ?, ?, ?, ?, ?, 1, 0, 0)",
                (no, "2026-11-18T09:00:00+08:00", "2026-11-18T09:30:00+08:00", handled,
                 "2026-11-18T15:00:00+08:00" if handled is None else "2026-11-20T13:00:00+08:00",
                 "2026-11-19T09:00:00+08:00", self_handled))
    start, end, now = first[:10] + "T00:00:00+08:00", "2100-01-01T00:00:00+08:00", last
    digest = dash.month_digest(conn, start, end, now, now)
    sql = dash.period_rates(conn, start, end, now)
    assert digest.rates.closed > 0
    assert digest.rates.closed_on_time == sql.closed_on_time
    assert digest.rates.closed == sql.closed
    assert digest.rates.registered == sql.registered
    # and the self-handled closures really are in the on-time count
    self_handled = conn.execute(
        "SELECT count(*) FROM case_state WHERE status = 'closed' AND self_handled = 1").fetchone()[0]
    assert sql.closed_on_time >= self_handled
