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
    view.grab().save(str(SHOTS / "evaluation_view.png"))
