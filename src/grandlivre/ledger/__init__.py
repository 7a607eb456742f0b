"""Ledgers, their chart of accounts and their journals."""
