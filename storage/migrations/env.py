"""Alembic environment: compares against ``SQLModel.metadata`` from ``storage.models``.

Runs with synchronous drivers only (no event loop), so ``upgrade_to_head`` can be called
from anywhere, including a thread started by a running asyncio application.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.pool import NullPool

from storage.db import ensure_sqlite_dir, sync_url
from storage.models import metadata
from storage.types import ENUM_LENGTH, StrEnumType, UTCDateTime

config = context.config
target_metadata = metadata

# The alembic CLI gets the ini's logging; embedded runs (storage.db.alembic_config) leave
# the application's logging alone.
if config.config_file_name is not None and not config.attributes.get("embedded"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _database_url() -> str:
    url = config.attributes.get("database_url")
    if not url:
        url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        url = os.environ.get("PARTYBOT_DATABASE_URL")
    if not url:
        url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or set PARTYBOT_DATABASE_URL")
    return sync_url(str(url))


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate our custom types as the plain SQL types they stand on."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, StrEnumType):
        return f"sa.String(length={ENUM_LENGTH})"
    return False


def _configure(**kwargs: Any) -> None:
    url = kwargs.pop("url", None)
    connection = kwargs.pop("connection", None)
    dialect = connection.dialect.name if connection is not None else str(url).split(":", 1)[0]
    is_sqlite = dialect.startswith("sqlite")
    context.configure(
        url=url,
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        render_item=_render_item,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade head --sql``)."""
    _configure(url=_database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _database_url()
    ensure_sqlite_dir(url)
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
