"""The learner's workspace: their own copies of the packaged notebooks, and safe resets.

The package's notebooks are never edited; `nexus-labs start` copies each one into the workspace
once, records which packaged version and content it copied (``.nexus/workspace.json``), and from
then on the workspace copy belongs to the learner. Nothing here overwrites or deletes a learner's
notebook: a reset first moves it to ``.nexus/backups/`` under a name that is never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from nexus_labs.config import WORKSPACE_MARKER, Settings
from nexus_labs.resources import datasets_dir, notebooks_dir

RECORD_FILE = "workspace.json"
MARKER_TEXT = (
    "This folder is a Nexus Labs workspace: your own copies of the labs.\n"
    "`nexus-labs reset LAB` restores a lab and keeps your copy in .nexus/backups/.\n"
)

# Workspace states of a lab notebook, as `nexus-labs list` prints them.
NOT_COPIED = "not copied"
COPIED = "copied"
MODIFIED = "modified"
NEWER = "newer packaged version available"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def notebook_version(path: Path) -> str | None:
    """The nexus_labs version a notebook was executed with (its metadata.nexus_labs.version)."""
    try:
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return None
    return (metadata.get("nexus_labs") or {}).get("version")


def _version_key(version: str | None) -> tuple[int, ...]:
    # Release numbers only ("0.2.0rc1" -> (0, 2, 0)): enough to tell "newer" between our releases.
    return tuple(int(part) for part in re.findall(r"\d+", (version or "0").split("+")[0])[:3])


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _create_new(path: Path, data: bytes) -> bool:
    """Write `path` only if no file is there, whole or not at all. False if one appeared.

    A checked-then-written copy could overwrite a notebook the learner (or a second `nexus-labs
    start`) saved in between; a hard link of a complete temporary file refuses an existing name
    atomically. Filesystems without hard links fall back to an exclusive create.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:  # no hard links here (some network and FAT filesystems)
            try:
                with open(path, "xb") as stream:
                    stream.write(data)
            except FileExistsError:
                return False
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)


@dataclass(frozen=True)
class NotebookStatus:
    name: str
    state: str  # NOT_COPIED, COPIED, MODIFIED or NEWER
    packaged_version: str | None
    copied_version: str | None


class Workspace:
    """The learner's folder: notebooks, a read-only datasets/ reference and .nexus/ state."""

    def __init__(self, settings: Settings, source: Path | None = None) -> None:
        self.settings = settings
        self.home = settings.home
        self.source = source if source is not None else notebooks_dir()

    @property
    def record_path(self) -> Path:
        return self.settings.state_dir / RECORD_FILE

    @property
    def backups_dir(self) -> Path:
        return self.settings.state_dir / "backups"

    def packaged_notebooks(self) -> list[Path]:
        """The shipped notebooks (top level only: notebooks/src/ holds their sources)."""
        return sorted(self.source.glob("*.ipynb"))

    # -- the record of what was copied -----------------------------------------------------
    def _load_record(self) -> dict[str, dict[str, str | None]]:
        try:
            return json.loads(self.record_path.read_text(encoding="utf-8")).get("notebooks", {})
        except (OSError, ValueError):
            return {}

    def _save_record(self, notebooks: dict[str, dict[str, str | None]]) -> None:
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"notebooks": notebooks}, indent=2, sort_keys=True) + "\n"
        _write_atomic(self.record_path, text.encode("utf-8"))

    def _remember(self, record: dict, packaged: Path) -> None:
        record[packaged.name] = {
            "version": notebook_version(packaged),
            "sha256": file_digest(packaged),
        }

    # -- creating and refreshing -----------------------------------------------------------
    def prepare(self) -> tuple[list[str], list[str]]:
        """Create the workspace and copy the notebooks it lacks.

        Returns:
            (names copied now, notices about newer packaged notebooks kept back).
        """
        self.prepare_folders()
        record = self._load_record()
        copied: list[str] = []
        for packaged in self.packaged_notebooks():
            if not _create_new(self.home / packaged.name, packaged.read_bytes()):
                continue  # the learner's copy: never replaced
            self._remember(record, packaged)
            copied.append(packaged.name)
        self._save_record(record)
        self.copy_datasets()
        notices = [self._newer_notice(s) for s in self.statuses() if s.state == NEWER]
        return copied, notices

    def copy_datasets(self) -> list[str]:
        """Put a read-only reference copy of the shipped datasets in workspace/datasets/.

        Only files that are missing are copied; the labs load the packaged originals, so a
        learner editing this folder changes nothing they depend on.
        """
        try:
            source = datasets_dir()
        except FileNotFoundError:
            return []
        copied = []
        for path in sorted(source.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            target = self.home / "datasets" / path.relative_to(source)
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            copied.append(str(target.relative_to(self.home)))
        return copied

    # -- status ----------------------------------------------------------------------------
    def status(self, name: str) -> NotebookStatus:
        """How the learner's copy of notebook `name` relates to the packaged one."""
        packaged = self.source / name
        learner = self.home / name
        packaged_version = notebook_version(packaged) if packaged.exists() else None
        if not learner.exists():
            return NotebookStatus(name, NOT_COPIED, packaged_version, None)
        entry = self._load_record().get(name)
        if entry is None:  # copied by hand or by an older release: only versions to compare
            copied_version = notebook_version(learner)
            newer = _version_key(packaged_version) > _version_key(copied_version)
            state = NEWER if newer else MODIFIED
            return NotebookStatus(name, state, packaged_version, copied_version)
        copied_version = entry.get("version")
        newer_version = _version_key(packaged_version) > _version_key(copied_version)
        if packaged.exists() and (newer_version or file_digest(packaged) != entry.get("sha256")):
            return NotebookStatus(name, NEWER, packaged_version, copied_version)
        state = COPIED if file_digest(learner) == entry.get("sha256") else MODIFIED
        return NotebookStatus(name, state, packaged_version, copied_version)

    def statuses(self) -> list[NotebookStatus]:
        return [self.status(packaged.name) for packaged in self.packaged_notebooks()]

    def _newer_notice(self, status: NotebookStatus) -> str:
        version = status.packaged_version or "?"
        return (
            f"A newer {status.name} ships with this nexus_labs (made with {version}); your copy "
            f"is kept. To get the new one: nexus-labs reset {Path(status.name).stem} "
            "(your copy is backed up first)."
        )

    # -- reset -----------------------------------------------------------------------------
    def _free_backup_name(self, name: str) -> Path:
        """Claim a new, empty .nexus/backups/<stem>.<UTC time>[-n].ipynb; never an existing one."""
        self.backups_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        stem = Path(name).stem
        for attempt in range(10_000):
            suffix = f"-{attempt}" if attempt else ""
            target = self.backups_dir / f"{stem}.{stamp}{suffix}.ipynb"
            try:
                # "x" refuses an existing file, so two resets in one second never collide.
                with open(target, "xb"):
                    return target
            except FileExistsError:
                continue
        raise RuntimeError(f"No free backup name for {name} in {self.backups_dir}")

    def backup(self, name: str) -> Path:
        """Move the learner's notebook to a new file in .nexus/backups/ and return its path.

        A rename is atomic: the learner's work is at its old path or in the backup at every
        moment, and a save racing with the reset lands in a file `reset` then sees again.
        """
        learner = self.home / name
        target = self._free_backup_name(name)
        try:
            os.replace(learner, target)  # replaces only the empty file just claimed
        except OSError:
            # .nexus/ on another filesystem (a symlink, a mount): copy, durably, then remove.
            target.write_bytes(learner.read_bytes())
            with open(target, "rb+") as stream:
                os.fsync(stream.fileno())
            learner.unlink()
        return target

    def reset(self, name: str) -> Path | None:
        """Back up the learner's copy of `name`, then restore the packaged one.

        Returns:
            The backup path (the latest, if JupyterLab saved again during the reset), or None
            when the learner had no copy to back up.
        """
        packaged = self.source / name
        if not packaged.exists():
            raise FileNotFoundError(f"{name} is not shipped with this nexus_labs.")
        self.prepare_folders()
        pristine = packaged.read_bytes()
        backup = None
        # Restore only into an empty place: if an autosave recreated the learner's file after
        # it was moved away, that file is backed up too rather than overwritten.
        for _ in range(100):
            if (self.home / name).exists():
                backup = self.backup(name)
            if _create_new(self.home / name, pristine):
                break
        else:
            raise RuntimeError(f"{name} keeps being rewritten; close it in JupyterLab and retry.")
        record = self._load_record()
        self._remember(record, packaged)
        self._save_record(record)
        return backup

    def prepare_folders(self) -> None:
        """The workspace folder, its marker (kernels find the workspace by it) and .nexus/."""
        self.home.mkdir(parents=True, exist_ok=True)
        marker = self.home / WORKSPACE_MARKER
        if not marker.exists():
            marker.write_text(MARKER_TEXT, encoding="utf-8")
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
