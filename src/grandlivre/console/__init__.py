"""The web console: pages at `/` over the public API, for accountants and operators."""
