"""Settings from the environment: where the workspace is and which servers to use.

Every setting has an embedded default so a learner with nothing but Python gets working labs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

DEFAULT_WORKSPACE = "nexus-workspace"
WORKSPACE_MARKER = ".nexus-workspace"
ENV_VARS = (
    "NEXUS_HOME",
    "NEXUS_DATABASE_URL",
    "NEXUS_REDIS_URL",
    "NEXUS_BROKER_URL",
    "NEXUS_NAMESPACE",
    "NEXUS_SCALE",
)


class ConfigError(ValueError):
    """A setting is present but unusable; the message says which and how to fix it."""

    def _render_traceback_(self) -> list[str]:  # IPython: one paragraph, no stack
        return [f"{type(self).__name__}: {self}"]


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None
    redis_url: str | None
    broker_url: str | None
    namespace: str
    scale: int

    @property
    def state_dir(self) -> Path:
        """Library-owned files in the workspace: databases, progress, the private Redis."""
        return self.home / ".nexus"


def _default_home(cwd: Path) -> Path:
    # A kernel started inside the workspace (JupyterLab opened by `nexus-labs start`) finds it
    # by its marker, so notebooks work even if NEXUS_HOME was lost on the way.
    for folder in (cwd, *cwd.parents):
        if (folder / WORKSPACE_MARKER).exists():
            return folder
    return cwd / DEFAULT_WORKSPACE


def load_settings(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Read the NEXUS_* variables (see README "Using real servers")."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    home = Path(env["NEXUS_HOME"]).expanduser() if env.get("NEXUS_HOME") else _default_home(cwd)
    namespace = env.get("NEXUS_NAMESPACE") or "nexus"
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", namespace):
        raise ConfigError(
            f"NEXUS_NAMESPACE={namespace!r} is not usable as a schema and key prefix: "
            "use lowercase letters, digits and underscores, starting with a letter."
        )
    scale_text = env.get("NEXUS_SCALE") or "1"
    try:
        scale = int(scale_text)
    except ValueError:
        scale = 0
    if scale < 1:
        raise ConfigError(f"NEXUS_SCALE={scale_text!r} must be a whole number of at least 1.")
    return Settings(
        home=home.resolve(),
        database_url=env.get("NEXUS_DATABASE_URL") or None,
        redis_url=env.get("NEXUS_REDIS_URL") or None,
        broker_url=env.get("NEXUS_BROKER_URL") or None,
        namespace=namespace,
        scale=scale,
    )


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, safe to print in a banner or an error."""
    try:
        parsed = make_url(url)
    except Exception:
        return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", url)
    return parsed.render_as_string(hide_password=True)
