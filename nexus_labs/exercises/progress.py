"""The progress store: every check, hint and solution view, in SQLite in the workspace.

Each event is one INSERT in its own transaction, in WAL mode with a busy timeout: a kernel
killed mid-write loses at most that event, and two kernels writing at once wait for each other
instead of failing. A damaged file is reported with the way out (move it aside); it is never
deleted.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from nexus_labs.config import Settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    lab TEXT NOT NULL,
    exercise TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('check', 'hint', 'solution')),
    outcome TEXT,
    hint INTEGER
)
"""


class ProgressStoreCorrupt(RuntimeError):
    """The progress file cannot be read; the message says how to move it aside."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(
            f"The progress file {path} is damaged ({reason}). Your notebooks and answers are "
            "not affected. Move the file aside to start a fresh record (it is kept, not "
            "deleted): `nexus_labs.exercises.progress.move_aside(path)` in Python."
        )


def progress_path(settings: Settings) -> Path:
    return settings.state_dir / "progress.sqlite"


def move_aside(path: Path) -> Path:
    """Rename a damaged store (and its -wal/-shm files) to `*.corrupt-<timestamp>`."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            side.rename(Path(f"{target}{suffix}"))
    path.rename(target)
    return target


@dataclass(frozen=True)
class ExerciseProgress:
    lab: str
    exercise: str
    status: str  # "done", "attempted" or "not started"
    checks: int
    hints_used: int  # the highest hint number viewed
    solution_viewed: bool
    last_outcome: str | None


class ProgressStoreUnavailable(RuntimeError):
    """The progress file cannot be opened or written (permissions, disk, lock): not damaged."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"The progress file {path} cannot be used right now ({reason}).")


def _raise_store_error(path: Path, error: sqlite3.DatabaseError) -> None:
    """Locked: re-raise (the caller retries); can't open/write: unavailable; else damaged."""
    if isinstance(error, sqlite3.OperationalError):
        if "locked" in str(error) or "busy" in str(error):
            raise error
        raise ProgressStoreUnavailable(path, str(error)) from None
    raise ProgressStoreCorrupt(path, str(error)) from None


class ProgressStore:
    """One connection to the store, reopened after a fork, shared by the process's threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        # check() may run on any thread (widget callbacks, a checker in a worker thread):
        # one connection used under a lock, instead of sqlite3's same-thread rule.
        self._lock = threading.RLock()

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # NEXUS_HOME on a read-only or missing drive
            raise ProgressStoreUnavailable(self.path, str(error)) from None
        try:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA busy_timeout = 30000")
            connection.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a killed process never loses a committed event (only a power cut
            # can drop the last ones), and a check does not wait for an fsync.
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(SCHEMA)
            connection.execute("SELECT count(*) FROM events").fetchone()
        except sqlite3.DatabaseError as error:
            _raise_store_error(self.path, error)
        self._connection, self._pid = connection, os.getpid()
        return connection

    def record(self, lab: str, exercise: str, kind: str, outcome: str | None = None,
               hint: int | None = None) -> None:
        """Append one event, committed before returning."""
        at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        with self._lock:
            connection = self._connect()
            try:
                with connection:  # the whole event or nothing
                    connection.execute("BEGIN IMMEDIATE")
                    connection.execute(
                        "INSERT INTO events (at, lab, exercise, kind, outcome, hint) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (at, lab, exercise, kind, outcome, hint),
                    )
            except sqlite3.DatabaseError as error:
                _raise_store_error(self.path, error)

    def events(self, lab: str | None = None) -> list[tuple]:
        """(at, lab, exercise, kind, outcome, hint) rows in the order they were recorded."""
        query = "SELECT at, lab, exercise, kind, outcome, hint FROM events"
        args: tuple = ()
        if lab is not None:
            query += " WHERE lab = ?"
            args = (lab,)
        with self._lock:
            if self._connection is None and not self.path.exists():
                return []  # reading never creates a store (NEXUS_HOME may be mistyped)
            connection = self._connect()
            try:
                return connection.execute(query + " ORDER BY id", args).fetchall()
            except sqlite3.DatabaseError as error:
                _raise_store_error(self.path, error)
                raise  # unreachable: _raise_store_error always raises

    def summary(self) -> dict[tuple[str, str], ExerciseProgress]:
        """Progress per (lab, exercise) that has any event."""
        return summarize(self.events())

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


def summarize(events: Iterable[tuple]) -> dict[tuple[str, str], ExerciseProgress]:
    state: dict[tuple[str, str], dict] = {}
    for _at, lab, exercise, kind, outcome, hint in events:
        entry = state.setdefault((lab, exercise), {
            "done": False, "tried": False, "checks": 0, "hints": 0, "solution": False,
            "last": None,
        })
        if kind == "check":
            entry["checks"] += 1
            entry["last"] = outcome
            entry["done"] |= outcome == "correct"
            entry["tried"] |= outcome not in ("not_attempted", None)
        elif kind == "hint":
            entry["hints"] = max(entry["hints"], hint or 0)
            entry["tried"] = True
        elif kind == "solution":
            entry["solution"] = entry["tried"] = True
    return {
        key: ExerciseProgress(
            lab=key[0], exercise=key[1],
            status="done" if e["done"] else "attempted" if e["tried"] else "not started",
            checks=e["checks"], hints_used=e["hints"], solution_viewed=e["solution"],
            last_outcome=e["last"],
        )
        for key, e in state.items()
    }


_stores: dict[Path, ProgressStore] = {}
_warned: set[Path] = set()


def store_for(settings: Settings) -> ProgressStore:
    path = progress_path(settings)
    if path not in _stores:
        _stores[path] = ProgressStore(path)
    return _stores[path]


def record_safely(settings: Settings, lab: str, exercise: str, kind: str,
                  outcome: str | None = None, hint: int | None = None) -> None:
    """Record an event; a broken store gives one warning, never an exception in the notebook."""
    store = store_for(settings)
    error: Exception | None = None
    for attempt in range(3):
        try:
            store.record(lab, exercise, kind, outcome, hint)
            return
        except sqlite3.OperationalError as locked:  # still locked after the busy timeout
            error = locked
            time.sleep(0.1 * (attempt + 1))
        except (ProgressStoreCorrupt, ProgressStoreUnavailable, OSError, sqlite3.Error) as failed:
            error = failed
            break
    if store.path not in _warned:
        _warned.add(store.path)
        warnings.warn(f"Progress not recorded: {error}", RuntimeWarning, stacklevel=3)


def exercises_by_lab() -> dict[str, list[tuple[str, str]]]:
    """(id, title) of every exercise, per lab slug in catalogue order (labs without an
    exercises module have an empty list)."""
    import importlib

    from nexus_labs.labs.catalog import LABS

    result = {}
    for lab in LABS:
        try:
            module = importlib.import_module(f"nexus_labs.exercises.{lab.slug}")
        except ModuleNotFoundError as error:
            if error.name != f"nexus_labs.exercises.{lab.slug}":
                raise
            result[lab.slug] = []
            continue
        result[lab.slug] = [(cls.id, cls.title) for cls in getattr(module, "EXERCISES", ())]
    return result


def progress_rows(settings: Settings) -> list[ExerciseProgress]:
    """Every exercise of every lab in the catalogue, with its progress (not started if none)."""
    recorded = store_for(settings).summary()
    rows = []
    for lab, exercises in exercises_by_lab().items():
        for exercise_id, _title in exercises:
            rows.append(recorded.pop((lab, exercise_id), ExerciseProgress(
                lab, exercise_id, "not started", 0, 0, False, None)))
    rows.extend(recorded.values())  # events for exercises that no longer exist: still shown
    return rows


def progress_table_text(settings: Settings) -> str:
    """The progress table for `nexus-labs progress`, or a clear message if the file is bad."""
    try:
        rows = progress_rows(settings)
    except (ProgressStoreCorrupt, ProgressStoreUnavailable) as error:
        return str(error)
    header = ("lab", "exercise", "status", "hints", "solution")
    table = [header] + [
        (r.lab, r.exercise, r.status, str(r.hints_used), "viewed" if r.solution_viewed else "")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    done = sum(r.status == "done" for r in rows)
    attempted = sum(r.status == "attempted" for r in rows)
    lines.append("")
    lines.append(f"{done} of {len(rows)} exercises done, {attempted} attempted, "
                 f"{len(rows) - done - attempted} not started.")
    return "\n".join(lines)
