-- 0013-ledger-speed: the per-account statement index leaves ledger_transfers for an append-only side
-- table written before the journal head is locked (notes.md), and the transfers' tenant foreign key
-- goes (the journal head's and the accounts' carry it).

-- One row per (transfer, account it touches): what statements and balance-as-of find an account's
-- transfers by. No unique index on purpose: a group's rows go in before its writer holds the journal
-- head lock, and a unique key on a journal index would make a foreign writer under the lock wait for
-- that uncommitted row (a deadlock). The rows are in the same transaction as their transfers.
create table ledger_account_entries (
  tenant_id     uuid not null,
  account_id    uuid not null,
  journal_index bigint not null,
  posted_at     timestamptz not null
);

insert into ledger_account_entries (tenant_id, account_id, journal_index, posted_at)
  select tenant_id, debit_account_id, journal_index, posted_at from ledger_transfers
  union all
  select tenant_id, credit_account_id, journal_index, posted_at from ledger_transfers;

-- Without tenant_id in the key (16 bytes less per entry): account ids are UUIDs, and a row of another
-- tenant under the same id is filtered out by tenant_id (and row-level security).
create index ledger_account_entries_account on ledger_account_entries (account_id, journal_index) include (posted_at);

drop index ledger_transfers_debit;
drop index ledger_transfers_credit;
alter table ledger_transfers drop constraint ledger_transfers_tenant_id_fkey;

create trigger ledger_account_entries_append_only before update or delete on ledger_account_entries for each row execute function puhui_refuse_change();
create trigger ledger_account_entries_no_truncate before truncate on ledger_account_entries for each statement execute function puhui_refuse_change();
grant select, insert on ledger_account_entries to puhui_app;
alter table ledger_account_entries enable row level security;
create policy tenant_scope on ledger_account_entries using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
