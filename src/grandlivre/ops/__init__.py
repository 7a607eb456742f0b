"""Operating surface: probes, request ids, logging, limits."""
