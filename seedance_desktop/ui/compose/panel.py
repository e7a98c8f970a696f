"""The compose panel: a tab per mode, each bound to its compose model (compose/model.py) with its
slots, prompt, parameters, problems, the live estimate and the Queue button. The widgets only show
the model and write edits to it; the model derives problems and the estimate. Drafts are saved
from the models within a second of the last edit (compose/drafts.py) and restored at start.

Loading a result ("Reuse settings", "Continue from last frame") never silently replaces unsaved
work: the replaced draft is kept in the model's undo history (saved with the draft), and "Undo
load" — the button shown after a load, or Ctrl+Z in the prompt once its own undo has nothing left
— brings it back. No question is asked: the load is what the person asked for, and undo is cheap.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QMimeData, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from seedance_desktop.compose.drafts import DraftKeeper, DraftStore
from seedance_desktop.compose.model import MAX_VARIATIONS, Aspect, Change, ComposeModel
from seedance_desktop.compose.queue import QueuedJob, ShotQueue
from seedance_desktop.domain.endpoints import LIMITS, Mode
from seedance_desktop.domain.media_info import MediaInfo, MediaKind
from seedance_desktop.domain.plan import Plan
from seedance_desktop.domain.shot import Shot
from seedance_desktop.domain.validation import Problem
from seedance_desktop.media.names import display_name
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.compose.binding import bind
from seedance_desktop.ui.compose.parameters import ParametersWidget
from seedance_desktop.ui.compose.prompt_editor import PromptEditor
from seedance_desktop.ui.compose.slots import (
    SlotGroup,
    kind_of_file,
    references_in,
    save_pasted_image,
)
from seedance_desktop.ui.fit_dialog import FitAllButton, FitController
from seedance_desktop.ui.icons import icon
from seedance_desktop.ui.tasks import TaskRunner
from seedance_desktop.ui.theme import theme

log = logging.getLogger(__name__)

_SLOTS: dict[Mode, tuple[tuple[str, MediaKind, str], ...]] = {
    Mode.TEXT_TO_VIDEO: (),
    Mode.IMAGE_TO_VIDEO: (
        ("image_url", MediaKind.IMAGE, "Start frame"),
        ("end_image_url", MediaKind.IMAGE, "End frame (optional)"),
    ),
    Mode.REFERENCE_TO_VIDEO: (
        ("image_urls", MediaKind.IMAGE, "Reference image"),
        ("video_urls", MediaKind.VIDEO, "Reference video"),
        ("audio_urls", MediaKind.AUDIO, "Reference audio"),
    ),
}


_PLACEHOLDERS = {
    Mode.TEXT_TO_VIDEO: "Describe the shot: who and where, the camera move, light, mood and "
    'action. Put spoken lines in "double quotes".',
    Mode.IMAGE_TO_VIDEO: "Describe what happens from the start frame on: the motion, the camera "
    'move, light and mood. Put spoken lines in "double quotes".',
    Mode.REFERENCE_TO_VIDEO: "Say what each reference brings: “The dancer from [Image1] performs "
    "the moves from [Video1] to the beat of [Audio1].” Type [ or @ to insert a reference.",
}
_TIPS = {
    Mode.TEXT_TO_VIDEO: "Be specific about camera moves, lighting, mood and actions. Try a short "
    "(5 s) clip first, then lengthen it.",
    Mode.IMAGE_TO_VIDEO: "The video begins on the start frame and, if you add one, ends on the end "
    "frame. Describe the motion between them.",
    Mode.REFERENCE_TO_VIDEO: "Images give looks, videos motion and camera, audio rhythm. To edit a "
    "clip: “Replace the perfume in [Video1] with the cream from [Image1], keeping all motion.”",
}


def _heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    label.setObjectName("heading")
    return label


def estimate_text(model: ComposeModel) -> str:
    """ "$3.02 (estimate)", or with variations "3 × $0.65–$0.67 = $1.95–$2.01 (estimate)"."""
    if model.variations == 1:
        return f"{model.estimate} (estimate)"
    return f"{model.variations} × {model.estimate} = {model.total_estimate} (estimate)"


class ModeTab(QWidget):
    """One mode's composer."""

    queueRequested = Signal()

    def __init__(
        self, model: ComposeModel, tasks: TaskRunner, paths: AppPaths, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.mode = mode = model.mode
        self.plan: Plan | None = None
        self.groups: dict[str, SlotGroup] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        scroll = QScrollArea()
        scroll.setObjectName("composeScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 4, 0)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        # The prompt first: the most important input, with the keyboard's focus at start.
        self.prompt = PromptEditor()
        self.prompt.setMinimumHeight(96)
        self.prompt.setMaximumHeight(150)
        self.prompt.setPlaceholderText(_PLACEHOLDERS[mode])
        layout.addWidget(_heading("Prompt"))
        layout.addWidget(self.prompt)
        self.tip = QLabel(_TIPS[mode])
        self.tip.setObjectName("hint")
        self.tip.setWordWrap(True)
        layout.addWidget(self.tip)

        if _SLOTS[mode]:
            layout.addSpacing(4)
            layout.addWidget(
                _heading("References" if mode is Mode.REFERENCE_TO_VIDEO else "Frames")
            )
        frames = QHBoxLayout()  # image to video: the start and the end frame side by side
        for field, kind, title in _SLOTS[mode]:
            group = SlotGroup(
                model, field, kind, title, tasks, paths.thumbnails, self, pasted=paths.pasted
            )
            if group.capacity == 1:
                group.header.hide()  # the tile names itself: "Start frame", "End frame"
                frames.addWidget(group)
            else:
                layout.addWidget(group)
            self.groups[field] = group
        if frames.count():
            frames.addStretch(1)
            layout.addLayout(frames)
        if mode is Mode.IMAGE_TO_VIDEO:
            self.start, self.end = self.groups["image_url"], self.groups["end_image_url"]
        if mode is Mode.REFERENCE_TO_VIDEO:
            self.images, self.videos, self.audios = (
                self.groups[f] for f in ("image_urls", "video_urls", "audio_urls")
            )
            self.counters = QLabel()
            self.counters.setObjectName("counters")
            self.counters.setWordWrap(True)
            layout.addWidget(self.counters)

        layout.addSpacing(4)
        layout.addWidget(_heading("Settings"))
        tier = QHBoxLayout()
        self.standard = QRadioButton("Standard")
        self.fast = QRadioButton("Fast (quicker, cheaper)")
        self.standard.setChecked(True)
        tiers = QButtonGroup(self)
        tiers.addButton(self.standard)
        tiers.addButton(self.fast)
        tier.addWidget(self.standard)
        tier.addWidget(self.fast)
        tier.addStretch(1)
        layout.addLayout(tier)
        self.parameters = ParametersWidget()
        layout.addWidget(self.parameters)
        self.problems = QListWidget()
        self.problems.setObjectName("problems")
        self.problems.setAccessibleName("Problems")
        self.problems.setWordWrap(True)
        self.problems.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.problems.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.problems.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.problems.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.problems.setIconSize(QSize(16, 16))
        layout.addWidget(self.problems)
        layout.addStretch(1)

        footer = QHBoxLayout()
        self.estimate = QLabel("")
        self.estimate.setObjectName("estimate")
        self.estimate.setWordWrap(True)
        self.variations = QSpinBox()
        self.variations.setRange(1, MAX_VARIATIONS)
        self.variations.setPrefix("×")
        self.variations.setToolTip("Queue several variations, each with its own seed")
        self.variations.setAccessibleName("Variations")
        self.queue_button = QPushButton("Queue")
        self.queue_button.setObjectName("queueButton")
        self.queue_button.setToolTip("Queue this shot (Ctrl+Enter)")
        self.queue_button.setDefault(True)
        self.queue_button.setEnabled(False)
        self.fit_all_button = FitAllButton(model, self)
        footer.addWidget(self.estimate, 1)
        footer.addWidget(self.fit_all_button)
        footer.addWidget(self.variations)
        footer.addWidget(self.queue_button)
        outer.addLayout(footer)

        self.queue_button.clicked.connect(self.queueRequested)
        self.prompt.submitted.connect(self.queueRequested)
        for group_widget in self.groups.values():
            group_widget.tokenRequested.connect(self.prompt.insert_token)
        self._bind(model)

    def _bind(self, model: ComposeModel) -> None:
        self.prompt.bind(model)
        self.parameters.bind(model)
        self.fast.toggled.connect(model.set_fast)
        self.variations.valueChanged.connect(model.set_variations)
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self.refresh)

        def follow(change: Change) -> None:
            if Aspect.TIER in change or Aspect.LOADED in change:
                self.fast.setChecked(model.fast)
                self.standard.setChecked(not model.fast)
            if Aspect.VARIATIONS in change or Aspect.LOADED in change:
                self.variations.setValue(model.variations)
            self._refresh_timer.start()  # once per turn of the loop, however many changes

        bind(model.changed, self, follow)

    # The shot ----------------------------------------------------------------------------------

    def shot(self) -> Shot:
        return self.model.shot

    def load(self, shot: Shot) -> None:
        self.model.load(shot)

    def refresh(self) -> Plan:
        """Show the model's plan: estimate, problems, counters, Queue enabled or not."""
        model = self.model
        plan = model.plan
        self.plan = plan
        self.estimate.setText(estimate_text(model))
        self.estimate.setToolTip(
            "fal bills the final amount. A range means the length or the shape is left to the "
            "model (auto)."
        )
        self.problems.clear()
        for problem in plan.problems:
            item = QListWidgetItem(
                icon("error" if problem.is_error else "warning"), problem.message
            )
            item.setToolTip(problem.message)
            self.problems.addItem(item)
        self.problems.setVisible(bool(plan.problems))
        self._fit_problems()
        count = model.variations
        self.queue_button.setText("Queue" if count == 1 else f"Queue {count}")
        self.queue_button.setEnabled(model.ready)
        self._show_slot_problems(plan.problems)
        if self.mode is Mode.REFERENCE_TO_VIDEO:
            self.counters.setText(self._counters())
        return plan

    def _fit_problems(self) -> None:
        """As tall as the wrapped problems (up to a limit): each is read whole, without a
        horizontal scrollbar."""
        rows = self.problems.count()
        if not rows:
            return
        self.problems.doItemsLayout()
        height = sum(self.problems.sizeHintForRow(r) for r in range(rows))
        self.problems.setFixedHeight(min(height + 2 * self.problems.frameWidth() + 4, 180))

    def _show_slot_problems(self, problems: tuple[Problem, ...]) -> None:
        per_group: dict[str, dict[int, list[Problem]]] = {f: {} for f in self.groups}
        for problem in problems:
            name, _, rest = problem.field.partition("[")
            if name in per_group:
                index = int(rest.rstrip("]")) if rest else 0
                per_group[name].setdefault(index, []).append(problem)
        for field, group in self.groups.items():
            group.set_problems(per_group[field])

    def _counters(self) -> str:
        media = self.model.media

        def seconds(group: SlotGroup) -> float:
            infos = [media.get(r) for r in group.references()]
            return sum(i.duration_s or 0.0 for i in infos if isinstance(i, MediaInfo))

        counts = [len(g.references()) for g in (self.images, self.videos, self.audios)]
        return (
            f"Images {counts[0]}/{LIMITS.max_images} · Videos {counts[1]}/{LIMITS.max_videos} · "
            f"Audio {counts[2]}/{LIMITS.max_audios} · Files {sum(counts)}/{LIMITS.max_files} · "
            f"Video {seconds(self.videos):.1f}/{LIMITS.combined_video_seconds[1]:g} s · "
            f"Audio {seconds(self.audios):.1f}/{LIMITS.max_combined_audio_seconds:g} s"
        )


class ComposePanel(QWidget):
    queued = Signal(object)  # the queued jobs

    def __init__(self, paths: AppPaths, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.tasks = tasks
        self.engine: ShotQueue | None = None
        self.models = {mode: ComposeModel(mode) for mode in Mode}
        self._save_timer = QTimer(self, singleShot=True)
        self.drafts = DraftKeeper(DraftStore(paths.drafts), self.models, self._arm_save)
        self._save_timer.timeout.connect(self.drafts.flush)
        self.drafts.failed.connect(self._say)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("composeTabs")
        self.mode_tabs: dict[Mode, ModeTab] = {}
        self.fitting = FitController(paths.fitted, tasks, self)
        self.fitting.message.connect(self._say)
        for mode, model in self.models.items():
            tab = ModeTab(model, tasks, paths, self)
            self.mode_tabs[mode] = tab
            self.fitting.attach(model, tab.groups.values(), tab.fit_all_button)
            self.tabs.addTab(tab, mode.label)
            tab.queueRequested.connect(lambda t=tab: self.queue(t))
            tab.prompt.undoExhausted.connect(lambda m=model: self.undo_load(m))
            for group in tab.groups.values():
                group.message.connect(self._say)
                group.foreignFiles.connect(self.route_files)
            tab.prompt.mediaArrived.connect(self._take_mime)
            bind(model.changed, self, self._follow_history)
        self.status = QLabel("")
        self.status.setObjectName("composeStatus")
        self.status.setWordWrap(True)
        self.undo_button = QPushButton("Undo load")
        self.undo_button.setObjectName("undoLoad")
        self.undo_button.setToolTip(
            "Bring back the draft the last load replaced (Ctrl+Z in the prompt does it too)"
        )
        self.undo_button.clicked.connect(lambda: self.undo_load(self.current_tab().model))
        status_row = QHBoxLayout()
        status_row.setContentsMargins(6, 0, 6, 4)
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.undo_button)
        self.offer = self._build_offer()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.offer)
        layout.addLayout(status_row)
        self.setAcceptDrops(True)
        self._offered: list[str] = []
        shortcut = QShortcut(QKeySequence("Ctrl+Return"), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(lambda: self.queue(self.current_tab()))
        # Paste anywhere in compose (the prompt and the tiles take it themselves first).
        paste = QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self)
        paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.activated.connect(self.paste)
        current = self.drafts.restore()
        if current is not None:
            self.tabs.setCurrentWidget(self.mode_tabs[current])
        self.tabs.currentChanged.connect(self._tab_shown)
        for tab in self.mode_tabs.values():
            tab.refresh()
        self._show_undo()
        theme().changed.connect(self._restyle)

    def _restyle(self) -> None:
        """Icons and colours drawn by hand follow the theme."""
        for tab in self.mode_tabs.values():
            for group in tab.groups.values():
                group.restyle()
            tab.prompt.highlighter.rehighlight()
            tab.refresh()

    def attach(self, engine: ShotQueue) -> None:
        self.engine = engine

    # Files arriving: drops and pastes anywhere ------------------------------------------------

    def route_files(self, refs: list[str]) -> None:
        """Files go by kind to the next free slots of the current mode. Kinds the mode does not
        take are not dropped silently: the mode that takes them is offered."""
        mode = self.current_tab().mode
        kinds = {ref: kind_of_file(ref) for ref in refs}
        unknown = [r for r, k in kinds.items() if k is None]
        known = [r for r in refs if kinds[r] is not None]
        if unknown:
            names = ", ".join(display_name(r) for r in unknown[:3])
            self._say(f"{names}: not an image, video or audio file Seedance takes.")
        if not known:
            return
        only_images = all(kinds[r] is MediaKind.IMAGE for r in known)
        if mode is Mode.TEXT_TO_VIDEO:
            target = Mode.IMAGE_TO_VIDEO if only_images and len(known) <= 2 else None
            self._offer(known, target or Mode.REFERENCE_TO_VIDEO)
            return
        if mode is Mode.IMAGE_TO_VIDEO and not only_images:
            self._offer(known, Mode.REFERENCE_TO_VIDEO)
            return
        self._fill(self.mode_tabs[mode], known)

    def paste(self) -> None:
        """Ctrl+V anywhere in compose: files and links, or picture data (kept as a PNG)."""
        mime = QGuiApplication.clipboard().mimeData()
        if not self._take_mime(mime):
            self._say("The clipboard holds no file, link or picture to add.")

    def _take_mime(self, mime: QMimeData) -> bool:
        refs = references_in(mime)
        if not refs and mime.hasImage():
            data = mime.imageData()
            picture = data.toImage() if isinstance(data, QPixmap) else data
            if isinstance(picture, QImage) and not picture.isNull():
                refs = [str(save_pasted_image(picture, self.paths.pasted))]
        if refs:
            self.route_files(refs)
        return bool(refs)

    def _fill(self, tab: ModeTab, refs: list[str]) -> None:
        for group in tab.groups.values():
            mine = [r for r in refs if kind_of_file(r) is group.kind]
            free = group.capacity - len(group.references())
            if mine and free > 0:
                group.add_references(mine[:free])
                refs = [r for r in refs if r not in mine[:free]]
        if refs:
            names = ", ".join(display_name(r) for r in refs[:3])
            more = f" and {len(refs) - 3} more" if len(refs) > 3 else ""
            self._say(f"No free slot for {names}{more}.")

    def _build_offer(self) -> QFrame:
        offer = QFrame()
        offer.setObjectName("offer")
        self.offer_text = QLabel()
        self.offer_text.setWordWrap(True)
        self.offer_button = QPushButton()
        self.offer_button.clicked.connect(self._accept_offer)
        dismiss = QPushButton("Not now")
        dismiss.clicked.connect(lambda: self.offer.hide())
        row = QHBoxLayout(offer)
        row.setContentsMargins(8, 6, 8, 6)
        row.addWidget(self.offer_text, 1)
        row.addWidget(self.offer_button)
        row.addWidget(dismiss)
        offer.hide()
        return offer

    def _offer(self, refs: list[str], mode: Mode) -> None:
        self._offered = list(refs)
        self._offered_mode = mode
        here = self.current_tab().mode.label
        count = f"{len(refs)} file{'s' if len(refs) != 1 else ''}"
        self.offer_text.setText(
            f"{here} takes no {self._kinds(refs)}. Use {count} in {mode.label}?"
        )
        self.offer_button.setText(f"Switch to {mode.label}")
        self.offer.show()

    @staticmethod
    def _kinds(refs: list[str]) -> str:
        kinds = {kind_of_file(r) for r in refs}
        names = [n for k, n in ((MediaKind.IMAGE, "images"), (MediaKind.VIDEO, "videos"),
                                (MediaKind.AUDIO, "audio")) if k in kinds]  # fmt: skip
        return " or ".join(names)

    def _accept_offer(self) -> None:
        self.offer.hide()
        tab = self.mode_tabs[self._offered_mode]
        self.tabs.setCurrentWidget(tab)
        refs, self._offered = self._offered, []
        self._fill(tab, refs)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt's name
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # Qt's name
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt's name
        if self._take_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            self._say("Only files, links and pictures can be dropped here.")

    def current_tab(self) -> ModeTab:
        tab = self.tabs.currentWidget()
        assert isinstance(tab, ModeTab)
        return tab

    def current_shot(self) -> Shot:
        return self.current_tab().model.shot

    def load_shot(self, shot: Shot) -> None:
        """Open a result's settings in its mode's tab; the work it replaces can be brought back."""
        model = self.models[shot.mode]
        had_history = len(model.history)
        model.load(shot)
        tab = self.mode_tabs[shot.mode]
        self.tabs.setCurrentWidget(tab)
        tab.prompt.setFocus()
        if len(model.history) > had_history:
            self._say("Loaded. Your previous draft is kept: Undo load brings it back.")

    def undo_load(self, model: ComposeModel) -> None:
        if model.undo_load():
            self._say("The previous draft is back.")

    def save_drafts(self) -> None:
        """Write unsaved drafts now (on quit; otherwise they are written within a second)."""
        self._save_timer.stop()
        self.drafts.flush()

    def queue(self, tab: ModeTab) -> None:
        tab.refresh()
        if self.engine is None:
            self._say("The library is still opening; try again in a moment.")
            return
        if not tab.model.ready:
            self._say("Fix the problems listed above first.")
            return
        tab.queue_button.setEnabled(False)
        self.tasks.run(self._enqueue(tab, self.engine), "Queueing")

    async def _enqueue(self, tab: ModeTab, engine: ShotQueue) -> None:
        from seedance_desktop.engine.interface import BudgetExceeded, InvalidShot

        jobs: list[QueuedJob] = []
        try:
            jobs = list(await engine.enqueue(tab.model.shot, variations=tab.model.variations))
        except InvalidShot as exc:
            self._say(f"Not queued: {exc}")
            return
        except BudgetExceeded as exc:  # said at Queue time, with the amounts
            self._say(f"Not queued: {exc.message}")
            return
        finally:
            tab.refresh()
        self._say(f"Queued {len(jobs)} job{'s' if len(jobs) != 1 else ''}.")
        self.queued.emit(jobs)

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _arm_save(self, seconds: float) -> None:
        self._save_timer.start(round(seconds * 1000))

    def _tab_shown(self, _index: int) -> None:
        self.drafts.remember_current(self.current_tab().mode)
        self.offer.hide()
        self._show_undo()
        self.current_tab().prompt.setFocus()

    def _follow_history(self, change: Change) -> None:
        if Aspect.HISTORY in change or Aspect.LOADED in change:
            self._show_undo()

    def _show_undo(self) -> None:
        self.undo_button.setVisible(self.current_tab().model.can_undo_load)
