"""Grand Livre: double-entry bookkeeping on the French chart of accounts."""
