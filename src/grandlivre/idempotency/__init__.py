"""Idempotency-Key: the first response to a key is the response to every retry of it."""
