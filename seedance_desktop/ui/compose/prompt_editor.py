"""The prompt editor: knows the [Image1]/[Video1]/[Audio1] tokens.

Tokens are highlighted, tokens without a filled slot get a wavy underline and a tooltip, typing
"[" or "@" offers the tokens of the filled slots. Bound to a compose model, it shows the model's
prompt (a renumbering after a slot move is one undo step; a load replaces the text) and reports
only real edits: re-highlighting changes formats, not text, and is never reported. The token rules
themselves live in domain/tokens.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QCompleter, QPlainTextEdit, QToolTip, QWidget

from seedance_desktop.compose.model import Aspect, Change, ComposeModel
from seedance_desktop.domain.media_info import MediaKind
from seedance_desktop.domain.tokens import find_tokens, token_text, unmatched_tokens
from seedance_desktop.ui.compose.binding import bind


class TokenHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.filled: Mapping[MediaKind, int] = {}
        self.good = QTextCharFormat()
        self.good.setForeground(QColor(30, 100, 200))
        self.good.setFontWeight(600)
        self.bad = QTextCharFormat(self.good)
        self.bad.setForeground(QColor(179, 38, 30))
        self.bad.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self.bad.setUnderlineColor(QColor(179, 38, 30))

    def highlightBlock(self, text: str) -> None:  # Qt's name
        unmatched = {(t.start, t.end) for t in unmatched_tokens(text, self.filled)}
        for token in find_tokens(text):
            style = self.bad if (token.start, token.end) in unmatched else self.good
            self.setFormat(token.start, token.end - token.start, style)


class PromptEditor(QPlainTextEdit):
    submitted = Signal()  # Ctrl+Enter
    edited = Signal(str)  # the text, after a real edit (never for a format change)
    undoExhausted = Signal()  # Ctrl+Z with nothing left to undo in the text itself

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(
            'Describe the shot: camera, light, mood, action. Put dialogue in "double quotes". '
            "Refer to references as [Image1], [Video1], [Audio1]."
        )
        self.setAccessibleName("Prompt")
        self.setTabChangesFocus(True)
        self.highlighter = TokenHighlighter(self.document())
        self._model = QStringListModel(self)
        self.completer = QCompleter(self._model, self)
        self.completer.setWidget(self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.activated.connect(self._complete)
        self._known_text = ""
        self.textChanged.connect(self._report_edit)

    def bind(self, model: ComposeModel) -> None:
        """Show `model`'s prompt and write edits to it (krita-style: the widget only observes)."""
        self.show_text(model.prompt, undoable=False)
        self.set_filled(model.filled())
        self.edited.connect(model.set_prompt)

        def follow(change: Change) -> None:
            if Aspect.LOADED in change:
                self.show_text(model.prompt, undoable=False)
            elif Aspect.PROMPT in change:
                self.show_text(model.prompt, undoable=True)
            if Aspect.REFERENCES in change or Aspect.LOADED in change:
                self.set_filled(model.filled())

        bind(model.changed, self, follow)

    def show_text(self, text: str, *, undoable: bool) -> None:
        """Show `text` from the model: as one undo step, or replacing the undo history (a load)."""
        if text == self.toPlainText():
            return
        self._known_text = text  # not an edit of the person's: not reported back
        if not undoable:
            self.setPlainText(text)
            self.moveCursor(QTextCursor.MoveOperation.End)
            return
        position = self.textCursor().position()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        cursor.setPosition(min(position, len(text)))
        self.setTextCursor(cursor)

    def _report_edit(self) -> None:
        text = self.toPlainText()
        if text != self._known_text:
            self._known_text = text
            self.edited.emit(text)

    def set_filled(self, filled: Mapping[MediaKind, int]) -> None:
        if dict(filled) == self.highlighter.filled:
            return
        self.highlighter.filled = dict(filled)
        self._model.setStringList(
            [token_text(kind, n) for kind, count in filled.items() for n in range(1, count + 1)]
        )
        self.highlighter.rehighlight()

    def insert_token(self, token: str) -> None:
        cursor = self.textCursor()
        before = self.toPlainText()[: cursor.position()]
        spacer = "" if not before or before.endswith((" ", "\n")) else " "
        cursor.insertText(spacer + token)
        self.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt's name
        if event.matches(QKeySequence.StandardKey.Undo) and not self.document().isUndoAvailable():
            self.undoExhausted.emit()  # e.g. "Undo load": the draft a load replaced comes back
            return
        popup = self.completer.popup()
        if (
            popup is not None
            and popup.isVisible()
            and event.key()
            in (
                Qt.Key.Key_Return,
                Qt.Key.Key_Enter,
                Qt.Key.Key_Tab,
            )
        ):
            index = popup.currentIndex()
            if index.isValid():
                self._complete(index.data())
            popup.hide()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.submitted.emit()
            return
        super().keyPressEvent(event)
        if event.text() in ("[", "@") and self._model.rowCount():
            self.completer.setCompletionPrefix("")
            rect = self.cursorRect()
            rect.setWidth(160)
            self.completer.complete(rect)

    def _complete(self, token: str) -> None:
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, 1)
        if cursor.selectedText() in ("[", "@"):
            cursor.insertText(token)
        else:
            self.textCursor().insertText(token)

    def event(self, event: object) -> bool:  # Qt's name
        if isinstance(event, QHelpEvent):
            cursor = self.cursorForPosition(event.pos())
            text = self.toPlainText()
            position = cursor.position()
            for token in unmatched_tokens(text, self.highlighter.filled):
                if token.start <= position <= token.end:
                    QToolTip.showText(
                        event.globalPos(), f"{token.canonical} has no filled slot", self
                    )
                    return True
            QToolTip.hideText()
        return super().event(event)  # type: ignore[arg-type]
