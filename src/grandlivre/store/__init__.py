"""Engines, sessions, units of work and the fallback machinery: the only place that commits."""

from grandlivre.store import journal
from grandlivre.store.modes import Mode
from grandlivre.store.operations import (
    LIVE,
    AlreadyApplied,
    EntryStatus,
    OpContext,
    Operation,
    Origin,
    Registry,
    registry,
)
from grandlivre.store.replay import ConflictAction
from grandlivre.store.store import Store, StoreConfig
from grandlivre.store.unit import UnitOfWork

__all__ = [
    "LIVE",
    "AlreadyApplied",
    "ConflictAction",
    "EntryStatus",
    "Mode",
    "OpContext",
    "Operation",
    "Origin",
    "Registry",
    "Store",
    "StoreConfig",
    "UnitOfWork",
    "journal",
    "registry",
]
