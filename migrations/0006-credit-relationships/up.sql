-- 0006-credit-relationships: an enterprise's contacts (addresses, phones, bank accounts), encrypted with
-- blind indexes so shared ones link enterprises; and feature snapshots stored as data arrives.

create table enterprise_contacts (
  tenant_id       uuid not null references tenants (id),
  id              uuid not null,
  enterprise_id   uuid not null,
  kind            text not null check (kind in ('address', 'phone', 'bank_account')),
  value_encrypted text not null,
  value_index     text not null,
  created_at      timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, enterprise_id) references enterprises (tenant_id, id)
);
create index enterprise_contacts_enterprise on enterprise_contacts (tenant_id, enterprise_id);
create index enterprise_contacts_value on enterprise_contacts (tenant_id, kind, value_index);

-- Features recomputed for the enterprises a batch of records touched, as of the tenant's business date,
-- for each purpose the enterprise consented to: the history behind "features over time".
create table feature_snapshots (
  tenant_id         uuid not null references tenants (id),
  enterprise_id     uuid not null,
  purpose           text not null,
  as_of             date not null,
  catalogue_version text not null,
  computed_at       timestamptz not null,
  features          jsonb not null,
  flags             jsonb not null,
  primary key (tenant_id, enterprise_id, purpose, as_of, catalogue_version),
  foreign key (tenant_id, enterprise_id) references enterprises (tenant_id, id)
);

grant select, insert on enterprise_contacts to puhui_app;
grant select, insert, update on feature_snapshots to puhui_app;
alter table enterprise_contacts enable row level security;
create policy tenant_scope on enterprise_contacts using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table feature_snapshots enable row level security;
create policy tenant_scope on feature_snapshots using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
