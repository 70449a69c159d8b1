"""``python main.py`` / ``python main.py console``: open the seat console on a store.

On first run (no store yet) the demo city is built on a worker thread behind a progress dialog that
can be cancelled; then the user signs in and the main window opens. ``main.py`` only routes here; this
module builds the services and hands them to the views.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.paths import RESOURCES


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", help="用户名 (跳过登录对话框时与 --password 一起使用)")
    p.add_argument("--password", help="密码")
    p.add_argument("--city", default="xuzhou", help="首次运行时生成的演示城市")
    p.add_argument("--screenshot", help="打开后保存窗口截图到 PNG 文件并退出 (用于检查界面)")


def build_demo_with_progress(path: Path, city: str, scale: str = "demo", simulate: bool = True) -> bool:
    """Build the demo store behind a cancellable progress dialog; False if cancelled or failed (then no
    store file is left behind)."""
    from PySide6.QtCore import QEventLoop, Qt
    from PySide6.QtWidgets import QMessageBox, QProgressDialog

    from app.demo import build_demo
    from widgets.workers import run_task

    dialog = QProgressDialog("正在生成演示城市…", "取消", 0, 1000)
    dialog.setObjectName("first_run_progress")
    dialog.setWindowTitle("万米 — 首次运行")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setMinimumWidth(520)
    loop = QEventLoop()
    outcome: dict[str, object] = {}

    def on_progress(fraction: float, message: str) -> None:
        dialog.setValue(int(fraction * 1000))
        dialog.setLabelText(message or "正在生成演示城市…")

    def done(_result: object) -> None:
        outcome["ok"] = True
        loop.quit()

    def failed(exc: Exception) -> None:
        outcome["error"] = exc
        loop.quit()

    task = run_task(lambda progress: build_demo(path, city=city, scale=scale, progress=progress, simulate=simulate),
                    on_done=done, on_error=failed, on_progress=on_progress)
    task.signals.cancelled.connect(loop.quit)
    dialog.canceled.connect(task.progress.cancel)
    loop.exec()
    dialog.close()
    if "error" in outcome:
        box = QMessageBox(QMessageBox.Icon.Critical, "生成失败", f"演示城市生成失败：{outcome['error']}")
        box.setObjectName("first_run_error")
        box.exec()
    if not outcome.get("ok"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return False
    return True


def make_application() -> object:
    from PySide6.QtWidgets import QApplication

    from widgets.fonts import install_fonts

    existing = QApplication.instance()
    if existing is None:
        app = QApplication(sys.argv[:1])
    elif isinstance(existing, QApplication):
        app = existing
    else:  # a QCoreApplication/QGuiApplication cannot show widgets
        raise RuntimeError(f"the console needs a QApplication, found '{type(existing).__name__}'")
    app.setApplicationName("Wanmi")
    app.setOrganizationName("Wanmi")
    install_fonts(app)
    qss = RESOURCES / "styles" / "console.qss"
    if qss.exists():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    return app


def run(args: argparse.Namespace) -> int:
    from PySide6.QtWidgets import QDialog

    app = make_application()
    path = Path(args.store)
    if not path.exists() and not build_demo_with_progress(path, args.city):
        return 1
    user = args.user or os.environ.get("WANMI_USER")
    password = args.password or os.environ.get("WANMI_PASSWORD")
    if user and password is not None:
        from app.session import sign_in

        session = sign_in(str(path), user, password)
    else:
        from widgets.login import LoginDialog

        dialog = LoginDialog(str(path))
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.session is None:
            return 0
        session = dialog.session
    from widgets.console import build_console

    window = build_console(str(path), session)
    window.show()
    if args.screenshot:
        from PySide6.QtCore import QTimer

        def shoot() -> None:
            if window.canvas.loading:  # the big layers are still arriving from their worker threads
                QTimer.singleShot(200, shoot)
                return
            window.canvas.refresh()
            window.grab().save(args.screenshot)
            app.quit()  # type: ignore[attr-defined]

        QTimer.singleShot(1500, shoot)
    return int(app.exec())  # type: ignore[attr-defined]
