"""What a learner sees: check outcomes, hints and solutions, as HTML (JupyterLab) or plain text.

The plain text is what nbval compares and what the solved-mode test and the grader read, so it
is stable (no timings, ids or paths) and starts with exactly one status label.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

STATUSES = ("correct", "incorrect", "not_attempted", "checker_fault")
LABELS = {
    "correct": "Correct",
    "incorrect": "Incorrect",
    "not_attempted": "Not attempted",
    "checker_fault": "Checker fault",
}
# Background, border and text colours per status: readable in light and dark JupyterLab themes.
COLOURS = {
    "correct": ("#e8f5e9", "#2e7d32", "#1b5e20"),
    "incorrect": ("#ffebee", "#c62828", "#b71c1c"),
    "not_attempted": ("#eceff1", "#607d8b", "#37474f"),
    "checker_fault": ("#fff8e1", "#f9a825", "#8d6e00"),
    "hint": ("#e3f2fd", "#1565c0", "#0d47a1"),
    "solution": ("#f3e5f5", "#6a1b9a", "#4a148c"),
}


class Incorrect(Exception):
    """Raised by a checker (or by learner-code helpers) to say the answer is wrong, and why.

    Args:
        reason: one or two sentences pointing at the mistake.
        detail: optional extra text shown in a monospace block (the learner's line, a diff).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class NotAttempted(Exception):
    """The answer still holds the `____` placeholder (raised by learner-code helpers)."""


def label_of(status: str) -> str:
    return LABELS[status]


def status_of_text(text: str) -> str | None:
    """The status whose label starts `text` (the reverse of Outcome.text()), or None."""
    stripped = text.lstrip()
    for status, label in LABELS.items():
        if stripped.startswith(label):
            return status
    return None


def _box(kind: str, heading: str, body_html: str) -> str:
    background, border, ink = COLOURS[kind]
    return (
        f'<div class="nexus-feedback nexus-{kind}" style="background:{background};'
        f"border-left:4px solid {border};color:{ink};padding:6px 10px;margin:4px 0;"
        f'border-radius:3px;font-family:var(--jp-ui-font-family, sans-serif)">'
        f"<strong>{heading}</strong>{body_html}</div>"
    )


def _pre(text: str) -> str:
    return (
        '<pre style="background:rgba(0,0,0,0.05);padding:4px 6px;margin:4px 0 0 0;'
        f'white-space:pre-wrap">{html.escape(text)}</pre>'
    )


@dataclass(frozen=True)
class Outcome:
    """The result of one check.

    Attributes:
        status: "correct", "incorrect", "not_attempted" or "checker_fault".
        message: why, in one or two sentences (empty is allowed for "correct").
        exercise: the exercise id ("q3"), for headings and the progress store.
        detail: optional monospace block (the learner's line, which rows differ).
    """

    status: str
    message: str = ""
    exercise: str = ""
    detail: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown outcome status {self.status!r}")

    @property
    def label(self) -> str:
        return LABELS[self.status]

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def text(self) -> str:
        """Plain text: `<Label> (q3): message`, then the detail block indented."""
        where = f" ({self.exercise})" if self.exercise else ""
        lines = [f"{self.label}{where}: {self.message}".rstrip(": ").rstrip()]
        if self.detail:
            lines.extend("    " + line for line in self.detail.splitlines())
        return "\n".join(lines)

    def __repr__(self) -> str:  # IPython's text/plain, and what nbval compares
        return self.text()

    __str__ = text

    def _repr_html_(self) -> str:
        where = f" ({html.escape(self.exercise)})" if self.exercise else ""
        body = f": {html.escape(self.message)}" if self.message else ""
        extra = _pre(self.detail) if self.detail else ""
        return _box(self.status, self.label + where, body + extra)


@dataclass(frozen=True)
class Hint:
    """Hint number `number` of `total` for one exercise."""

    exercise: str
    number: int
    total: int
    body: str
    note: str = ""

    def text(self) -> str:
        note = f"\n({self.note})" if self.note else ""
        return f"Hint {self.number}/{self.total} ({self.exercise}): {self.body}{note}"

    __repr__ = text
    __str__ = text

    def _repr_html_(self) -> str:
        note = f"<br><em>{html.escape(self.note)}</em>" if self.note else ""
        heading = f"Hint {self.number}/{self.total} ({html.escape(self.exercise)})"
        return _box("hint", heading, f": {html.escape(self.body)}{note}")


@dataclass(frozen=True)
class Solution:
    """The reference answer of one exercise, shown as highlighted Python."""

    exercise: str
    code: str

    def text(self) -> str:
        body = "\n".join("    " + line for line in self.code.strip("\n").splitlines())
        return f"Solution ({self.exercise}):\n{body}"

    __repr__ = text
    __str__ = text

    def _repr_html_(self) -> str:
        heading = f"Solution ({html.escape(self.exercise)})"
        return _box("solution", heading, _highlight(self.code.strip("\n")))


def _highlight(code: str) -> str:
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pygments comes with JupyterLab; plain <pre> keeps working without
        return _pre(code)
    formatter = HtmlFormatter(noclasses=True, nowrap=False, style="default")
    return highlight(code, PythonLexer(), formatter)


def show(item: Outcome | Hint | Solution) -> None:
    """Display in IPython (HTML in JupyterLab, text in a terminal), else print the text."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None  # type: ignore[assignment]
    if get_ipython is not None and get_ipython() is not None:
        from IPython.display import display

        display(item)
    else:
        print(item.text())
