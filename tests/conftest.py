"""Shared fixtures. The suite runs twice (see README): with no NEXUS_* URLs (embedded engines)
and with NEXUS_DATABASE_URL / NEXUS_REDIS_URL pointing at real servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# One workspace for the whole run, kept between runs so the 1M-row table is generated once.
# Set before any kernel starts: nbval's kernels inherit this environment.
os.environ.setdefault("NEXUS_HOME", str(ROOT / ".nexus-test-home"))


@pytest.fixture(scope="session")
def services() -> bool:
    """True in the run against real servers (NEXUS_DATABASE_URL or NEXUS_REDIS_URL set)."""
    return bool(os.environ.get("NEXUS_DATABASE_URL") or os.environ.get("NEXUS_REDIS_URL"))


@pytest.fixture(scope="session")
def open_test_lab():
    """open_lab without the banner, cached per lab for the session."""
    from nexus_labs import open_lab

    opened = {}

    def opener(slug: str):
        if slug not in opened:
            opened[slug] = open_lab(slug, quiet=True)
        return opened[slug]

    return opener
