"""Reads over posted entries: trial balance, general ledger of an account, balances."""
