"""Layer styles and the layer set (visibility, opacity, scale ranges) the canvas and layer tree share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.desk import LIGHT_TITLES
from app.map_data import CASE_GROUP_ORDER, LAYER_TITLES, LIGHTS, PART_MAJORS

#: RGB per part major class (01 公用设施 … 06 其他设施).
PART_COLORS = [(30, 110, 200), (230, 140, 20), (140, 80, 180), (40, 160, 60), (150, 110, 70), (90, 90, 90)]
#: Status overrides: intact uses the class colour; damaged orange-red, missing red, abandoned grey.
PART_STATUS_COLORS = [None, (240, 80, 30), (220, 0, 0), (130, 130, 130), (180, 180, 180)]
#: Case colours: by traffic light for open cases (index = ``app.map_data.LIGHTS``), by group for the
#: closed and void cases (drawn only at street level). The map painter and the legend both read these.
LIGHT_COLORS = [(30, 170, 70), (240, 190, 0), (225, 30, 30), (140, 0, 160)]
CASE_GROUP_COLORS = {
    "已结案": (120, 120, 120), "已作废": (190, 190, 190),
}
#: Metres per pixel from which on closed and void cases are drawn (street level): open work stands out.
CLOSED_CASES_MAX_MPP = 3.0


@dataclass
class LayerStyle:
    """One entry of the layer tree. Scales are metres per pixel: shown when min_mpp <= mpp <= max_mpp."""

    name: str
    title: str
    visible: bool = True
    opacity: float = 1.0
    min_mpp: float = 0.0
    max_mpp: float = 1e9
    kind: str = "polygon"  # polygon | line | point | heat

    def shown_at(self, mpp: float) -> bool:
        return self.visible and self.min_mpp <= mpp <= self.max_mpp


@dataclass
class LayerSet:
    layers: list[LayerStyle] = field(default_factory=list)
    _listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False)

    def subscribe(self, fn: Callable[[str], None]) -> None:
        self._listeners.append(fn)

    def get(self, name: str) -> LayerStyle:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def set_visible(self, name: str, visible: bool) -> None:
        layer = self.get(name)
        if layer.visible != visible:
            layer.visible = visible
            self._emit(name)

    def set_opacity(self, name: str, opacity: float) -> None:
        layer = self.get(name)
        opacity = max(0.0, min(1.0, opacity))
        if layer.opacity != opacity:
            layer.opacity = opacity
            self._emit(name)

    def _emit(self, name: str) -> None:
        for fn in list(self._listeners):
            fn(name)


def default_layers() -> LayerSet:
    """Drawing order bottom → top. Grids appear at ≤ 8 m/px (a 100 m grid ≥ 12 px), parts at ≤ 4 m/px
    as symbols (as a density raster when zoomed out), labels by layer at their own scales."""
    t = LAYER_TITLES
    return LayerSet([
        LayerStyle("district", t["district"]),
        LayerStyle("street", t["street"], max_mpp=60),
        LayerStyle("community", t["community"], max_mpp=15),
        LayerStyle("unit_grid", t["unit_grid"], max_mpp=8),  # ~1:30,000: a 100 m grid is ≥ 12 px
        LayerStyle("heat", t["heat"], visible=False, opacity=0.7, kind="heat"),  # above the district fill
        LayerStyle("road", t["road"], kind="line", max_mpp=40),
        LayerStyle("beat", t["beat"], visible=False, max_mpp=40),
        LayerStyle("part", t["part"], kind="point"),
        LayerStyle("case", t["case"], kind="point"),
    ])


@dataclass(frozen=True)
class LegendEntry:
    """One legend line under a layer: a colour swatch (or none for a heading) and what it means."""

    title: str
    color: tuple[int, int, int] | None = None  # None: a heading
    tooltip: str = ""
    detail: str = ""  # a heading's further lines (the open status groups)
    max_mpp: float | None = None  # drawn only up to this many metres per pixel (closer in)
    children: tuple[LegendEntry, ...] = ()


def case_legend() -> list[LegendEntry]:
    """What the case layer's colours mean, built from the tables the painter draws with.

    Open cases are coloured by their stage's traffic light whatever their status group, so the open groups
    are listed under one heading with the four lights; closed and void cases have a grey each.
    """
    open_groups = [g for g in CASE_GROUP_ORDER if g not in CASE_GROUP_COLORS]
    lights = tuple(
        LegendEntry(LIGHT_TITLES[light], LIGHT_COLORS[i], f"在办案件，当前环节时限：{LIGHT_TITLES[light]}")
        for i, light in enumerate(LIGHTS)
    )
    return [
        LegendEntry("在办案件：按当前环节时限着色", None, "、".join(open_groups), detail="\n".join(" ".join(open_groups[i:i + 4]) for i in range(0, len(open_groups), 4)),
                    children=lights),
        *(LegendEntry(g, CASE_GROUP_COLORS[g], f"{g}案件：放大到街道级时显示",
                      max_mpp=CLOSED_CASES_MAX_MPP)
          for g in CASE_GROUP_ORDER if g in CASE_GROUP_COLORS),
    ]


__all__ = ["CASE_GROUP_ORDER", "PART_MAJORS", "LayerSet", "LayerStyle", "LegendEntry", "case_legend",
           "default_layers"]
