"""`open_lab`: the one-line setup cell of every notebook.

It connects the lab's backends (embedded by default), binds the lab's exercises, warns when the
notebook was made with another library version, and prints a short banner naming each engine.
"""

from __future__ import annotations

import importlib
import re
import warnings
from dataclasses import dataclass, field

from nexus_labs._version import __version__
from nexus_labs.backends.redis import RedisBackend, connect_redis
from nexus_labs.backends.sql import SqlBackend, connect_sql
from nexus_labs.config import Settings, load_settings
from nexus_labs.labs.catalog import LabInfo, find_lab


class LibraryVersionWarning(UserWarning):
    """The notebook was written for another nexus_labs version than the one installed."""


@dataclass
class Lab:
    """Everything a notebook needs: its backends, settings and exercises."""

    info: LabInfo
    settings: Settings
    sql: SqlBackend | None = None
    redis: RedisBackend | None = None
    exercises: tuple = field(default_factory=tuple)

    @property
    def slug(self) -> str:
        return self.info.slug

    def banner(self) -> str:
        lines = [f"Nexus Labs {__version__} · lab {self.info.notebook.removesuffix('.ipynb')}"]
        if self.sql is not None:
            lines.append(f"  SQL:   {self.sql.describe()} · {self.sql.version()}")
        if self.redis is not None:
            lines.append(f"  Redis: {self.redis.describe()} · {self.redis.version()}")
        if self.exercises:
            names = ", ".join(bound.id for bound in self.exercises)
            lines.append(f"  Exercises: {names}  (progress: nexus_labs.progress())")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Lab({self.info.slug!r})"


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def _version_mismatch(made_with: str) -> str | None:
    if made_with == __version__:
        return None
    if _release(made_with) > _release(__version__):
        # The notebook is ahead of the library: resetting would not help, upgrading does.
        return (
            f"This notebook was made with nexus_labs {made_with}, newer than the installed "
            f"{__version__}. Cells may call functions this version lacks. Upgrade the library "
            "(pip install -U nexus-labs, or `python3 bootstrap.py start` in a checkout) and "
            "restart the kernel."
        )
    return (
        f"This notebook was made with nexus_labs {made_with}, but {__version__} is installed. "
        "Cells may call functions that changed. Run `nexus-labs list` to see which notebooks "
        "have a newer packaged version, and `nexus-labs reset LAB` to get it (your copy is "
        "backed up first)."
    )


def open_lab(slug: str, made_with: str | None = None, quiet: bool = False) -> Lab:
    """Connect the lab's backends, bind its exercises and print the banner.

    Args:
        slug: the lab's name in the catalogue, e.g. "caching".
        made_with: the nexus_labs version the notebook was written and executed with; a
            different installed version gives a warning.
        quiet: skip the banner (for tests and the grader).
    """
    info = find_lab(slug)
    if made_with is not None and (message := _version_mismatch(made_with)):
        warnings.warn(message, LibraryVersionWarning, stacklevel=2)
    settings = load_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    lab = Lab(info=info, settings=settings)
    if "sql" in info.backends:
        lab.sql = connect_sql(info.slug, settings)
    if "redis" in info.backends:
        lab.redis = connect_redis(info.slug, settings)
    lab.exercises = _bind_exercises(lab)
    if not quiet:
        print(lab.banner())
    return lab


def _bind_exercises(lab: Lab) -> tuple:
    try:
        module = importlib.import_module(f"nexus_labs.exercises.{lab.slug}")
    except ModuleNotFoundError as error:
        if error.name == f"nexus_labs.exercises.{lab.slug}":
            return ()
        raise
    from nexus_labs.exercises.core import bind

    return tuple(bind(exercise, lab) for exercise in module.EXERCISES)
