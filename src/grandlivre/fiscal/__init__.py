"""Fiscal years (exercices) and their monthly periods."""
