"""Where the packaged notebooks and datasets are, in a wheel install or a source checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(folder: str) -> Path:
    installed = PACKAGE_DIR / "_shipped" / folder
    if installed.is_dir():
        return installed
    # Editable install or running from the repository: the top-level folder.
    checkout = PACKAGE_DIR.parent / folder
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"The packaged {folder}/ folder is missing from {PACKAGE_DIR}; reinstall nexus-labs."
    )


def notebooks_dir() -> Path:
    return _shipped("notebooks")


def datasets_dir() -> Path:
    return _shipped("datasets")
