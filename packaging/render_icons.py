"""Render the SVG application icon into the PNG sizes desktops use (run after editing the SVG).

.venv/bin/python packaging/render_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icons" / "seedance-desktop.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs an application to paint
    renderer = QSvgRenderer(str(SOURCE))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = ROOT / "resources" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        image.save(str(target / "seedance-desktop.png"))
    # Windows and macOS icon files, from the largest PNG (Pillow writes both formats).
    from PIL import Image

    largest = ROOT / "resources" / "icons" / "hicolor" / "512x512" / "apps" / "seedance-desktop.png"
    with Image.open(largest) as image:
        image.save(ROOT / "resources" / "icons" / "seedance-desktop.ico",
                   sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])  # fmt: skip
        image.save(ROOT / "resources" / "icons" / "seedance-desktop.icns")
    print(f"rendered {len(SIZES)} sizes, .ico and .icns from {SOURCE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
