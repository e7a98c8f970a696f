"""The pinned Qt binding must not leak references to None.

PySide6 6.12.0 on CPython 3.11 drops one reference to None on every call of a Qt method that
returns nothing; after a few thousand calls the process aborts ("Fatal Python error:
none_dealloc"). The project pins a release without that defect; this test keeps it that way.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject


def test_void_qt_calls_do_not_consume_references_to_none() -> None:
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(10_000):
        probe.setObjectName("probe")
    assert sys.getrefcount(None) - before > -100
