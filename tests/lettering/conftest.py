"""The failover fixtures (a private PostgreSQL to cut off, fast apps) for the lettering test
that runs through an outage."""

from tests.failover.conftest import app_factory, cluster, database, proxy

__all__ = ["app_factory", "cluster", "database", "proxy"]
