"""SQLAlchemy tables shared by PostgreSQL and SQLite."""
