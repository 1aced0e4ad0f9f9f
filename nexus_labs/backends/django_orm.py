"""Django's ORM on a lab's database, for the labs that show the Django side of a lesson.

Django keeps its settings in one process-wide object, so a process (a notebook kernel) can point
Django at one lab's database only. `setup_django(lab)` configures it once; calling it again for
the same lab is a no-op, for another lab it raises `DjangoAlreadyConfigured`.

    setup_django(lab)
    create_django_tables()
    load_django_marketplace()
    from nexus_labs.django_marketplace.models import Customer
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import make_url

APP = "nexus_labs.django_marketplace"
APP_LABEL = "marketplace"

# What this process configured Django for: (lab slug, database description). None = not yet.
_configured_for: tuple[str, str] | None = None


class DjangoAlreadyConfigured(RuntimeError):
    """Django is already set up for another lab's database in this process."""

    def _render_traceback_(self) -> list[str]:  # IPython: one paragraph, no stack
        return [f"{type(self).__name__}: {self}"]


def django_database_settings(lab: Any) -> dict[str, Any]:
    """The DATABASES["default"] entry for a lab: its SQLite file, or its PostgreSQL schema."""
    sql = lab.sql
    if sql is None:
        raise ValueError(f"lab {lab.slug!r} has no SQL backend to point Django at")
    if sql.kind == "sqlite":
        # timeout: SQLAlchemy and Django share the file; wait for the other's write to finish.
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sql.path),
            "OPTIONS": {"timeout": 20},
        }
    url = make_url(sql.url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": url.database or "",
        "USER": url.username or "",
        "PASSWORD": url.password or "",
        "HOST": url.host or "",
        "PORT": str(url.port or ""),
        # The lab's schema only: tables are created and read unqualified, like SQLAlchemy does.
        "OPTIONS": {"options": f"-c search_path={sql.schema}"},
    }


def setup_django(lab: Any, urlconf: str | None = None) -> None:
    """Configure Django for `lab`'s database (once per process) and run `django.setup()`.

    Args:
        lab: an open Lab (`open_lab(...)`) with a SQL backend.
        urlconf: dotted module path for ROOT_URLCONF, for labs that serve Django views.

    Raises:
        DjangoAlreadyConfigured: Django was set up in this process for another lab (settings
            are process-wide), or by someone else's settings.
    """
    global _configured_for
    import django
    from django.conf import settings

    # A Jupyter kernel runs an asyncio event loop in its main thread, so Django believes every
    # cell runs in async context and refuses ORM calls (SynchronousOnlyOperation). Allowing it
    # is safe in a notebook, where cells run one at a time. This belongs ONLY in notebooks and
    # this teaching library, never in production code: there it hides real async bugs.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    database = django_database_settings(lab)
    wanted = (lab.slug, lab.sql.describe())
    if _configured_for is not None:
        if _configured_for != wanted:
            raise DjangoAlreadyConfigured(
                f"Django is already set up for lab {_configured_for[0]!r} "
                f"({_configured_for[1]}) in this process, and Django settings are process-wide. "
                f"Restart the kernel to use Django with lab {lab.slug!r}."
            )
        if urlconf is not None and urlconf != settings.ROOT_URLCONF:
            from django.urls import clear_url_caches

            settings.ROOT_URLCONF = urlconf
            clear_url_caches()
        return
    if settings.configured:
        raise DjangoAlreadyConfigured(
            "Django settings were configured by something else in this process "
            "(DJANGO_SETTINGS_MODULE or settings.configure()); nexus_labs cannot point Django "
            f"at lab {lab.slug!r}. Restart the kernel without them."
        )
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", APP],
        DATABASES={"default": database},
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        ROOT_URLCONF=urlconf,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        # Nothing is signed that must survive the process: a fresh random key per process.
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG=False,
    )
    django.setup()
    _configured_for = wanted


def _app_models() -> list:
    from django.apps import apps

    return list(apps.get_app_config(APP_LABEL).get_models())


def create_django_tables(models: Iterable | None = None) -> list[str]:
    """Create the marketplace app's tables that do not exist yet, with the schema editor.

    No migrations: the tables come straight from the models, which takes milliseconds.

    Args:
        models: model classes to create; default every model of the marketplace app.

    Returns:
        The names of the tables created by this call (empty when all existed).
    """
    from django.db import connection

    models = list(models) if models is not None else _app_models()
    existing = set(connection.introspection.table_names())
    missing = [model for model in models if model._meta.db_table not in existing]
    if missing:
        # One editor for all: PostgreSQL adds the FK constraints at the end, so order is free.
        with connection.schema_editor() as editor:
            for model in missing:
                editor.create_model(model)
    return [model._meta.db_table for model in missing]


def _aware(values) -> list:
    """Timestamps from the dataset as timezone-aware UTC datetimes (USE_TZ is on)."""
    import pandas as pd

    stamps = pd.to_datetime(pd.Series(values), utc=True)
    return [stamp.to_pydatetime() for stamp in stamps]


def _rows(frame, rename: dict[str, str] | None = None, times: tuple[str, ...] = ()) -> list[dict]:
    frame = frame.copy()
    for column in times:
        frame[column] = _aware(frame[column])
    frame = frame.rename(columns=rename or {})
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def _marketplace_plan(frames: dict) -> list[tuple[type, list[dict]]]:
    """(model, rows) in dependency order, dataset columns mapped to model fields."""
    from nexus_labs.django_marketplace import models as m

    return [
        (m.Category, _rows(frames["categories"], {"category_id": "id"})),
        (m.Seller, _rows(frames["sellers"], {"seller_id": "id"}, ("joined_at",))),
        (m.Customer, _rows(frames["customers"], {"customer_id": "id"}, ("created_at",))),
        (m.CustomerProfile, _rows(frames["customer_profiles"])),
        (m.Tag, _rows(frames["tags"], {"tag_id": "id"})),
        (m.Product, _rows(frames["products"], {"product_id": "id"}, ("created_at",))),
        (m.ProductTag, _rows(frames["product_tags"])),
        (m.Order, _rows(frames["orders"], {"order_id": "id"}, ("ordered_at",))),
        (m.OrderItem, _rows(frames["order_items"])),
        (m.Review, _rows(frames["reviews"], {"review_id": "id"}, ("created_at",))),
    ]


def load_django_marketplace() -> dict[str, int]:
    """Load the marketplace dataset into the Django tables (creating them if needed).

    Idempotent: when every table already holds the dataset's row count nothing is written;
    otherwise the tables are emptied and reloaded with bulk_create in one transaction.

    Returns:
        Rows per Django table, e.g. {"marketplace_customer": 250, ...}.
    """
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from nexus_labs import data

    create_django_tables()
    plan = _marketplace_plan(data.load_frames())
    if all(model.objects.count() == len(rows) for model, rows in plan):
        return {model._meta.db_table: len(rows) for model, rows in plan}
    with transaction.atomic():
        for model, _ in reversed(plan):
            model.objects.all().delete()
        for model, rows in plan:
            model.objects.bulk_create([model(**row) for row in rows], batch_size=1000)
        # Explicit ids do not advance PostgreSQL sequences: move them past the loaded ids so
        # a later Model.objects.create() gets a fresh id instead of a duplicate-key error.
        statements = connection.ops.sequence_reset_sql(no_style(), [m for m, _ in plan])
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    return {model._meta.db_table: model.objects.count() for model, _ in plan}
