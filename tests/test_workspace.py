"""The learner's workspace: copies only what is missing, never loses the learner's notebook."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest

from nexus_labs import workspace as workspace_module
from nexus_labs.config import WORKSPACE_MARKER, load_settings
from nexus_labs.workspace import COPIED, MODIFIED, NEWER, NOT_COPIED, Workspace


def write_notebook(path: Path, source: str, version: str = "0.1.0") -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    notebook.metadata["nexus_labs"] = {"version": version}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def packaged(tmp_path) -> Path:
    source = tmp_path / "packaged"
    write_notebook(source / "00_welcome.ipynb", "print('welcome')")
    write_notebook(source / "01_normalization.ipynb", "print('normal forms')")
    write_notebook(source / "src" / "not_a_lab.ipynb", "print('sources are not copied')")
    return source


@pytest.fixture
def workspace(tmp_path, packaged) -> Workspace:
    settings = load_settings(env={"NEXUS_HOME": str(tmp_path / "ws")})
    return Workspace(settings, source=packaged)


def learner_edit(workspace: Workspace, name: str, text: str) -> bytes:
    path = workspace.home / name
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source = text
    nbformat.write(notebook, path)
    return path.read_bytes()


def test_prepare_creates_the_workspace_and_copies_every_packaged_notebook(workspace, packaged):
    copied, notices = workspace.prepare()
    assert copied == ["00_welcome.ipynb", "01_normalization.ipynb"]
    assert notices == []
    assert (workspace.home / WORKSPACE_MARKER).is_file()
    assert not (workspace.home / "src").exists()
    for name in copied:
        assert (workspace.home / name).read_bytes() == (packaged / name).read_bytes()
    record = json.loads(workspace.record_path.read_text())["notebooks"]
    assert record["00_welcome.ipynb"]["version"] == "0.1.0"
    assert [s.state for s in workspace.statuses()] == [COPIED, COPIED]


def test_prepare_copies_only_missing_notebooks_and_keeps_the_learners(workspace):
    workspace.prepare()
    mine = learner_edit(workspace, "00_welcome.ipynb", "answer_q1 = 42")
    (workspace.home / "01_normalization.ipynb").unlink()
    copied, _ = workspace.prepare()
    assert copied == ["01_normalization.ipynb"]
    assert (workspace.home / "00_welcome.ipynb").read_bytes() == mine
    assert workspace.status("00_welcome.ipynb").state == MODIFIED


def test_status_says_not_copied_before_start(workspace):
    assert {s.state for s in workspace.statuses()} == {NOT_COPIED}


@pytest.mark.parametrize("new_version", ["0.2.0", "0.1.0"])
def test_newer_packaged_notebook_gives_a_notice_and_keeps_the_learners_copy(
    workspace, packaged, new_version
):
    workspace.prepare()
    mine = learner_edit(workspace, "00_welcome.ipynb", "answer_q1 = 42")
    # A new release: a higher version, or the same version with changed content.
    write_notebook(packaged / "00_welcome.ipynb", "print('welcome, improved')", new_version)
    copied, notices = workspace.prepare()
    assert copied == []
    assert len(notices) == 1
    assert "00_welcome.ipynb" in notices[0] and "nexus-labs reset 00_welcome" in notices[0]
    assert (workspace.home / "00_welcome.ipynb").read_bytes() == mine
    assert workspace.status("00_welcome.ipynb").state == NEWER
    assert workspace.status("01_normalization.ipynb").state == COPIED


def test_hand_copied_notebook_without_record_is_compared_by_version(workspace, packaged):
    write_notebook(workspace.home / "00_welcome.ipynb", "old", version="0.0.9")
    write_notebook(packaged / "00_welcome.ipynb", "new", version="0.1.0")
    assert workspace.status("00_welcome.ipynb").state == NEWER


def test_reset_backs_up_the_learners_notebook_then_restores_the_original(workspace, packaged):
    workspace.prepare()
    mine = learner_edit(workspace, "00_welcome.ipynb", "answer_q1 = 42")
    backup = workspace.reset("00_welcome.ipynb")
    assert backup.parent == workspace.backups_dir
    assert backup.name.startswith("00_welcome.") and backup.suffix == ".ipynb"
    assert backup.read_bytes() == mine
    restored = (workspace.home / "00_welcome.ipynb").read_bytes()
    assert restored == (packaged / "00_welcome.ipynb").read_bytes()
    assert workspace.status("00_welcome.ipynb").state == COPIED


def test_repeated_resets_in_the_same_second_never_overwrite_a_backup(workspace, monkeypatch):
    frozen = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return frozen

    monkeypatch.setattr(workspace_module, "datetime", FrozenClock)
    workspace.prepare()
    versions = []
    backups = []
    for attempt in range(4):
        versions.append(learner_edit(workspace, "00_welcome.ipynb", f"answer_q1 = {attempt}"))
        backups.append(workspace.reset("00_welcome.ipynb"))
    assert len(set(backups)) == 4
    assert all("20260102T030405Z" in path.name for path in backups)
    assert [path.read_bytes() for path in backups] == versions


def test_reset_without_a_learner_copy_just_restores(workspace, packaged):
    assert workspace.reset("01_normalization.ipynb") is None
    assert (workspace.home / "01_normalization.ipynb").exists()
    with pytest.raises(FileNotFoundError):
        workspace.reset("99_missing.ipynb")


def test_datasets_copy_is_read_only_and_never_overwritten(workspace, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped-datasets"
    shipped.mkdir()
    (shipped / "customers.csv").write_text("customer_id\n1\n")
    (shipped / "orders.csv").write_text("order_id\n1\n")
    monkeypatch.setattr(workspace_module, "datasets_dir", lambda: shipped)
    workspace.prepare()
    customers = workspace.home / "datasets" / "customers.csv"
    assert customers.read_text() == "customer_id\n1\n"
    assert not customers.stat().st_mode & stat.S_IWUSR
    (workspace.home / "datasets" / "orders.csv").chmod(0o644)
    (workspace.home / "datasets" / "orders.csv").write_text("mine")
    workspace.prepare()
    assert (workspace.home / "datasets" / "orders.csv").read_text() == "mine"


def test_a_notebook_saved_while_prepare_copies_is_kept(workspace, packaged, monkeypatch):
    """The learner (or a second `nexus-labs start`) writes the file between check and copy."""
    target = workspace.home / "00_welcome.ipynb"
    original_read = Path.read_bytes

    def read_then_learner_saves(path: Path) -> bytes:
        data = original_read(path)
        if path == packaged / "00_welcome.ipynb" and not target.exists():
            target.write_bytes(b"saved by the learner meanwhile")
        return data

    workspace.prepare_folders()
    monkeypatch.setattr(Path, "read_bytes", read_then_learner_saves)
    copied, _ = workspace.prepare()
    monkeypatch.undo()
    assert target.read_bytes() == b"saved by the learner meanwhile"
    assert copied == ["01_normalization.ipynb"]


def test_an_autosave_during_reset_is_backed_up_not_overwritten(workspace, monkeypatch):
    workspace.prepare()
    first = learner_edit(workspace, "00_welcome.ipynb", "answer_q1 = 1")
    original_backup = Workspace.backup
    autosaved = b'{"autosaved": "answer_q1 = 2"}'

    def backup_then_autosave(self, name):
        path = original_backup(self, name)
        if not any(p.read_bytes() == autosaved for p in self.backups_dir.iterdir()):
            (self.home / name).write_bytes(autosaved)  # JupyterLab saves the open tab
        return path

    monkeypatch.setattr(Workspace, "backup", backup_then_autosave)
    latest = workspace.reset("00_welcome.ipynb")
    kept = sorted(p.read_bytes() for p in workspace.backups_dir.iterdir())
    assert kept == sorted([first, autosaved])
    assert latest.read_bytes() == autosaved
    assert workspace.status("00_welcome.ipynb").state == COPIED
