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

-- Transfers are never written into the journal's committed history: an insert statement whose rows sit
-- below their tenant's head fails (PJ002). Once per statement, outside the head lock (a group's
-- transfers are inserted before it); what lies at or beyond the head commits only with the head moved
-- over it by the statement above.
create function puhui_transfers_beyond_head() returns trigger language plpgsql as $$
begin
  if exists (select 1 from inserted i join ledger_journal_heads h on h.tenant_id = i.tenant_id where i.journal_index < h.size) then
    raise exception 'transfers written below the journal head' using errcode = 'PJ002';
  end if;
  return null;
end $$;
create trigger ledger_transfers_beyond_head after insert on ledger_transfers referencing new table as inserted
  for each statement execute function puhui_transfers_beyond_head();
