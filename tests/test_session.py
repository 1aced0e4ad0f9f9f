"""open_lab: the banner names the engines, exercises are bound, versions are compared."""

from __future__ import annotations

import pytest

from nexus_labs import __version__, open_lab
from nexus_labs.backends import redis as redis_backend
from nexus_labs.session import LibraryVersionWarning


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    for name in ("NEXUS_DATABASE_URL", "NEXUS_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEXUS_HOME", str(tmp_path))


def test_banner_names_each_engine_and_binds_exercises(embedded, capsys):
    lab = open_lab("welcome")
    banner = capsys.readouterr().out
    assert "SQLite file" in banner and "Redis" in banner and "q1, q2, q3" in banner
    assert [bound.id for bound in lab.exercises] == ["q1", "q2", "q3"]


def test_fully_emulated_redis_still_opens(embedded, monkeypatch, capsys):
    monkeypatch.setattr(redis_backend, "find_redis_server", lambda: None)
    monkeypatch.setattr(redis_backend, "_private_server", None)
    lab = open_lab("welcome")
    assert lab.redis.kind == "emulated"
    assert "emulated Redis" in capsys.readouterr().out


def test_older_notebook_warns_with_the_fix(embedded):
    with pytest.warns(LibraryVersionWarning, match="nexus-labs reset"):
        open_lab("welcome", made_with="0.0.1", quiet=True)


def test_newer_notebook_than_library_says_upgrade_not_reset(embedded):
    with pytest.warns(LibraryVersionWarning, match="newer than the installed") as caught:
        open_lab("welcome", made_with="99.0.0", quiet=True)
    assert "pip install -U nexus-labs" in str(caught[0].message)
    assert "nexus-labs reset" not in str(caught[0].message)


def test_matching_version_is_silent(embedded, recwarn):
    open_lab("welcome", made_with=__version__, quiet=True)
    assert not [w for w in recwarn if issubclass(w.category, LibraryVersionWarning)]


def test_unknown_lab_lists_the_known_ones(embedded):
    with pytest.raises(KeyError, match="caching"):
        open_lab("no-such-lab")


def test_every_committed_notebook_records_the_installed_version():
    import json

    from nexus_labs.resources import notebooks_dir

    for path in sorted(notebooks_dir().glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        assert notebook["metadata"]["nexus_labs"]["version"] == __version__, path.name
        setup = "".join(notebook["cells"][next(
            i for i, cell in enumerate(notebook["cells"])
            if "open_lab(" in "".join(cell["source"]))]["source"])
        assert f'made_with="{__version__}"' in setup, path.name


def test_committed_notebooks_name_no_path_of_the_machine_that_built_them():
    import re

    from nexus_labs.resources import notebooks_dir

    machine_path = re.compile(r"/(tmp|root|home|work|Users)/")
    for path in sorted(notebooks_dir().glob("*.ipynb")):
        found = machine_path.findall(path.read_text())
        assert not found, f"{path.name} names machine paths: rebuild it (tools/build_notebooks.py)"
