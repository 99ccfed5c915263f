-- 0019-ledger-transfer-buckets: statements find an account's transfers through two indexes on the
-- transfers themselves, keyed by journal bucket then account, instead of a side table (notes.md).
-- The bucket is computed by the database from the journal index: it cannot disagree with it.
alter table ledger_transfers add column bucket integer not null generated always as ((journal_index >> 16)::integer) stored;
create index ledger_transfers_debit_bucket on ledger_transfers (bucket, debit_account_id, journal_index);
create index ledger_transfers_credit_bucket on ledger_transfers (bucket, credit_account_id, journal_index);
drop table ledger_account_index;
