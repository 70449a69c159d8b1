"""The one bus event: ``changesApplied(Changes)``, from this seat's writer or from other seats' writes
seen by polling the event log. Every view refreshes only what the ``Changes`` value concerns."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.change_watch import ChangeWatcher


class Bus(QObject):
    changesApplied = Signal(object)
    storeError = Signal(str)

    def __init__(self, store_path: str, poll_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher = ChangeWatcher(store_path)
        self._timer = QTimer(self, interval=poll_ms)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    def poll(self) -> None:
        try:
            changes = self._watcher.poll()
        except Exception as exc:
            self.storeError.emit(str(exc))
            return
        if changes is not None:
            self.changesApplied.emit(changes)

    def announce(self, changes: object) -> None:
        """A local write finished: tell the views now, and skip it on the next poll."""
        self.changesApplied.emit(changes)

    def stop(self) -> None:
        self._timer.stop()
        self._watcher.close()
