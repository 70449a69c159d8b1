"""The only module that knows about Qt threads.

* ``Writer``: one thread that owns the write connection. Operations are plain callables
  ``op(store) -> Changes`` from ``app/``; their results come back on the GUI thread, and every
  successful write is announced once on the bus signal ``changesApplied``.
* ``run_task``: long pure functions taking an ``app.progress.Progress`` run on the global thread pool
  with progress and cancel forwarded as signals; workers never touch widgets.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from app.progress import Cancelled, Progress


class Writer(QObject):
    """Serialises writes on one thread with its own store connection (opened by ``open_store``)."""

    changesApplied = Signal(object)  # app.changes.Changes
    _done = Signal(object, object, object)  # callback, result, error

    def __init__(self, open_store: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_store = open_store
        self._queue: queue.Queue[tuple[Callable[[Any], Any], Callable[[Any], None] | None,
                                       Callable[[Exception], None] | None] | None] = queue.Queue()
        self._done.connect(self._deliver)
        self._thread = threading.Thread(target=self._loop, name="wanmi-writer", daemon=True)
        self._thread.start()

    def submit(self, op: Callable[[Any], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None) -> None:
        self._queue.put((op, on_done, on_error))

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        store = self._open_store()
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                op, on_done, on_error = item
                try:
                    result = op(store)
                except Exception as exc:  # delivered to the GUI thread as a message, never lost
                    exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
                    self._done.emit(on_error, None, exc)
                else:
                    self._done.emit(on_done, result, None)
        finally:
            store.close()

    @Slot(object, object, object)
    def _deliver(self, callback: Callable[..., None] | None, result: Any, error: Exception | None) -> None:
        if error is None:
            if result is not None and hasattr(result, "cases"):
                self.changesApplied.emit(result)
            if callback is not None:
                callback(result)
        elif callback is not None:
            callback(error)


class TaskSignals(QObject):
    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()


class Task(QRunnable):
    def __init__(self, fn: Callable[[Progress], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = TaskSignals()
        self.progress = Progress(lambda f, m: self.signals.progress.emit(f, m))
        self.setAutoDelete(False)

    def run(self) -> None:
        try:
            result = self.fn(self.progress)
        except Cancelled:
            self._emit(self.signals.cancelled)
        except Exception as exc:
            self._emit(self.signals.failed, exc)
        else:
            self._emit(self.signals.finished, result)

    def _emit(self, signal: Any, *args: Any) -> None:
        # The application may be shutting down while the work finishes: nobody is left to tell.
        with contextlib.suppress(RuntimeError):
            signal.emit(*args)


_running: set[Task] = set()


def _release(task: Task) -> None:
    """The task is done and its result delivered (GUI thread): let it go.

    Two references would otherwise keep every task, its function and what that captures for good (the
    wall, refreshing all day, leaked one per refresh): ``QThreadPool.start`` hands the runnable to C++,
    and PySide keeps its Python object alive for as long as the C++ object exists, which with
    ``autoDelete`` off is forever; and the connections on ``task.signals`` hold callables that hold the
    task, a cycle through Qt that Python's gc cannot see. So the signal object is deleted later (not
    inside its own emission) and the C++ runnable once control is back in the event loop. Qt does not
    touch a runnable without auto-delete after ``run()``, so this is safe even if the pool thread is
    still returning from it.
    """
    if task not in _running:
        return
    _running.discard(task)
    # what the work captured goes now; the C++ runnable only after a grace period, because the pool
    # thread may still be returning from ``run()`` after it emitted (deleting it then is a use-after-free:
    # under load a CI run hung there), and nothing re-enters a finished task
    task.fn = _finished
    with contextlib.suppress(RuntimeError):  # already gone with the application
        task.signals.deleteLater()
    QTimer.singleShot(RUNNABLE_GRACE_MS, lambda: _delete_runnable(task))


RUNNABLE_GRACE_MS = 2000


def _finished(progress: Progress) -> None:
    raise RuntimeError("任务已结束 task already finished")


def _delete_runnable(task: Task) -> None:
    with contextlib.suppress(RuntimeError):
        shiboken6.delete(task)


def run_task(fn: Callable[[Progress], Any], on_done: Callable[[Any], None] | None = None,
             on_error: Callable[[Exception], None] | None = None,
             on_progress: Callable[[float, str], None] | None = None) -> Task:
    """Run ``fn(progress)`` on the pool; callbacks arrive on the GUI thread. Cancel via ``task.progress.cancel()``."""
    task = Task(fn)
    _running.add(task)
    if on_progress is not None:
        task.signals.progress.connect(on_progress)
    if on_done is not None:
        task.signals.finished.connect(on_done)
    if on_error is not None:
        task.signals.failed.connect(on_error)
    for sig in (task.signals.finished, task.signals.failed, task.signals.cancelled):
        sig.connect(lambda *_a, t=task: _release(t))
    QThreadPool.globalInstance().start(task)
    return task
