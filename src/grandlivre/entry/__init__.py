"""Journal entries: posting, reading, listing and reversing."""
