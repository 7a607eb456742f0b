"""Lettrage: matching lines of an account that sum to zero, open items, aged balance."""
