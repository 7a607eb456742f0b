"""Engines, sessions, units of work and the fallback machinery: the only place that commits."""

from grandlivre.store.operations import AlreadyApplied, OpContext, Operation, Registry
from grandlivre.store.store import Mode, Store, StoreConfig, UnitOfWork

__all__ = [
    "AlreadyApplied",
    "Mode",
    "OpContext",
    "Operation",
    "Registry",
    "Store",
    "StoreConfig",
    "UnitOfWork",
]
