"""Shared fixtures. The suite runs twice (see README): with no NEXUS_* URLs (embedded engines)
and with NEXUS_DATABASE_URL / NEXUS_REDIS_URL pointing at real servers."""

from __future__ import annotations

import os

import pytest

# NEXUS_HOME for the run is set by the repository's top-level conftest.py.


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
