"""Books in and out: the FEC, Beancount, CSV."""
