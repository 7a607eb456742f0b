"""Closing and reopening fiscal years: the result, the closing and opening entries."""
