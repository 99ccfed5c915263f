-- 0017-ledger-account-index: statements find an account's transfers through one row per transfer (both
-- accounts) keyed first by the journal's bucket of 65,536 transfers, instead of two rows keyed by account
-- (notes.md: the random leaf writes of an index keyed by account were the largest part of an append).

create table ledger_account_index (
  tenant_id         uuid not null,
  -- journal_index >> 16: the index keys below start with it, so that a group's inserts land in the few
  -- hundred leaf pages of the current bucket instead of anywhere in an index as large as the journal.
  bucket            integer not null,
  journal_index     bigint not null,
  debit_account_id  uuid not null,
  credit_account_id uuid not null,
  posted_at         timestamptz not null,
  check (bucket = journal_index >> 16)
);

insert into ledger_account_index (tenant_id, bucket, journal_index, debit_account_id, credit_account_id, posted_at)
  select tenant_id, (journal_index >> 16)::integer, journal_index, debit_account_id, credit_account_id, posted_at from ledger_transfers;

create index ledger_account_index_debit on ledger_account_index (bucket, debit_account_id, journal_index) include (posted_at);
create index ledger_account_index_credit on ledger_account_index (bucket, credit_account_id, journal_index) include (posted_at);

drop table ledger_account_entries;

create trigger ledger_account_index_append_only before update or delete on ledger_account_index for each row execute function puhui_refuse_change();
create trigger ledger_account_index_no_truncate before truncate on ledger_account_index for each statement execute function puhui_refuse_change();
grant select, insert on ledger_account_index to puhui_app;
alter table ledger_account_index enable row level security;
create policy tenant_scope on ledger_account_index using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
