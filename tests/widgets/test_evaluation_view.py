"""The evaluation view: run a scheme off the GUI thread, see ranking and items, click a deduction to get
its cases, export the bulletin."""

from __future__ import annotations

from pathlib import Path

from widgets.desk.evaluation_view import EvaluationView
from widgets.fonts import install_fonts

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def test_run_show_and_drill_down(qtbot, qapp, demo_store_path):
    install_fonts(qapp)
    view = EvaluationView(str(demo_store_path))
    qtbot.addWidget(view)
    view.resize(1500, 520)
    view.show()
    qtbot.waitUntil(lambda: view.scheme.count() > 0)  # the schemes are read once the view is shown
    view.scheme.setCurrentIndex(view.scheme.findData("xuzhou_quanshan"))
    from app.evaluation_service import default_period

    view.period.setText(default_period())
    with qtbot.waitSignal(view.evaluated, timeout=60_000) as blocker:
        view.run_button.click()
    result = blocker.args[0]
    assert view.ranking.rowCount() == len(result.units) > 0
    assert view.items.topLevelItemCount() > 0
    # find an item with cases behind it and click it
    target = None
    for i in range(view.items.topLevelItemCount()):
        top = view.items.topLevelItem(i)
        for j in range(top.childCount()):
            if top.child(j).data(0, 256):
                target = top.child(j)
                break
        if target:
            break
    if target is not None:
        with qtbot.waitSignal(view.casesRequested) as cases:
            view.items.itemClicked.emit(target, 0)
        assert cases.args[0] == target.data(0, 256)
    SHOTS.mkdir(parents=True, exist_ok=True)
    qapp.processEvents()  # lay the chart canvas out and draw it: it paints when the event loop is idle
    view.chart.draw()
    view.grab().save(str(SHOTS / "evaluation_view.png"))


def test_a_scheme_of_several_kinds_is_evaluated_one_kind_at_a_time(qtbot, qapp, demo_store_path, monkeypatch):
    """The standard method scores nine kinds of unit; 计算 evaluates the chosen kind only (a tenth of the
    work), another kind when it is chosen, and a kind chosen again is not evaluated twice. Each kind's
    units are exactly those of the whole evaluation."""
    from app import evaluation_service as svc

    install_fonts(qapp)
    asked: list[str | None] = []
    real = svc.run_evaluation
    view_real = svc.evaluate_for_view

    def spy(path, scheme_id, period, progress=None, unit_kind=None):
        asked.append(unit_kind)
        return view_real(path, scheme_id, period, progress, unit_kind)

    monkeypatch.setattr(svc, "evaluate_for_view", spy)
    view = EvaluationView(str(demo_store_path))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.scheme.count() > 0)
    view.scheme.setCurrentIndex(view.scheme.findData("standard"))
    view.period.setText(svc.default_period())
    with qtbot.waitSignal(view.evaluated, timeout=60_000) as first:
        view.run_button.click()
    assert asked == ["district"]
    assert view.unit_kind.count() == 9
    assert {u.kind for u in first.args[0].units} == {"district"}
    with qtbot.waitSignal(view.evaluated, timeout=60_000) as second:
        view.unit_kind.setCurrentIndex(view.unit_kind.findData("department"))
    assert asked == ["district", "department"]
    shown = [view.ranking.item(r, 1).text() for r in range(view.ranking.rowCount())]
    whole = real(str(demo_store_path), "standard", svc.default_period())
    depts = sorted((u for u in whole.units if u.kind == "department"), key=lambda u: (u.rank is None, u.rank or 0))
    assert [u.total for u in second.args[0].units] == [u.total for u in whole.units if u.kind == "department"]
    assert shown == [u.name for u in depts]
    with qtbot.waitSignal(view.evaluated, timeout=5_000):
        view.unit_kind.setCurrentIndex(view.unit_kind.findData("district"))
    assert asked == ["district", "department"]  # kept, not evaluated again
    assert "本办法共 9 类考核对象" in view.status.text()


def test_a_year_says_which_months_were_published(qtbot, qapp, demo_store):
    """A year rolls up its published months as published, and the status line says which."""
    from app import evaluation_service as svc
    from app.evaluation import run as ev

    month = svc.default_period()
    ev.publish(demo_store, "standard", month, "district", by="eval1")
    install_fonts(qapp)
    view = EvaluationView(str(demo_store.path))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.scheme.count() > 0)
    view.scheme.setCurrentIndex(view.scheme.findData("standard"))
    view.period.setText(month[:4])
    with qtbot.waitSignal(view.evaluated, timeout=60_000):
        view.run_button.click()
    assert view.unit_kind.currentData() == "district"
    assert f"月度得分取自已发布结果（{month}）" in view.status.text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    view.resize(1500, 520)
    qapp.processEvents()  # lay the new chart canvas out, then draw it before the grab
    view.chart.draw()
    view.grab().save(str(SHOTS / "evaluation_view_year.png"))
    with qtbot.waitSignal(view.evaluated, timeout=60_000):
        view.unit_kind.setCurrentIndex(view.unit_kind.findData("department"))  # none published for departments
    assert "已发布" not in view.status.text()
