"""Settings from the environment: where the workspace is and which servers to use.

Every setting has an embedded default so a learner with nothing but Python gets working labs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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


_SECRET_QUERY = re.compile(r"([?&](?:password|passwd|pwd)=)[^&#]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, safe to print in a banner or an error.

    Works on the text rather than a parsed URL: a URL mistyped badly enough not to parse is
    exactly the one an error message prints, and its password must be hidden all the same.
    """
    scheme, separator, rest = url.partition("://")
    if separator:
        address = re.split(r"[?#]", rest, maxsplit=1)[0]
        # The last "@" before the query ends the credentials: a password may contain "@" or "/".
        userinfo, at, _ = address.rpartition("@")
        if at and ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            rest = f"{user}:***@{rest[len(userinfo) + 1:]}"
        url = f"{scheme}://{rest}"
    else:  # "postgresql//bob:pw@db": a typo, but still a password
        url = re.sub(r"([^\s/:@]*):[^\s@]*@", r"\1:***@", url)
    return _SECRET_QUERY.sub(r"\1***", url)
