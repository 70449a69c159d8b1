"""The layer tree dock: visibility check boxes, an opacity slider, each layer's scale range, and under the
case layer its legend (what each colour on the map means), built from the painter's own style table."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QSlider, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from widgets.map.styles import LayerSet, LegendEntry, case_legend

LAYER_ROLE = Qt.ItemDataRole.UserRole  # a layer's name; legend lines carry none
LEGEND_ROLE = Qt.ItemDataRole.UserRole + 1  # a legend line's LegendEntry


def _scale_text(min_mpp: float, max_mpp: float) -> str:
    def one(mpp: float) -> str:
        return f"1:{mpp / 0.000264583:,.0f}"

    if max_mpp >= 1e8 and min_mpp <= 0:
        return "全部比例尺"
    if max_mpp >= 1e8:
        return f"< {one(min_mpp)}"
    return f"> {one(max_mpp)}"


def swatch(rgb: tuple[int, int, int], size: int = 12) -> QIcon:
    """A round dot in the colour the map draws, as the case points look."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor(80, 80, 80))
    p.setBrush(QColor(*rgb))
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.end()
    return QIcon(pix)


def _legend_item(parent: QTreeWidgetItem, entry: LegendEntry) -> QTreeWidgetItem:
    scale = _scale_text(0.0, entry.max_mpp) if entry.max_mpp is not None else ""
    item = QTreeWidgetItem(parent, [entry.title, scale])
    item.setData(0, LEGEND_ROLE, entry)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not checkable, not selectable: a legend, not a layer
    if entry.color is not None:
        item.setIcon(0, swatch(entry.color))
    else:  # a heading: the whole row, wrapped, with its detail (the open status groups) below
        item.setFirstColumnSpanned(True)
        if entry.detail:
            item.setText(0, f"{entry.title}\n{entry.detail}")
    if entry.tooltip:
        item.setToolTip(0, entry.tooltip)
    for child in entry.children:
        _legend_item(item, child)
    return item


class LayerTree(QWidget):
    def __init__(self, layers: LayerSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layers = layers
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["图层", "显示比例"])
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(14)
        self.tree.setWordWrap(True)  # legend headings wrap within the dock
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
            item.setData(0, LAYER_ROLE, style.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if style.visible else Qt.CheckState.Unchecked)
            self.tree.addTopLevelItem(item)
            self._items[style.name] = item
            if style.name == "case":
                for entry in case_legend():
                    _legend_item(item, entry)
                item.setExpanded(True)
                for line in self.legend(style.name):
                    line.setExpanded(True)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.tree.setCurrentItem(self._items[layers.layers[-1].name])

    def item(self, name: str) -> QTreeWidgetItem:
        return self._items[name]

    def legend(self, name: str) -> list[QTreeWidgetItem]:
        """A layer's legend lines, depth first (headings before their lines)."""
        out: list[QTreeWidgetItem] = []

        def walk(item: QTreeWidgetItem) -> None:
            for i in range(item.childCount()):
                child = item.child(i)
                if child is not None:
                    out.append(child)
                    walk(child)

        walk(self._items[name])
        return out

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        name = item.data(0, LAYER_ROLE)
        if name is not None:
            self.layers.set_visible(name, item.checkState(0) == Qt.CheckState.Checked)

    def _current_changed(self, item: QTreeWidgetItem | None, _prev: object) -> None:
        while item is not None and item.data(0, LAYER_ROLE) is None:  # a legend line: its layer
            item = item.parent()
        if item is None:
            return
        style = self.layers.get(item.data(0, LAYER_ROLE))
        self.opacity_label.setText(f"透明度 — {style.title}")
        self.opacity.blockSignals(True)
        self.opacity.setValue(int(style.opacity * 100))
        self.opacity.blockSignals(False)

    def _opacity_changed(self, value: int) -> None:
        item = self.tree.currentItem()
        while item is not None and item.data(0, LAYER_ROLE) is None:
            item = item.parent()
        if item is not None:
            self.layers.set_opacity(item.data(0, LAYER_ROLE), value / 100)
