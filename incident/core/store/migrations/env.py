"""Alembic environment: runs against the engine handed over in ``config.attributes``.

``incident db upgrade`` and app start-up call this programmatically; the
developer CLI (``alembic -c incident/core/store/alembic.ini``) works as well.
"""

from alembic import context
from sqlmodel import SQLModel

import incident.core.store.tables  # noqa: F401  (registers every table on the metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from incident.core.store.engine import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
