"""Drop slots for references: drag and drop, paste, file picker, thumbnails, reordering.

A group shows one reference field of a compose model and edits it only through the model (which
renumbers the prompt's tokens). Probing and thumbnails run in worker threads; the window never waits
for them, and probe results are handed to the model. A group knows its kind, so a file of the
wrong kind is refused with a message instead of sitting in the wrong slot.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontMetrics,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.compose.model import CAPACITY, TOKEN_FIELDS, Aspect, Change, ComposeModel
from seedance_desktop.domain.media_info import MediaInfo, MediaKind, ProbeFailure, ProbeResult
from seedance_desktop.domain.tokens import token_text
from seedance_desktop.domain.validation import Problem
from seedance_desktop.media.names import display_name
from seedance_desktop.media.references import is_remote
from seedance_desktop.ui.compose.binding import bind
from seedance_desktop.ui.compose.flow_layout import FlowLayout
from seedance_desktop.ui.fit_dialog import fit_button, fittable_references
from seedance_desktop.ui.icons import icon
from seedance_desktop.ui.tasks import TaskRunner
from seedance_desktop.ui.theme import colours

_FILTERS = {
    MediaKind.IMAGE: "Images (*.jpg *.jpeg *.png *.webp *.gif *.avif)",
    MediaKind.VIDEO: "Videos (*.mp4 *.mov)",
    MediaKind.AUDIO: "Audio (*.mp3 *.wav)",
}


def kind_of_file(path: str) -> MediaKind | None:
    """The slot kind a file name belongs to, by its extension (as the file picker filters)."""
    suffix = Path(path).suffix.lower()
    for kind, text in _FILTERS.items():
        if f"*{suffix}" in text.split("(", 1)[1].rstrip(")").split():
            return kind
    return None


TILE_WIDTH = 116
_THUMB = QSize(TILE_WIDTH - 12, 62)
_TEXT_WIDTH = TILE_WIDTH - 14


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


_KIND_NAMES = {MediaKind.IMAGE: "Images", MediaKind.VIDEO: "Videos", MediaKind.AUDIO: "Audio"}


def save_pasted_image(image: QImage, folder: Path) -> Path:
    """Picture data from the clipboard, kept as a PNG named by its content (pasting the same
    picture twice makes one file)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = bytes(image.constBits())
    path = folder / f"pasted-{hashlib.sha256(data).hexdigest()[:16]}.png"
    if not path.exists():
        partial = path.with_suffix(".part")
        image.save(str(partial), "PNG")  # type: ignore[call-overload]
        partial.replace(path)  # never a half-written picture under the final name
    return path


class Slot(QFrame):
    """One tile: the picture (the image, a frame of the video, the audio's waveform), the file's
    name, size and duration, its problems in full, and a row of actions (Locate… for a file that
    has moved; colleagues add theirs with `add_action`). An empty slot is the "add" tile."""

    cleared = Signal()
    clicked = Signal()
    tokenClicked = Signal()
    locateRequested = Signal()
    fitClicked = Signal()

    def __init__(
        self, number: int, kind: MediaKind, title: str, parent: QWidget, *, tokens: bool = True
    ) -> None:
        super().__init__(parent)
        self.number = number
        self.kind = kind
        self.title = title
        self.reference: str | None = None
        self.setObjectName("tile")
        self.setFixedWidth(TILE_WIDTH)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.thumb = QLabel()
        self.thumb.setFixedSize(_THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = QLabel()
        self.name.setObjectName("tileName")
        self.name.setWordWrap(True)  # "Add start frame…" on two lines; a file name is elided
        self.details = QLabel()
        self.details.setObjectName("tileDetails")
        self.details.setWordWrap(True)
        self.problems = QLabel()
        self.problems.setObjectName("tileProblems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        label = token_text(kind, number) if tokens else title.split(" (")[0]
        self.token = QPushButton(label)
        self.token.setObjectName("tileToken")
        self.token.setFlat(True)
        self.has_token = tokens
        if tokens:
            self.token.setToolTip("Insert this reference's token into the prompt")
            self.token.clicked.connect(self.tokenClicked)
        else:
            self.token.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.clear_button = QToolButton()
        self.clear_button.setIcon(icon("close"))
        self.clear_button.setAutoRaise(True)
        self.clear_button.setToolTip("Clear this slot (Delete)")
        self.clear_button.setAccessibleName("Clear")
        self.clear_button.clicked.connect(self.cleared)
        self.locate_button = QPushButton("Locate…")
        self.locate_button.setToolTip("The file has moved: pick where it is now")
        self.locate_button.clicked.connect(self.locateRequested)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.token)
        top.addStretch(1)
        top.addWidget(self.clear_button)
        # Per-tile actions: Locate… here; more (e.g. "Fit…") go in with add_action().
        self.actions_row = QHBoxLayout()
        self.actions_row.setContentsMargins(0, 0, 0, 0)
        self.actions_row.addWidget(self.locate_button)
        self.actions_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.thumb)
        for widget in (self.name, self.details, self.problems):
            layout.addWidget(widget)
        layout.addLayout(self.actions_row)
        self.fit_button = fit_button(self)  # "Fit…" on the problem line (ui/fit_dialog.py)
        self.fit_button.clicked.connect(self.fitClicked)
        self.add_action(self.fit_button)
        self.show_empty()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # Qt's name
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)

    def restyle(self) -> None:
        """The theme changed: icons in its colours, and the size the new style needs."""
        self.clear_button.setIcon(icon("close"))
        if self.reference is None:
            self.show_empty()
        self.updateGeometry()

    def add_action(self, button: QAbstractButton) -> None:
        """Put a per-tile action (a button) in the tile's action row."""
        self.actions_row.insertWidget(self.actions_row.count() - 1, button)

    def _set_empty(self, empty: bool) -> None:
        self.setProperty("empty", empty)
        self.style().unpolish(self)
        self.style().polish(self)

    def show_empty(self) -> None:
        self.reference = None
        self._set_empty(True)
        self.thumb.setPixmap(icon("add", 28, colours().muted_text).pixmap(28, 28))
        self.thumb.setText("")
        what = self.title.split(" (")[0].lower() if self.capacity_one else self.kind.value
        self.name.setText(f"Add {what}…")
        optional = "optional" in self.title.lower()
        self.details.setText(
            "Optional: drop, paste or click" if optional else "Drop, paste or click"
        )
        self.problems.setText("")
        self.problems.setVisible(False)
        self.locate_button.setVisible(False)
        self.token.setVisible(self.capacity_one)
        self.clear_button.setVisible(False)
        self.setToolTip(f"Add {what}: drop files here, paste with Ctrl+V, or click to pick files")
        self.setAccessibleName(f"{self.title} {self.number}: empty")

    @property
    def capacity_one(self) -> bool:
        """A named single slot (Start frame, End frame) rather than a numbered list entry."""
        return not self.has_token

    def show_reference(self, reference: str) -> None:
        self.reference = reference
        self._set_empty(False)
        name = reference if is_remote(reference) else display_name(reference)
        metrics = QFontMetrics(self.name.font())
        self.name.setText(metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, _TEXT_WIDTH))
        self.name.setToolTip(reference)
        self.setToolTip("")
        self.thumb.setPixmap(QPixmap())
        self.thumb.setText("…")
        self.details.setText("checking…" if not is_remote(reference) else "link")
        self.locate_button.setVisible(False)
        self.token.setVisible(True)
        self.clear_button.setVisible(True)
        self.setAccessibleName(f"{self.title} {self.number}: {name}")

    def show_info(self, info: ProbeResult) -> None:
        if isinstance(info, ProbeFailure):
            self.details.setText("")
            self.show_problems([info.message], error=True)
            missing = self.reference is not None and not is_remote(self.reference)
            self.locate_button.setVisible(missing and not Path(self.reference or "").exists())
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
        scaled = image.scaled(
            _THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.thumb.setPixmap(QPixmap.fromImage(scaled))

    def show_problems(self, messages: list[str], *, error: bool) -> None:
        palette = colours()
        colour = palette.error_text if error else palette.warning_text
        body = "<br>".join(html.escape(m) for m in messages)
        self.problems.setText(f"<span style='color:{colour}'>{body}</span>")
        self.problems.setToolTip("\n".join(messages))
        self.problems.setVisible(True)

    def clear_problems(self) -> None:
        self.problems.setText("")
        self.problems.setToolTip("")
        self.problems.setVisible(False)


class SlotGroup(QWidget):
    """The slots of one reference field of a compose model (image, video or audio)."""

    tokenRequested = Signal(str)
    message = Signal(str)
    foreignFiles = Signal(list)  # dropped here but of another kind: the panel routes them
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
        *,
        pasted: Path | None = None,
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
        self.pasted = pasted if pasted is not None else thumbnails / "pasted"
        tokens = field in TOKEN_FIELDS
        self.slots = [Slot(n + 1, kind, title, self, tokens=tokens) for n in range(self.capacity)]
        self.header = QLabel()
        self.header.setObjectName("groupHeader")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        outer.addWidget(self.header)
        self.flow = FlowLayout(spacing=6)
        outer.addLayout(self.flow)
        for slot in self.slots:
            self.flow.addWidget(slot)
            slot.cleared.connect(lambda s=slot: self.remove(s.number - 1))
            slot.fitClicked.connect(lambda s=slot: self.fitRequested.emit(field, s.reference))
            slot.tokenClicked.connect(
                lambda s=slot: self.tokenRequested.emit(token_text(kind, s.number))
            )
            slot.locateRequested.connect(lambda s=slot: self.locate(s.number - 1))
            slot.installEventFilter(self)
            slot.clicked.connect(lambda s=slot: self._clicked(s))
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
                slot.clear_problems()

    def paste(self) -> None:
        """References from the clipboard: files, links, or picture data (saved as a PNG)."""
        mime = QGuiApplication.clipboard().mimeData()
        refs = references_in(mime)
        if not refs and mime.hasImage() and self.kind is MediaKind.IMAGE:
            image = QGuiApplication.clipboard().image()
            if not image.isNull():
                refs = [str(save_pasted_image(image, self.pasted))]
        if not refs:
            self.message.emit("The clipboard holds nothing that can go into these slots.")
            return
        self.take(refs)

    def take(self, refs: list[str], at: int | None = None) -> None:
        """Files of this group's kind (or of no known kind, e.g. links) go into its slots; the
        others are handed on (foreignFiles) for the panel to route by kind."""
        foreign = [r for r in refs if kind_of_file(r) not in (None, self.kind)]
        mine = [r for r in refs if r not in foreign]
        if foreign:
            self.foreignFiles.emit(foreign)
        if mine:
            self.add_references(mine, at)

    def restyle(self) -> None:
        for slot in self.slots:
            slot.restyle()
        self._render()
        self.flow.invalidate()
        self.updateGeometry()

    def locate(self, index: int) -> None:
        """A file that has moved: pick where it is now; it takes the same slot (and token)."""
        refs = self.references()
        if not 0 <= index < len(refs):
            return
        folder = Path(refs[index]).parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        dialog = QFileDialog(
            self, f"Locate {display_name(refs[index])}", str(folder), _FILTERS[self.kind]
        )
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: self.relocate(index, path))
        dialog.open()
        self._dialog = dialog

    def relocate(self, index: int, path: str) -> None:
        self.model.replace_reference(self.field, index, path)

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
        event.acceptProposedAction()
        target = self.childAt(event.position().toPoint())
        slot = next(
            (s for s in self.slots if target is s or (target and s.isAncestorOf(target))), None
        )
        self.take(refs, at=None if slot is None else slot.number - 1)

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
        count = f" {len(refs)}/{self.capacity}" if self.capacity > 1 else ""
        name = _KIND_NAMES[self.kind] if self.capacity > 1 else self.title
        self.header.setText(f"<b>{name}</b>{count}")
        for index, slot in enumerate(self.slots):
            slot.setVisible(index <= len(refs))  # the filled tiles and one "add" tile
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
