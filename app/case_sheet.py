"""A printable case sheet (案卷): one A4 PDF page with the case's facts, a map, photos and its timeline."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def write_case_sheet(detail: Any, map_png: bytes | str | Path | None, out: str | Path) -> Path:
    """``detail`` is an ``app.desk.CaseDetail``; ``map_png`` the map thumbnail (PNG bytes or a file);
    fonts are the bundled CJK font, embedded in the PDF."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    from app.mpl_fonts import use_cjk_font

    use_cjk_font()
    s, r = detail.state, detail.row
    fig = Figure(figsize=(8.27, 11.69))
    fig.text(0.5, 0.965, "数字化城市管理案卷", ha="center", fontsize=18, weight="bold")
    fig.text(0.5, 0.94, f"案件编号 {s.case_no}", ha="center", fontsize=12)
    facts = [
        ("状态", r.status_title), ("来源", r.source_title), ("类别", r.class_name), ("区", r.district),
        ("位置", r.address), ("网格", s.grid_code or ""), ("处置部门", r.department or "—"),
        ("上报时间", r.reported_at), ("环节时限", r.deadline or "—"), ("剩余时间", detail.remaining or "—"),
        ("问题描述", (s.description or "")[:60]),
    ]
    y = 0.905
    for k, v in facts:
        fig.text(0.08, y, f"{k}：", fontsize=10, weight="bold")
        fig.text(0.2, y, str(v), fontsize=10)
        y -= 0.022
    if isinstance(map_png, bytes) or (map_png and Path(map_png).exists()):
        ax = fig.add_axes((0.58, 0.70, 0.36, 0.22))
        ax.imshow(imread(io.BytesIO(map_png), format="png") if isinstance(map_png, bytes) else imread(str(map_png)))
        ax.set_axis_off()
        ax.set_title("位置示意", fontsize=9)
    photo_slots = [("report", "处置前", 0.08), ("handle", "处置后", 0.52)]
    for stage, title, x in photo_slots:
        ax = fig.add_axes((x, 0.45, 0.40, 0.2))
        ax.set_axis_off()
        ax.set_title(title, fontsize=10)
        images = detail.photos.get(stage) or []
        if images:
            ax.imshow(imread(io.BytesIO(images[0]), format="jpg" if images[0][:2] == b"\xff\xd8" else "png"))
        else:
            ax.text(0.5, 0.5, "（无照片）", ha="center", va="center", fontsize=10, transform=ax.transAxes)
    fig.text(0.08, 0.42, "办理过程", fontsize=12, weight="bold")
    y = 0.395
    for e in detail.events[:22]:
        line = f"{e['at']}  {e['action']}  {e['actor']}（{e['role']}）  {e['note']}"
        fig.text(0.08, y, line[:70], fontsize=8.5)
        y -= 0.016
    out = Path(out)
    with PdfPages(out) as pdf:
        pdf.savefig(fig)
    return out
