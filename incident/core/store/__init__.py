"""The data store: SQLModel tables, the engine factory and Alembic migrations.

Named ``store`` so nobody confuses its table classes with the top-level
``models`` package (the transport science).
"""
