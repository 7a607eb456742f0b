"""Engines, sessions and units of work: the only place that commits."""

from grandlivre.store.store import Store, UnitOfWork

__all__ = ["Store", "UnitOfWork"]
