"""Third parties: customers, suppliers and others, as auxiliary accounts."""
