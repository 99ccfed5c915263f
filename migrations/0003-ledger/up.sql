-- 0003-ledger: double-entry accounts with running balances, append-only transfers that double as the
-- per-tenant journal (journal_index, leaf_hash), the Merkle tree's perfect-subtree hashes, the journal
-- head (one row per tenant: the serialization point of appends) and signed tree heads.

create table ledger_accounts (
  tenant_id       uuid not null references tenants (id),
  id              uuid not null,
  currency        text not null check (currency ~ '^[A-Z]{3}$'),
  code            integer not null check (code >= 0),
  -- bit 1: debits_must_not_exceed_credits, bit 2: credits_must_not_exceed_debits
  flags           integer not null check (flags between 0 and 2),
  owner           text,
  closed          boolean not null default false,
  user_data       bigint not null default 0,
  debits_posted   bigint not null default 0 check (debits_posted >= 0),
  credits_posted  bigint not null default 0 check (credits_posted >= 0),
  debits_pending  bigint not null default 0 check (debits_pending >= 0),
  credits_pending bigint not null default 0 check (credits_pending >= 0),
  created_at      timestamptz not null,
  primary key (tenant_id, id),
  -- The limits are enforced in code (ledger/transfer.ts) and again here.
  constraint debits_must_not_exceed_credits check (flags & 1 = 0 or debits_posted + debits_pending <= credits_posted),
  constraint credits_must_not_exceed_debits check (flags & 2 = 0 or credits_posted + credits_pending <= debits_posted)
) with (fillfactor = 50); -- room on each page for HOT updates of the balances (no index touches them)

create table ledger_transfers (
  tenant_id         uuid not null references tenants (id),
  id                uuid not null,
  debit_account_id  uuid not null,
  credit_account_id uuid not null,
  amount            bigint not null check (amount >= 0),
  currency          text not null,
  code              integer not null,
  -- 0 posted, 1 pending, 2 post_pending, 3 void_pending, 4 expire_pending
  kind              smallint not null check (kind between 0 and 4),
  flags             integer not null,
  pending_id        uuid,
  timeout_seconds   integer not null,
  expires_at        timestamptz,
  user_data         bigint not null,
  value_date        date not null,
  posted_at         timestamptz not null,
  journal_index     bigint not null,
  leaf_hash         bytea not null,
  primary key (tenant_id, id)
);
create unique index ledger_transfers_journal on ledger_transfers (tenant_id, journal_index);
-- A pending transfer is resolved (posted, voided or expired) at most once.
create unique index ledger_transfers_resolution on ledger_transfers (tenant_id, pending_id) where pending_id is not null;
create index ledger_transfers_debit on ledger_transfers (tenant_id, debit_account_id, posted_at, journal_index);
create index ledger_transfers_credit on ledger_transfers (tenant_id, credit_account_id, posted_at, journal_index);
create index ledger_transfers_expiry on ledger_transfers (tenant_id, expires_at) where kind = 1 and expires_at is not null;

-- Hashes of perfect subtrees of the RFC 6962 tree over the journal: node (level, idx) covers leaves
-- [idx·2^level, (idx+1)·2^level). Level 0 is ledger_transfers.leaf_hash; levels 1-3 are recomputed from
-- at most 8 leaves when needed (one row per 16 transfers instead of one per transfer on the write path).
-- Proofs read O(log n) rows.
create table ledger_merkle_nodes (
  tenant_id uuid not null references tenants (id),
  level     smallint not null check (level between 4 and 62),
  idx       bigint not null check (idx >= 0),
  hash      bytea not null,
  primary key (tenant_id, level, idx)
);

create table ledger_journal_heads (
  tenant_id uuid primary key references tenants (id),
  size      bigint not null check (size >= 0)
);

create table ledger_tree_heads (
  tenant_id    uuid not null references tenants (id),
  tree_size    bigint not null,
  timestamp_ms bigint not null,
  root_hash    bytea not null,
  key_id       text not null,
  signature    text not null,
  primary key (tenant_id, tree_size, timestamp_ms)
);

create trigger ledger_transfers_append_only before update or delete on ledger_transfers for each row execute function puhui_refuse_change();
create trigger ledger_transfers_no_truncate before truncate on ledger_transfers for each statement execute function puhui_refuse_change();
create trigger ledger_merkle_nodes_append_only before update or delete on ledger_merkle_nodes for each row execute function puhui_refuse_change();
create trigger ledger_tree_heads_append_only before update or delete on ledger_tree_heads for each row execute function puhui_refuse_change();

grant select, insert, update on ledger_accounts, ledger_journal_heads to puhui_app;
grant select, insert on ledger_transfers, ledger_merkle_nodes, ledger_tree_heads to puhui_app;

alter table ledger_accounts enable row level security;
create policy tenant_scope on ledger_accounts using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table ledger_transfers enable row level security;
create policy tenant_scope on ledger_transfers using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table ledger_merkle_nodes enable row level security;
create policy tenant_scope on ledger_merkle_nodes using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table ledger_journal_heads enable row level security;
create policy tenant_scope on ledger_journal_heads using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table ledger_tree_heads enable row level security;
create policy tenant_scope on ledger_tree_heads using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());

-- The server's expiry job finds the tenants with pending transfers past their timeout (across tenants,
-- hence a definer function), then expires them tenant by tenant through the ledger service.
create function puhui_tenants_with_expired_pendings(p_now timestamptz) returns setof uuid
  language sql stable security definer set search_path = public as $$
  select distinct p.tenant_id from ledger_transfers p
  where p.kind = 1 and p.expires_at <= p_now
    and not exists (select 1 from ledger_transfers r where r.tenant_id = p.tenant_id and r.pending_id = p.id)
$$;
revoke all on function puhui_tenants_with_expired_pendings(timestamptz) from public;
grant execute on function puhui_tenants_with_expired_pendings(timestamptz) to puhui_app;

-- The server signs a tree head periodically for each tenant whose journal grew since its last one.
create function puhui_tenants_with_unsigned_journal() returns setof uuid
  language sql stable security definer set search_path = public as $$
  select h.tenant_id from ledger_journal_heads h
  where h.size > coalesce((select max(t.tree_size) from ledger_tree_heads t where t.tenant_id = h.tenant_id), 0)
$$;
revoke all on function puhui_tenants_with_unsigned_journal() from public;
grant execute on function puhui_tenants_with_unsigned_journal() to puhui_app;
