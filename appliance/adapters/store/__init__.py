"""The store on SQLAlchemy Core: SQLite (single node) and PostgreSQL (several nodes sharing it)."""
