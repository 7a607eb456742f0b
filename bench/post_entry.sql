-- pgbench script for `make bench`: the DESIGN §6 entry as plain SQL on the Grand Livre schema.
-- One header insert and one insert per line, in one transaction; ids come from -D variables
-- read from the database after `grandlivre seed` (ledger, journal VE, accounts 411000, 706000
-- and 445710). Run with -M prepared: each statement is prepared once per client.
BEGIN;
INSERT INTO entries (id, ledger_id, journal_id, entry_date, document_date, label, reference, status, origin, created_at, validated_at)
  VALUES (gen_random_uuid(), :ledger, :journal, '2026-11-23', '2026-11-23', 'Facture F-2026-001', 'F-2026-001', 'posted', 'primary', now(), now())
  RETURNING id \gset entry_
INSERT INTO entry_lines (entry_id, position, account_id, amount, label)
  VALUES (:entry_id, 0, :account_411000, 12000, 'Client Dupont');
INSERT INTO entry_lines (entry_id, position, account_id, amount, label)
  VALUES (:entry_id, 1, :account_706000, -10000, NULL);
INSERT INTO entry_lines (entry_id, position, account_id, amount, label)
  VALUES (:entry_id, 2, :account_445710, -2000, NULL);
END;
