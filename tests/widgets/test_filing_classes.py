"""The filing dialog's 小类 list reads ``0102 暴露垃圾（市容环境）``: the pinyin initials stay searchable (typing
``bllj`` finds 暴露垃圾) but are never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.desk import DeskService
from app.session import Session
from widgets.fonts import install_fonts

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def dialog(qtbot, qapp, demo_store_path):
    from app.map_data import MapData
    from widgets.desk.filing import FilingDialog

    install_fonts(qapp)
    desk = DeskService(str(demo_store_path), Session("intake01", "受理员", "intake"))
    data = MapData(demo_store_path)
    pt = data.polygons("unit_grid").geoms[5].representative_point()
    data.close()
    d = FilingDialog(desk, desk.filing_context(pt.x, pt.y))
    qtbot.addWidget(d)
    d.kind.setCurrentIndex(d.kind.findData("event"))
    d.show()
    yield d
    desk.close()


def _type(edit, text: str) -> None:
    """Type as a Chinese input method does: the composed text is committed in one event."""
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtWidgets import QApplication

    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(edit, event)


def _shown(d) -> list[str]:
    return [d.klass.itemText(i) for i in range(d.klass.count())]


def test_class_list_shows_no_pinyin_initials(qtbot, dialog):
    texts = _shown(dialog)
    dialog.klass.showPopup()
    qtbot.waitUntil(dialog.klass.view().isVisible, timeout=3000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.klass.view().window().grab().save(str(SHOTS / "filing_class_list.png"))
    dialog.klass.hidePopup()
    assert "0102 暴露垃圾（市容环境）" in texts
    assert not [t for t in texts if re.search(r"[a-z]", t)], texts  # no "bllj" tails


def test_initials_still_find_the_class(qtbot, dialog):
    edit = dialog.klass.lineEdit()
    edit.setFocus()
    edit.clear()
    qtbot.keyClicks(edit, "bllj")
    popup = dialog.klass.completer().popup()
    qtbot.waitUntil(popup.isVisible, timeout=3000)
    model = popup.model()
    rows = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert "0102 暴露垃圾（市容环境）" in rows
    assert all("bllj" not in r for r in rows)  # listed by their plain text
    assert len(rows) < dialog.klass.count()  # filtered, not the whole catalogue
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "filing_class_search.png"))
    popup.grab().save(str(SHOTS / "filing_class_search_popup.png"))  # a window of its own
    row = rows.index("0102 暴露垃圾（市容环境）")
    popup.setCurrentIndex(model.index(row, 0))
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert dialog.class_code() == "0102"
    assert edit.text() == "0102 暴露垃圾（市容环境）"  # the pick is shown without its initials


@pytest.mark.parametrize("typed", ["暴露", "0102", "市容环境"])
def test_name_code_and_major_find_the_class(qtbot, dialog, typed):
    edit = dialog.klass.lineEdit()
    edit.setFocus()
    edit.clear()
    _type(edit, typed)
    model = dialog.klass.completer().popup().model()
    rows = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert "0102 暴露垃圾（市容环境）" in rows
