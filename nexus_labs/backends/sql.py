"""The SQL backend: a SQLite file per lab by default, a PostgreSQL schema per lab when configured.

Query counting uses SQLAlchemy's cursor events, so it sees exactly what the driver executes:
lazy loads, IN batches and all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nexus_labs.backends import BackendUnavailable
from nexus_labs.config import Settings, redact_url


@dataclass
class SqlBackend:
    """A lab's own database: its SQLite file, or its schema on a configured PostgreSQL."""

    engine: Engine
    kind: str  # "sqlite" or "postgresql"
    schema: str | None = None
    path: Path | None = None
    url: str = field(default="", repr=False)  # holds the password: never in a notebook's repr

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def label(self) -> str:
        """The engine's short name for a timing's legend: "SQLite" or "PostgreSQL"."""
        return "SQLite" if self.kind == "sqlite" else "PostgreSQL"

    def version(self) -> str:
        with self.engine.connect() as connection:
            if self.kind == "sqlite":
                return "SQLite " + connection.exec_driver_sql("select sqlite_version()").scalar()
            text = connection.exec_driver_sql("show server_version").scalar()
            return "PostgreSQL " + text.split()[0]

    def describe(self) -> str:
        if self.kind == "sqlite":
            return f"SQLite file {self.path}"
        return f"PostgreSQL {redact_url(self.url)} (schema {self.schema})"

    def drop(self) -> None:
        """Remove only what this lab created: its schema or its file."""
        if self.kind == "postgresql":
            with self.engine.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            self.engine.dispose()
        else:
            self.engine.dispose()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def _schema_name(namespace: str, lab: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"{namespace}_{lab}".lower())


def connect_sql(lab: str, settings: Settings) -> SqlBackend:
    """The lab's database: PostgreSQL schema when NEXUS_DATABASE_URL is set, else a SQLite file."""
    if settings.database_url:
        return _connect_postgresql(lab, settings)
    path = settings.state_dir / "db" / f"{lab}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    # URL.create, not an f-string: a "?" or "#" in the workspace path is part of the file name.
    engine = sa.create_engine(sa.engine.URL.create("sqlite", database=str(path)))
    return SqlBackend(engine=engine, kind="sqlite", path=path, url=str(engine.url))


def _connect_postgresql(lab: str, settings: Settings) -> SqlBackend:
    try:
        url = sa.engine.make_url(settings.database_url)
    except sa.exc.ArgumentError:
        url = None
    if url is None or url.get_backend_name() != "postgresql":
        raise BackendUnavailable(
            f"NEXUS_DATABASE_URL={redact_url(settings.database_url)} is not a PostgreSQL URL. "
            "Set it to postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE, or unset it to use "
            "the embedded SQLite database."
        )
    # psycopg 3 is the driver we ship: a URL naming psycopg2 or asyncpg (both common in
    # tutorials) means the same server, not a driver to go and install.
    url = url.set(drivername="postgresql+psycopg")
    schema = _schema_name(settings.namespace, lab)
    engine = sa.create_engine(
        url,
        connect_args={"options": f"-csearch_path={schema}", "connect_timeout": 5},
        pool_pre_ping=True,
    )
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    except sa.exc.DBAPIError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        shown = redact_url(settings.database_url)
        if isinstance(error, sa.exc.OperationalError):
            raise BackendUnavailable(
                f"Cannot reach the PostgreSQL server at NEXUS_DATABASE_URL={shown} ({reason}). "
                "Start the server (see README, 'docker compose up -d'), fix the URL, or unset "
                "NEXUS_DATABASE_URL to use the embedded SQLite database."
            ) from None
        raise BackendUnavailable(  # reached, but e.g. the user may not create schemas
            f"The PostgreSQL server at NEXUS_DATABASE_URL={shown} refused to create the lab's "
            f"schema {schema!r} ({reason}). Use a user allowed to CREATE in that database, or "
            "unset NEXUS_DATABASE_URL to use the embedded SQLite database."
        ) from None
    return SqlBackend(
        engine=engine,
        kind="postgresql",
        schema=schema,
        url=url.render_as_string(hide_password=False),
    )


@dataclass
class QueryLog:
    """The statements a block of code sent to the database, in order."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"QueryLog(count={self.count})"


@contextmanager
def count_queries(engine: Engine) -> Iterator[QueryLog]:
    """Count and keep every statement `engine` executes inside the block.

    >>> with count_queries(engine) as log:
    ...     session.scalars(select(Order)).all()
    >>> log.count
    1
    """
    log = QueryLog()

    def record(conn, cursor, statement, parameters, context, executemany):
        log.statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _enable_foreign_keys(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def enforce_foreign_keys(engine: Engine) -> None:
    """Make SQLite enforce FOREIGN KEY and ON DELETE rules on every connection of `engine`.

    SQLite ignores foreign keys unless each connection turns them on; PostgreSQL always
    enforces them, so this does nothing there. Only this engine is affected, not every
    SQLite engine of the process (a global listener would change other labs' behaviour).
    """
    if engine.dialect.name != "sqlite":
        return
    if not sa.event.contains(engine, "connect", _enable_foreign_keys):
        sa.event.listen(engine, "connect", _enable_foreign_keys)
        engine.dispose()  # pooled connections were opened without the pragma
