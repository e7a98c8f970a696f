"""The compose panel: a tab per mode, each with its slots, prompt, parameters, problems, the live
estimate and the Queue button. Every change recomputes the plan (pure domain code, no I/O) a
moment later; drafts are saved as they are edited and restored at start."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
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

from seedance_desktop.domain.endpoints import LIMITS, Mode
from seedance_desktop.domain.media_info import MediaInfo, MediaKind, ProbeResult
from seedance_desktop.domain.plan import Plan, plan_shot
from seedance_desktop.domain.shot import Shot, shot_from_json, shot_to_json
from seedance_desktop.domain.validation import Problem
from seedance_desktop.paths import AppPaths
from seedance_desktop.ui.compose.parameters import ParametersWidget
from seedance_desktop.ui.compose.prompt_editor import PromptEditor
from seedance_desktop.ui.compose.slots import SlotGroup
from seedance_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class ModeTab(QWidget):
    """One mode's composer."""

    queueRequested = Signal()
    edited = Signal()

    def __init__(self, mode: Mode, tasks: TaskRunner, thumbnails: Path, parent: QWidget) -> None:
        super().__init__(parent)
        self.mode = mode
        self.plan: Plan | None = None
        self.groups: dict[str, SlotGroup] = {}
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll)

        tier = QHBoxLayout()
        self.standard = QRadioButton("Standard")
        self.fast = QRadioButton("Fast (quicker, cheaper)")
        self.standard.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.standard)
        group.addButton(self.fast)
        tier.addWidget(self.standard)
        tier.addWidget(self.fast)
        tier.addStretch(1)
        layout.addLayout(tier)

        def slots(field: str, kind: MediaKind, capacity: int, title: str) -> SlotGroup:
            group = SlotGroup(kind, capacity, title, tasks, thumbnails, self)
            layout.addWidget(QLabel(f"<b>{title}</b>"))
            layout.addWidget(group)
            self.groups[field] = group
            return group

        if mode is Mode.IMAGE_TO_VIDEO:
            self.start = slots("image_url", MediaKind.IMAGE, 1, "Start frame")
            self.end = slots("end_image_url", MediaKind.IMAGE, 1, "End frame (optional)")
        if mode is Mode.REFERENCE_TO_VIDEO:
            self.images = slots("image_urls", MediaKind.IMAGE, LIMITS.max_images, "Reference image")
            self.videos = slots("video_urls", MediaKind.VIDEO, LIMITS.max_videos, "Reference video")
            self.audios = slots("audio_urls", MediaKind.AUDIO, LIMITS.max_audios, "Reference audio")
            self.counters = QLabel()
            self.counters.setObjectName("counters")
            layout.addWidget(self.counters)
        layout.addWidget(QLabel("<b>Prompt</b>"))
        self.prompt = PromptEditor()
        self.prompt.setMinimumHeight(90)
        layout.addWidget(self.prompt)
        self.parameters = ParametersWidget()
        layout.addWidget(self.parameters)
        self.problems = QListWidget()
        self.problems.setObjectName("problems")
        self.problems.setMaximumHeight(110)
        self.problems.setAccessibleName("Problems")
        layout.addWidget(self.problems)
        layout.addStretch(1)

        footer = QHBoxLayout()
        self.estimate = QLabel("")
        self.estimate.setObjectName("estimate")
        self.variations = QSpinBox()
        self.variations.setRange(1, 8)
        self.variations.setPrefix("×")
        self.variations.setToolTip("Queue several variations, each with its own seed")
        self.queue_button = QPushButton("Queue")
        self.queue_button.setToolTip("Queue this shot (Ctrl+Enter)")
        self.queue_button.setDefault(True)
        self.queue_button.setEnabled(False)
        footer.addWidget(self.estimate, 1)
        footer.addWidget(self.variations)
        footer.addWidget(self.queue_button)
        outer.addLayout(footer)

        self.queue_button.clicked.connect(self.queueRequested)
        self.prompt.submitted.connect(self.queueRequested)
        self.prompt.textChanged.connect(self.edited)
        self.parameters.changed.connect(self.edited)
        self.fast.toggled.connect(self.edited)
        for group_widget in self.groups.values():
            group_widget.changed.connect(self.edited)
            group_widget.tokenRequested.connect(self.prompt.insert_token)
            group_widget.reordered.connect(
                lambda mapping, g=group_widget: self.prompt.renumber(g.kind, mapping)
            )

    # The shot ----------------------------------------------------------------------------------

    def shot(self) -> Shot:
        values = self.parameters.values()

        def refs(field: str) -> tuple[str, ...]:
            group = self.groups.get(field)
            return tuple(group.references()) if group else ()

        return Shot(
            mode=self.mode,
            fast=self.fast.isChecked(),
            prompt=self.prompt.toPlainText(),
            start_image=next(iter(refs("image_url")), None),
            end_image=next(iter(refs("end_image_url")), None),
            images=refs("image_urls"),
            videos=refs("video_urls"),
            audios=refs("audio_urls"),
            **values,  # type: ignore[arg-type]
        )

    def load(self, shot: Shot) -> None:
        self.fast.setChecked(shot.fast)
        self.standard.setChecked(not shot.fast)
        self.prompt.setPlainText(shot.prompt)
        self.parameters.set_values(
            resolution=shot.resolution,
            duration=shot.duration,
            aspect_ratio=shot.aspect_ratio,
            generate_audio=shot.generate_audio,
            seed=shot.seed,
            end_user_id=shot.end_user_id,
        )
        for field, refs in (
            ("image_url", [shot.start_image] if shot.start_image else []),
            ("end_image_url", [shot.end_image] if shot.end_image else []),
            ("image_urls", list(shot.images)),
            ("video_urls", list(shot.videos)),
            ("audio_urls", list(shot.audios)),
        ):
            if field in self.groups:
                self.groups[field].set_references(refs)

    def media(self) -> dict[str, ProbeResult]:
        found: dict[str, ProbeResult] = {}
        for group in self.groups.values():
            found.update(group.media())
        return found

    def refresh(self) -> Plan:
        """Recompute the plan and show it: estimate, problems, counters, Queue enabled or not."""
        media = self.media()
        plan = plan_shot(self.shot(), media)
        self.plan = plan
        self.estimate.setText(f"{plan.estimate} (estimate)")
        self.estimate.setToolTip(
            "fal bills the final amount. A range means the length or the shape is left to the "
            "model (auto)."
        )
        self.problems.clear()
        for problem in plan.problems:
            item = QListWidgetItem(("⛔ " if problem.is_error else "⚠ ") + problem.message)
            item.setToolTip(problem.field)
            self.problems.addItem(item)
        self.problems.setVisible(bool(plan.problems))
        self.queue_button.setEnabled(plan.ok and bool(self.prompt.toPlainText().strip()))
        self._show_slot_problems(plan.problems)
        filled = {
            group.kind: len(group.references())
            for field, group in self.groups.items()
            if field.endswith("_urls")
        }
        self.prompt.set_filled(filled)
        if self.mode is Mode.REFERENCE_TO_VIDEO:
            self.counters.setText(self._counters(media))
        return plan

    def _show_slot_problems(self, problems: tuple[Problem, ...]) -> None:
        per_group: dict[str, dict[int, list[Problem]]] = {f: {} for f in self.groups}
        for problem in problems:
            name, _, rest = problem.field.partition("[")
            if name in per_group:
                index = int(rest.rstrip("]")) if rest else 0
                per_group[name].setdefault(index, []).append(problem)
        for field, group in self.groups.items():
            group.set_problems(per_group[field])

    def _counters(self, media: dict[str, ProbeResult]) -> str:
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
    queued = Signal(object)  # list[Job]

    def __init__(self, paths: AppPaths, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.tasks = tasks
        self.engine = None
        self.drafts = paths.config / "drafts"
        self.tabs = QTabWidget()
        self.tabs.setObjectName("composeTabs")
        self.mode_tabs: dict[Mode, ModeTab] = {}
        for mode in Mode:
            tab = ModeTab(mode, tasks, paths.thumbnails, self)
            self.mode_tabs[mode] = tab
            self.tabs.addTab(tab, mode.label)
            tab.edited.connect(self._schedule)
            tab.queueRequested.connect(lambda t=tab: self.queue(t))
            for group in tab.groups.values():
                group.message.connect(self._say)
        self.status = QLabel("")
        self.status.setObjectName("composeStatus")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        layout.addWidget(self.status)
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self._refresh)
        self._save_timer = QTimer(self, singleShot=True, interval=500)
        self._save_timer.timeout.connect(self.save_drafts)
        shortcut = QShortcut(QKeySequence("Ctrl+Return"), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(lambda: self.queue(self.current_tab()))
        self.restore_drafts()
        for tab in self.mode_tabs.values():
            tab.refresh()

    def attach(self, engine: object) -> None:
        self.engine = engine
        self._refresh()

    def current_tab(self) -> ModeTab:
        tab = self.tabs.currentWidget()
        assert isinstance(tab, ModeTab)
        return tab

    def current_shot(self) -> Shot:
        return self.current_tab().shot()

    def load_shot(self, shot: Shot) -> None:
        """Fill the shot's mode tab (references included) and show it."""
        tab = self.mode_tabs[shot.mode]
        tab.load(shot)
        self.tabs.setCurrentWidget(tab)
        tab.prompt.setFocus()
        self._schedule()

    def queue(self, tab: ModeTab) -> None:
        plan = tab.refresh()
        if self.engine is None:
            self._say("The library is still opening; try again in a moment.")
            return
        if not plan.ok or not tab.queue_button.isEnabled():
            self._say("Fix the problems listed above first.")
            return
        count = tab.variations.value()
        tab.queue_button.setEnabled(False)
        self.tasks.run(self._enqueue(tab, plan.shot, count), "Queueing")

    async def _enqueue(self, tab: ModeTab, shot: Shot, count: int) -> None:
        from seedance_desktop.engine.engine import BudgetExceeded, InvalidShot

        try:
            jobs = await self.engine.enqueue(shot, variations=count)  # type: ignore[attr-defined]
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

    def _schedule(self) -> None:
        self._refresh_timer.start()
        self._save_timer.start()

    def _refresh(self) -> None:
        self.current_tab().refresh()
        for tab in self.mode_tabs.values():
            if tab is not self.current_tab():
                tab.refresh()

    # Drafts ------------------------------------------------------------------------------------

    def save_drafts(self) -> None:
        self.drafts.mkdir(parents=True, exist_ok=True)
        for mode, tab in self.mode_tabs.items():
            data = json.dumps(shot_to_json(tab.shot()), indent=1)
            target = self.drafts / f"{mode.value}.json"
            handle, temp = tempfile.mkstemp(dir=self.drafts, prefix=".draft-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(data)
            Path(temp).replace(target)

    def restore_drafts(self) -> None:
        for mode, tab in self.mode_tabs.items():
            path = self.drafts / f"{mode.value}.json"
            if not path.exists():
                continue
            try:
                shot = shot_from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                log.warning("ignoring a damaged draft %s: %s", path.name, exc)
                continue
            if shot.mode is mode:
                tab.load(shot)
