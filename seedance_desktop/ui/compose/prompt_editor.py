"""The prompt editor: knows the [Image1]/[Video1]/[Audio1] tokens.

Tokens are highlighted, tokens without a filled slot get a wavy underline and a tooltip, typing
"[" or "@" offers the tokens of the filled slots. Bound to a compose model, it shows the model's
prompt (a renumbering after a slot move is one undo step; a load replaces the text) and reports
only real edits: re-highlighting changes formats, not text, and is never reported. The token rules
themselves live in domain/tokens.py.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QMimeData, QStringListModel, Qt, Signal
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
from seedance_desktop.ui.theme import colours


class TokenHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.filled: Mapping[MediaKind, int] = {}
        self.good = QTextCharFormat()
        self.good.setFontWeight(600)
        self.bad = QTextCharFormat(self.good)
        self.bad.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)

    def highlightBlock(self, text: str) -> None:  # Qt's name
        palette = colours()  # the theme's: readable on the dark and the light background
        self.good.setForeground(QColor(palette.reference_tag))
        self.bad.setForeground(QColor(palette.error_text))
        self.bad.setUnderlineColor(QColor(palette.error_text))
        unmatched = {(t.start, t.end) for t in unmatched_tokens(text, self.filled)}
        for token in find_tokens(text):
            style = self.bad if (token.start, token.end) in unmatched else self.good
            self.setFormat(token.start, token.end - token.start, style)


class PromptEditor(QPlainTextEdit):
    submitted = Signal()  # Ctrl+Enter
    edited = Signal(str)  # the text, after a real edit (never for a format change)
    undoExhausted = Signal()  # Ctrl+Z with nothing left to undo in the text itself
    mediaArrived = Signal(object)  # files or a picture pasted or dropped here: QMimeData

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(
            'Describe the shot: camera, light, mood, action. Put dialogue in "double quotes".'
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
        completing = popup is not None and popup.isVisible()
        if (
            popup is not None
            and completing
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab)
        ):
            index = popup.currentIndex()
            if not index.isValid():  # nothing highlighted: the first offer, never a bare "["
                index = self.completer.completionModel().index(0, 0)
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
            self._offer_completion("[")
        elif popup is not None and completing:
            fragment = self._fragment()
            if fragment is None:
                popup.hide()  # a complete token, a space, or the "[" deleted: nothing to offer
            else:
                self._offer_completion("[" + fragment[1:])

    def _fragment(self) -> str | None:
        """The token being typed: from its "[" or "@" to the cursor, or None when there is none."""
        before = self.toPlainText()[: self.textCursor().position()]
        start = max(before.rfind("["), before.rfind("@"))
        if start < 0:
            return None
        fragment = before[start:]
        if any(c in fragment for c in "] \n\t"):
            return None
        return fragment

    def _offer_completion(self, prefix: str) -> None:
        self.completer.setCompletionPrefix(prefix)
        popup = self.completer.popup()
        if popup is None:
            return
        if self.completer.completionCount() == 0:
            popup.hide()
            return
        rect = self.cursorRect()
        rect.setWidth(160)
        self.completer.complete(rect)
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0))

    def _complete(self, token: str) -> None:
        """Replace the token being typed ("[", "@Im", "[Vid") with `token`."""
        fragment = self._fragment() or ""
        cursor = self.textCursor()
        cursor.movePosition(
            QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(fragment)
        )
        cursor.insertText(token)
        self.setTextCursor(cursor)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # Qt's name
        return _carries_media(source) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:  # Qt's name
        """Files or a picture pasted or dropped on the prompt go to the slots, not into the
        text as a path; plain text (a link too) is typed as usual."""
        if _carries_media(source):
            self.mediaArrived.emit(source)
            return
        super().insertFromMimeData(source)

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


def _carries_media(mime: QMimeData) -> bool:
    local = any(url.isLocalFile() for url in mime.urls())
    return local or (mime.hasImage() and not mime.hasText())
