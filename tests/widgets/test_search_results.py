"""The search box when the text does not name exactly one place: a result list to pick from (kind, name,
district, match), 未找到 when nothing matches, 近似匹配 when only similar names do; the map moves only
on a unique match or on the operator's pick. The demo city has 文亭九巷 in 鼓楼区 and in 云龙区 and no
文亭小巷."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "console"


def _type(w, text: str) -> None:
    w.search_box.setText(text)
    w.search_box.returnPressed.emit()


def _listed(qtbot, w, text: str) -> None:
    _type(w, text)
    qtbot.waitUntil(lambda: w.docks["search"].isVisible() and text in w.search_results.note.text(), timeout=5000)


def _double_click(widget, pos) -> None:
    """What a mouse sends: press, release, double-click, release (``QTest.mouseDClick`` skips the first
    release, which leaves a tree view in its drag-select state so it ignores the double-click)."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    left = Qt.MouseButton.LeftButton
    p, g = QPointF(pos), QPointF(widget.mapToGlobal(pos))
    for kind, buttons in ((QEvent.Type.MouseButtonPress, left), (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
                          (QEvent.Type.MouseButtonDblClick, left), (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):
        QApplication.sendEvent(widget, QMouseEvent(kind, p, g, left, buttons, Qt.KeyboardModifier.NoModifier))


def _centred_on(w, hit) -> bool:
    v = w.canvas.view
    return abs(v.cx - hit.bbox[0]) < 1e-6 and abs(v.cy - hit.bbox[1]) < 1e-6


def _view(w) -> tuple[float, float, float]:
    v = w.canvas.view
    return v.cx, v.cy, v.metres_per_pixel


def test_similar_name_is_listed_as_approximate_not_jumped_to(qtbot, seat):
    w = seat("leader01", "leader")
    before = _view(w)
    _listed(qtbot, w, "文亭小巷")
    results = w.search_results
    assert "近似匹配" in results.note.text()
    assert "未找到" in results.note.text()
    hits = results.hits()
    assert hits
    assert all(h.match == "fuzzy" for h in hits)
    assert _view(w) == before  # the map did not silently move to 文亭九巷
    first = results.tree.topLevelItem(0)
    assert [first.text(c) for c in range(4)] == ["街巷", "文亭九巷", hits[0].district, "近似匹配"]
    assert hits[0].district in ("鼓楼区", "云龙区")


def test_same_name_in_two_districts_lists_both(qtbot, seat):
    w = seat("leader01", "leader", size=(1600, 900))
    before = _view(w)
    _listed(qtbot, w, "文亭九巷")
    hits = w.search_results.hits()
    exact = [h for h in hits if h.match == "exact"]
    assert {h.district for h in exact} == {"鼓楼区", "云龙区"}
    assert hits[:2] == exact  # the exact names first, then the door plates of the lane
    assert "近似匹配" not in w.search_results.note.text()
    assert _view(w) == before
    qtbot.waitUntil(lambda: w.search_results.tree.viewport().height() > 120, timeout=3000)  # rows, not three
    qtbot.waitUntil(lambda: not w.canvas.loading, timeout=10_000)  # the map drawn for the screenshot
    w.canvas.refresh()
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(SHOTS / "search_results.png"))


def test_double_click_zooms_to_the_pick(qtbot, seat):
    w = seat("leader01", "leader")
    _listed(qtbot, w, "文亭九巷")
    tree = w.search_results.tree
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).text(2) == "云龙区")
    hit = w.search_results.hits()[tree.indexOfTopLevelItem(item)]
    rect = tree.visualItemRect(item)
    with qtbot.waitSignal(w.canvas.identified, timeout=5000) as blocker:
        _double_click(tree.viewport(), rect.center())
    assert _centred_on(w, hit)
    assert w.canvas.view.metres_per_pixel < 5
    assert blocker.args[0]  # what is there is identified, as for a unique hit
    assert "云龙区" in w.statusBar().currentMessage()


def test_enter_on_a_result_zooms_there(qtbot, seat):
    w = seat("leader01", "leader")
    _listed(qtbot, w, "文亭小巷")
    tree = w.search_results.tree
    w.search_box.setFocus()
    qtbot.keyClick(w.search_box, Qt.Key.Key_Down)  # from the box into the list
    assert w.focusWidget() is tree
    tree.setCurrentItem(tree.topLevelItem(1))
    hit = w.search_results.hits()[1]
    with qtbot.waitSignal(w.canvas.identified, timeout=5000):
        qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert _centred_on(w, hit)


def test_nothing_found_shows_the_list_saying_so(qtbot, seat):
    w = seat("leader01", "leader")
    _listed(qtbot, w, "没有这个地方xyz")
    assert w.search_results.note.text().startswith("未找到")
    assert w.search_results.tree.topLevelItemCount() == 0
    assert "未找到" in w.statusBar().currentMessage()


def test_district_and_name_is_a_unique_match(qtbot, seat):
    w = seat("leader01", "leader")
    with qtbot.waitSignal(w.canvas.identified, timeout=5000):
        _type(w, "云龙区文亭九巷")
    assert "云龙区" in w.statusBar().currentMessage()
    assert not w.docks["search"].isVisible()  # nothing to choose: no list


def test_a_new_search_replaces_the_list_and_a_failure_is_said(qtbot, seat):
    # the search runs on the GUI thread (see MainWindow._search: pyproj on pool threads crashed the process)
    w = seat("leader01", "leader")
    _type(w, "文亭小巷")
    assert "近似匹配" in w.search_results.note.text()
    _listed(qtbot, w, "文亭九巷")
    assert "近似匹配" not in w.search_results.note.text()

    def broken(text: str):
        raise RuntimeError("数据库已损坏 store damaged")

    w.ctx.search = broken
    _type(w, "文亭九巷")
    assert "数据库已损坏" in w.statusBar().currentMessage()
    assert "store damaged" not in w.statusBar().currentMessage()
