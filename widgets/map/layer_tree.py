"""The layer tree dock: visibility check boxes, an opacity slider and each layer's scale range."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSlider, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from widgets.map.styles import LayerSet


def _scale_text(min_mpp: float, max_mpp: float) -> str:
    def one(mpp: float) -> str:
        return f"1:{mpp / 0.000264583:,.0f}"

    if max_mpp >= 1e8 and min_mpp <= 0:
        return "全部比例尺"
    if max_mpp >= 1e8:
        return f"< {one(min_mpp)}"
    return f"> {one(max_mpp)}"


class LayerTree(QWidget):
    def __init__(self, layers: LayerSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layers = layers
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["图层", "显示比例"])
        self.tree.setRootIsDecorated(False)
        self.tree.setColumnWidth(0, 130)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity_label = QLabel("透明度")
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.tree)
        box.addWidget(self.opacity_label)
        box.addWidget(self.opacity)
        self._items: dict[str, QTreeWidgetItem] = {}
        for style in reversed(layers.layers):  # top layer first, as GIS users expect
            item = QTreeWidgetItem([style.title, _scale_text(style.min_mpp, style.max_mpp)])
            item.setData(0, Qt.ItemDataRole.UserRole, style.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if style.visible else Qt.CheckState.Unchecked)
            self.tree.addTopLevelItem(item)
            self._items[style.name] = item
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.tree.setCurrentItem(self._items[layers.layers[-1].name])

    def item(self, name: str) -> QTreeWidgetItem:
        return self._items[name]

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        name = item.data(0, Qt.ItemDataRole.UserRole)
        self.layers.set_visible(name, item.checkState(0) == Qt.CheckState.Checked)

    def _current_changed(self, item: QTreeWidgetItem | None, _prev: object) -> None:
        if item is None:
            return
        style = self.layers.get(item.data(0, Qt.ItemDataRole.UserRole))
        self.opacity_label.setText(f"透明度 — {style.title}")
        self.opacity.blockSignals(True)
        self.opacity.setValue(int(style.opacity * 100))
        self.opacity.blockSignals(False)

    def _opacity_changed(self, value: int) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.layers.set_opacity(item.data(0, Qt.ItemDataRole.UserRole), value / 100)
