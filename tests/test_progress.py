"""The progress store: durable per event, shared by concurrent kernels, honest when damaged."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
import warnings

import pytest

from nexus_labs.config import load_settings
from nexus_labs.exercises import progress
from nexus_labs.exercises.progress import (
    ProgressStore,
    ProgressStoreCorrupt,
    move_aside,
    progress_path,
    progress_table_text,
    record_safely,
)

WRITER = """
import sys
from pathlib import Path
from nexus_labs.exercises.progress import ProgressStore
store = ProgressStore(Path(sys.argv[1]))
lab, count = sys.argv[2], int(sys.argv[3])
for number in range(1, count + 1):
    store.record(lab, "q1", "hint", hint=number)
"""


@pytest.fixture()
def settings(tmp_path):
    return load_settings(env={"NEXUS_HOME": str(tmp_path)})


def start_writer(path, lab, count):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), lab, str(count)])


def test_events_and_summary(settings):
    store = ProgressStore(progress_path(settings))
    store.record("caching", "q1", "check", "not_attempted")
    store.record("caching", "q1", "check", "incorrect")
    store.record("caching", "q1", "hint", hint=1)
    store.record("caching", "q1", "check", "correct")
    store.record("caching", "q2", "check", "not_attempted")
    store.record("caching", "q3", "solution")
    summary = store.summary()
    q1, q2, q3 = (summary[("caching", q)] for q in ("q1", "q2", "q3"))
    assert (q1.status, q1.checks, q1.hints_used, q1.last_outcome) == ("done", 3, 1, "correct")
    assert q2.status == "not started"
    assert (q3.status, q3.solution_viewed) == ("attempted", True)
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_progress_table_text_lists_every_catalogue_lab(settings):
    record_safely(settings, "welcome", "q1", "check", "correct")
    text = progress_table_text(settings)
    lines = text.splitlines()
    assert lines[0].split() == ["lab", "exercise", "status", "hints", "solution"]
    assert any(line.split()[:3] == ["welcome", "q1", "done"] for line in lines)
    assert "exercises done" in lines[-1]


def test_writer_killed_mid_way_leaves_a_consistent_store(settings):
    path = progress_path(settings)
    writer = start_writer(path, "killed", 1_000_000)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if path.exists():
                try:
                    with sqlite3.connect(path, timeout=5) as probe:
                        if probe.execute("SELECT count(*) FROM events").fetchone()[0] >= 200:
                            break
                except sqlite3.OperationalError:
                    pass
            time.sleep(0.05)
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.wait(10)
    assert writer.returncode == -signal.SIGKILL
    store = ProgressStore(path)
    events = store.events()
    assert len(events) >= 200
    # every committed event is whole, and none is missing before the last one
    assert [e[5] for e in events] == list(range(1, len(events) + 1))
    assert store.summary()[("killed", "q1")].hints_used == len(events)
    check = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0]
    assert check == "ok"
    store.record("killed", "q1", "check", "correct")  # and it keeps working
    assert store.summary()[("killed", "q1")].status == "done"


def test_two_processes_writing_at_once(settings):
    path = progress_path(settings)
    ProgressStore(path).record("setup", "q0", "solution")  # create the schema first
    writers = [start_writer(path, lab, 300) for lab in ("kernel_a", "kernel_b")]
    for writer in writers:
        assert writer.wait(120) == 0
    summary = ProgressStore(path).summary()
    assert summary[("kernel_a", "q1")].hints_used == 300
    assert summary[("kernel_b", "q1")].hints_used == 300
    assert len(ProgressStore(path).events()) == 601


def test_corrupt_store_is_reported_and_moved_aside_never_deleted(settings):
    path = progress_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    with pytest.raises(ProgressStoreCorrupt, match="damaged") as error:
        ProgressStore(path).events()
    assert str(path) in str(error.value) and "move_aside" in str(error.value)
    text = progress_table_text(settings)
    assert "damaged" in text and "move_aside" in text
    progress._warned.discard(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record_safely(settings, "welcome", "q1", "check", "correct")  # warns, never raises
    assert any("Progress not recorded" in str(w.message) for w in caught)
    assert path.read_bytes() == garbage
    kept = move_aside(path)
    assert kept.read_bytes() == garbage and not path.exists()
    progress._stores.pop(path, None)
    record_safely(settings, "welcome", "q1", "check", "correct")
    assert ProgressStore(path).summary()[("welcome", "q1")].status == "done"


def test_dashboard_lists_every_lab_with_status_and_totals(settings):
    from nexus_labs.exercises.dashboard import dashboard_html, progress_dashboard
    from nexus_labs.labs.catalog import LABS

    record_safely(settings, "welcome", "q1", "check", "correct")
    record_safely(settings, "welcome", "q2", "hint", hint=1)
    page = dashboard_html(settings)
    assert all(lab.title in page for lab in LABS)
    assert ">done</td>" in page and ">attempted</td>" in page
    assert "exercises done" in page
    widget = progress_dashboard(settings)
    table, button = widget.children[1], widget.children[2]
    record_safely(settings, "welcome", "q2", "check", "correct")
    button.click()
    assert table.value.count(">done</td>") == 2


def test_store_used_from_several_threads(settings):
    import threading

    store = ProgressStore(progress_path(settings))
    store.record("threads", "q1", "check", "incorrect")  # the connection opens on this thread
    failures = []

    def write(number):
        try:
            store.record("threads", "q1", "hint", hint=number)
        except Exception as error:  # any failure is the finding
            failures.append(error)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(1, 9)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert failures == []
    assert len(store.events()) == 9
    assert store.summary()[("threads", "q1")].hints_used == 8


@pytest.mark.parametrize("obstacle", ["home is a file", "store is a folder"])
def test_store_that_cannot_be_opened_is_reported_not_called_damaged(tmp_path, obstacle):
    if obstacle == "home is a file":
        home = tmp_path / "not-a-folder"
        home.write_text("a file where NEXUS_HOME should be a folder")
    else:
        home = tmp_path
        (home / ".nexus" / "progress.sqlite").mkdir(parents=True)  # sqlite cannot open it
    settings = load_settings(env={"NEXUS_HOME": str(home)})
    progress._warned.discard(progress_path(settings))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record_safely(settings, "welcome", "q1", "check", "correct")  # never raises
    messages = [str(w.message) for w in caught]
    assert any("Progress not recorded" in m and "cannot be used" in m for m in messages)
    assert not any("damaged" in m for m in messages)
    text = progress_table_text(settings)  # `nexus-labs progress` still answers
    assert "damaged" not in text
    assert "cannot be used" in text or "0 of " in text.splitlines()[-1]


def test_reading_progress_never_creates_a_store(tmp_path):
    settings = load_settings(env={"NEXUS_HOME": str(tmp_path / "typo")})
    text = progress_table_text(settings)
    assert "exercises done" in text.splitlines()[-1]
    assert not (tmp_path / "typo").exists()
