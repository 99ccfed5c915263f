-- 0018-ledger-prewrite: a prepared group inserts its transfers before it takes the journal head lock
-- (notes.md). The journal-index index stops being unique: the journal's order is guaranteed by the head,
-- whose move is checked under its row lock by the statement that raises `puhui_journal_moved` otherwise.

drop index ledger_transfers_journal;
create index ledger_transfers_journal on ledger_transfers (tenant_id, journal_index);

-- Raised by a group's locked statement when the journal head is not where the group's transfers were
-- written (another writer appended first, or the business date changed): the transaction cannot commit
-- those transfers, and the writer rolls back to its savepoint and decides the group again under the lock.
create function puhui_journal_moved() returns bigint language plpgsql as $$
begin
  raise exception 'the journal head is not at the size this group was written for' using errcode = 'PJ001';
end $$;
grant execute on function puhui_journal_moved() to puhui_app;

