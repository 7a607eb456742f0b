"""API keys and roles: who may read, post, and administer."""
