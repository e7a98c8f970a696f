"""Drop slots for references: drag and drop, paste, file picker, thumbnails, reordering.

A group shows one reference field of a compose model and edits it only through the model (which
renumbers the prompt's tokens). Probing and thumbnails run in worker threads; the window never waits
for them, and probe results are handed to the model. A group knows its kind, so a file of the
wrong kind is refused with a message instead of sitting in the wrong slot.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.compose.model import CAPACITY, Aspect, Change, ComposeModel
from seedance_desktop.domain.media_info import MediaInfo, MediaKind, ProbeFailure, ProbeResult
from seedance_desktop.domain.tokens import token_text
from seedance_desktop.domain.validation import Problem
from seedance_desktop.media.names import display_name
from seedance_desktop.media.references import is_remote
from seedance_desktop.ui.compose.binding import bind
from seedance_desktop.ui.fit_dialog import fit_button, fittable_references
from seedance_desktop.ui.tasks import TaskRunner

_FILTERS = {
    MediaKind.IMAGE: "Images (*.jpg *.jpeg *.png *.webp *.gif *.avif)",
    MediaKind.VIDEO: "Videos (*.mp4 *.mov)",
    MediaKind.AUDIO: "Audio (*.mp3 *.wav)",
}
_THUMB = QSize(104, 64)


def kind_of_file(path: str) -> MediaKind | None:
    """The slot kind a file name belongs to, by its extension (as the file picker filters)."""
    suffix = Path(path).suffix.lower()
    for kind, text in _FILTERS.items():
        if f"*{suffix}" in text.split("(", 1)[1].rstrip(")").split():
            return kind
    return None


def _probe(ref: str) -> ProbeResult:
    # PyAV, numpy and Pillow load on first use, in a worker thread: not before the first paint.
    from seedance_desktop.media.probe import probe

    return probe(ref)


def _size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def references_in(mime: QMimeData) -> list[str]:
    """Local files and http(s) links carried by a drop or a paste."""
    refs = [u.toLocalFile() if u.isLocalFile() else u.toString() for u in mime.urls()]
    if not refs and mime.hasText():
        refs = [line.strip() for line in mime.text().splitlines() if line.strip()]
    return [r for r in refs if r and (is_remote(r) or Path(r).exists() or r.startswith("/"))]


class Slot(QFrame):
    """One slot: a thumbnail, the file's name, size and duration, its problems, a clear button."""

    cleared = Signal()
    tokenClicked = Signal()
    fitClicked = Signal()

    def __init__(self, number: int, kind: MediaKind, title: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.number = number
        self.kind = kind
        self.title = title
        self.reference: str | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.thumb = QLabel()
        self.thumb.setFixedSize(_THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = QLabel()
        self.details = QLabel()
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.token = QPushButton(token_text(kind, number))
        self.token.setToolTip("Insert this reference's token into the prompt")
        self.token.setFlat(True)
        self.token.clicked.connect(self.tokenClicked)
        self.clear_button = QPushButton("×")
        self.clear_button.setFixedWidth(24)
        self.clear_button.setToolTip("Clear this slot (Delete)")
        self.clear_button.clicked.connect(self.cleared)
        top = QHBoxLayout()
        top.addWidget(self.token)
        top.addStretch(1)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.thumb)
        for label in (self.name, self.details, self.problems):
            label.setMaximumWidth(_THUMB.width() + 20)
            layout.addWidget(label)
        self.fit_button = fit_button(self)  # "Fit…" on the problem line (ui/fit_dialog.py)
        self.fit_button.clicked.connect(self.fitClicked)
        layout.addWidget(self.fit_button)
        self.show_empty()

    def show_empty(self) -> None:
        self.reference = None
        self.thumb.setPixmap(QPixmap())
        self.thumb.setText("Drop or\nclick to add")
        self.name.setText("")
        self.details.setText("")
        self.problems.setText("")
        self.token.setVisible(False)
        self.clear_button.setVisible(False)
        self.setAccessibleName(f"{self.title} {self.number}: empty")

    def show_reference(self, reference: str) -> None:
        self.reference = reference
        name = reference if is_remote(reference) else display_name(reference)
        self.name.setText(name if len(name) < 22 else name[:20] + "…")
        self.name.setToolTip(reference)
        self.thumb.setText("…")
        self.details.setText("checking…" if not is_remote(reference) else "link")
        self.token.setVisible(True)
        self.clear_button.setVisible(True)
        self.setAccessibleName(f"{self.title} {self.number}: {name}")

    def show_info(self, info: ProbeResult) -> None:
        if isinstance(info, ProbeFailure):
            self.details.setText("")
            self.show_problems([info.message], error=True)
            return
        parts = [_size_text(info.size_bytes)]
        if info.width and info.height:
            parts.append(f"{info.width}×{info.height}")
        if info.duration_s is not None:
            parts.append(f"{info.duration_s:.1f} s")
        self.details.setText(" · ".join(parts))

    def show_thumbnail(self, path: Path | None) -> None:
        image = QImage(str(path)) if path else QImage()
        if image.isNull():
            self.thumb.setText(self.kind.value)
            return
        scaled = image.scaled(_THUMB, Qt.AspectRatioMode.KeepAspectRatio)
        self.thumb.setPixmap(QPixmap.fromImage(scaled))

    def show_problems(self, messages: list[str], *, error: bool) -> None:
        colour = "#b3261e" if error else "#8a5a00"
        self.problems.setText(f"<span style='color:{colour}'>{'<br>'.join(messages)}</span>")
        self.problems.setToolTip("\n".join(messages))


class SlotGroup(QWidget):
    """The slots of one reference field of a compose model (image, video or audio)."""

    tokenRequested = Signal(str)
    message = Signal(str)
    fitRequested = Signal(str, str)  # field, reference

    def __init__(
        self,
        model: ComposeModel,
        field: str,
        kind: MediaKind,
        title: str,
        tasks: TaskRunner,
        thumbnails: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.field = field
        self.kind = kind
        self.capacity = CAPACITY[field]
        self.title = title
        self.tasks = tasks
        self.thumbnails = thumbnails
        self.setAcceptDrops(True)
        self._thumbs: dict[str, Path | None] = {}
        self._probing: set[str] = set()
        self.slots = [Slot(n + 1, kind, title, self) for n in range(self.capacity)]
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        columns = min(self.capacity, 3)
        for index, slot in enumerate(self.slots):
            grid.addWidget(slot, index // columns, index % columns)
            slot.cleared.connect(lambda s=slot: self.remove(s.number - 1))
            slot.fitClicked.connect(lambda s=slot: self.fitRequested.emit(field, s.reference))
            slot.tokenClicked.connect(
                lambda s=slot: self.tokenRequested.emit(token_text(kind, s.number))
            )
            slot.installEventFilter(self)
            slot.mousePressEvent = lambda _e, s=slot: self._clicked(s)  # type: ignore[method-assign]
        bind(model.changed, self, self._follow)
        self._follow(Change(frozenset({Aspect.LOADED})))

    # Public API --------------------------------------------------------------------------------

    def references(self) -> list[str]:
        return list(self.model.references(self.field))

    def media(self) -> dict[str, ProbeResult]:
        found = self.model.media
        return {r: found[r] for r in self.references() if r in found}

    def pending(self) -> int:
        """Files of this group still being probed."""
        return len(self._probing)

    def add_references(self, refs: list[str], at: int | None = None) -> None:
        left = self.model.add_references(self.field, refs, at)
        if left:
            self.message.emit(
                f"{self.title}: only {self.capacity} fit; {len(left)} file(s) were left out."
            )

    def remove(self, index: int) -> None:
        self.model.remove_reference(self.field, index)

    def move_slot(self, index: int, to: int) -> None:
        if 0 <= to < len(self.references()):
            self.model.move_reference(self.field, index, to)
            self.slots[to].setFocus()

    def clear(self) -> None:
        self.model.clear_references(self.field)

    def set_problems(self, problems: dict[int, list[Problem]]) -> None:
        fittable = fittable_references(self.model, self.field)
        for index, slot in enumerate(self.slots):
            slot.fit_button.setVisible(slot.reference in fittable)
            found = problems.get(index, [])
            info = self.model.media.get(slot.reference or "")
            if isinstance(info, ProbeFailure):
                continue
            if found:
                slot.show_problems([p.message for p in found], error=any(p.is_error for p in found))
            else:
                slot.problems.setText("")
                slot.problems.setToolTip("")

    def paste(self) -> None:
        """References from the clipboard: files, links, or picture data (saved as a PNG)."""
        mime = QGuiApplication.clipboard().mimeData()
        refs = references_in(mime)
        if not refs and mime.hasImage() and self.kind is MediaKind.IMAGE:
            image = QGuiApplication.clipboard().image()
            if not image.isNull():
                refs = [str(self._save_pasted(image))]
        if refs:
            self.add_references(refs)
        else:
            self.message.emit("The clipboard holds nothing that can go into these slots.")

    def pick_files(self) -> None:
        dialog = QFileDialog(
            self, f"Add {self.title.lower()}", str(Path.home()), _FILTERS[self.kind]
        )
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self.add_references)
        dialog.open()
        self._dialog = dialog

    # Events ------------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt's name
        if event.mimeData().hasUrls() or event.mimeData().hasText():
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # Qt's name
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt's name
        refs = references_in(event.mimeData())
        if not refs:
            self.message.emit("Only files and links can be dropped here.")
            return
        target = self.childAt(event.position().toPoint())
        slot = next(
            (s for s in self.slots if target is s or (target and s.isAncestorOf(target))), None
        )
        self.add_references(refs, at=None if slot is None else slot.number - 1)
        event.acceptProposedAction()

    def eventFilter(self, watched: object, event: object) -> bool:  # Qt's name
        if isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            slot = watched if isinstance(watched, Slot) else None
            if slot is not None and slot.reference is not None:
                index = slot.number - 1
                ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
                if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                    self.remove(index)
                    return True
                if ctrl and event.key() == Qt.Key.Key_Left:
                    self.move_slot(index, index - 1)
                    return True
                if ctrl and event.key() == Qt.Key.Key_Right:
                    self.move_slot(index, index + 1)
                    return True
            if slot is not None and event.matches(QKeySequence.StandardKey.Paste):
                self.paste()
                return True
            if slot is not None and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Space):
                self._clicked(slot)
                return True
        return super().eventFilter(watched, event)  # type: ignore[arg-type]

    # Internals ---------------------------------------------------------------------------------

    def _clicked(self, slot: Slot) -> None:
        slot.setFocus()
        if slot.reference is None:
            self.pick_files()

    def _follow(self, change: Change) -> None:
        if change.aspects & {Aspect.REFERENCES, Aspect.MEDIA, Aspect.LOADED}:
            self._render()
            self._probe_new()

    def _render(self) -> None:
        refs = self.references()
        media = self.model.media
        for index, slot in enumerate(self.slots):
            if index < len(refs):
                ref = refs[index]
                slot.show_reference(ref)
                if ref in media:
                    slot.show_info(media[ref])
                if ref in self._thumbs:
                    slot.show_thumbnail(self._thumbs[ref])
            else:
                slot.show_empty()

    def _probe_new(self) -> None:
        """Probe (off the UI thread) every local file of this group not yet checked."""
        waiting = set(self.model.awaiting_probe())
        for ref in self.references():
            if ref in waiting and ref not in self._probing:
                self._probing.add(ref)
                self.tasks.run(self._inspect(ref), f"Reading {display_name(ref)}")

    async def _inspect(self, ref: str) -> None:
        try:
            info = await asyncio.to_thread(_probe, ref)
            if isinstance(info, MediaInfo) and info.kind is not self.kind:
                self.message.emit(
                    f"{display_name(ref)} is {'an' if info.kind.value[0] in 'aeiou' else 'a'} "
                    f"{info.kind.value}; drop it on the {info.kind.value} slots."
                )
                self.model.discard_reference(ref)
                return
            self.model.set_media(ref, info)
            if isinstance(info, MediaInfo) and ref not in self._thumbs:
                self._thumbs[ref] = await asyncio.to_thread(self._thumbnail, ref, info)
                self._render()
        finally:
            self._probing.discard(ref)

    def _thumbnail(self, ref: str, info: MediaInfo) -> Path | None:
        from seedance_desktop.media.frames import audio_waveform, image_thumbnail, poster_frame

        key = hashlib.sha256(ref.encode("utf-8", "surrogateescape")).hexdigest()[:24]
        out = self.thumbnails / f"slot-{key}.{'png' if info.kind is MediaKind.AUDIO else 'jpg'}"
        try:
            if info.kind is MediaKind.IMAGE:
                return image_thumbnail(Path(ref), out, max_side=160)
            if info.kind is MediaKind.VIDEO:
                return poster_frame(Path(ref), out, max_side=160)
            return audio_waveform(Path(ref), out, width=160, height=64)
        except Exception:
            return None

    def _save_pasted(self, image: QImage) -> Path:
        folder = self.thumbnails / "pasted"
        folder.mkdir(parents=True, exist_ok=True)
        data = bytes(image.constBits())  # type: ignore[call-overload]
        path = folder / f"pasted-{hashlib.sha256(data).hexdigest()[:16]}.png"
        image.save(str(path), "PNG")
        return path
