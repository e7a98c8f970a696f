"""The asyncio loop the window runs on: qasync's Qt-driven loop, with asyncio's async-generator
hooks installed as `asyncio.BaseEventLoop.run_forever` installs them and qasync does not.

Without the hooks an abandoned async generator is closed synchronously by the garbage collector,
outside any task. httpx reads a response body through a chain of nested async generators; when
the outer one is closed (a status stream that ended, a finished download) the inner ones are
dropped, and httpcore's innermost one then tries to hand its connection back to the pool with an
`await` that cannot run there. The connection stays checked out for good: after
`max_connections` jobs every request waits for the pool and the queue stalls. With the hooks the
loop closes such generators in a task of their own, as it does outside Qt.
"""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ.setdefault("QT_API", "pyside6")  # qasync must pick this binding

import qasync


class QtEventLoop(qasync.QEventLoop):
    def run_forever(self) -> Any:
        previous = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(
            firstiter=self._asyncgen_firstiter_hook, finalizer=self._asyncgen_finalizer_hook
        )
        try:
            return super().run_forever()
        finally:
            sys.set_asyncgen_hooks(*previous)
