"""The replay journal as admins see it: what waits, what conflicts, retry or discard."""
