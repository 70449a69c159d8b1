"""``python main.py verify`` also re-checks published evaluations: a tampered result makes it exit 1."""

from __future__ import annotations

import sqlite3

import main
from app.evaluation.run import publish
from app.evaluation_service import default_period


def test_verify_checks_published_evaluations(demo_store, capsys):
    path = demo_store.path
    publish(demo_store, "xuzhou_quanshan", default_period(), by="eval01")
    demo_store.close()
    assert main.main(["verify", "--store", str(path), "--quiet"]) == 0
    assert "案件记录完好" in capsys.readouterr().out
    conn = sqlite3.connect(path)
    conn.execute("UPDATE evaluation_run SET results = replace(results, '\"rank\": 1', '\"rank\": 9')")
    conn.commit()
    conn.close()
    assert main.main(["verify", "--store", str(path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "已发布考评不一致" in out
