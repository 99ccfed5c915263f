-- 0004-credit-hub: owners (personal data encrypted at rest, with blind indexes for matching), consents,
-- and the records ingested from each data source with their provenance.

create table owners (
  tenant_id            uuid not null references tenants (id),
  id                   uuid not null,
  enterprise_id        uuid not null,
  name_encrypted       text not null,
  id_number_encrypted  text not null,
  -- keyed hashes (src/keys blindIndex): equal identity numbers / phones match without decryption
  id_number_index      text not null,
  phone_encrypted      text,
  phone_index          text,
  share_pct            numeric(7, 4) check (share_pct between 0 and 100),
  role                 text not null check (role in ('legal_representative', 'shareholder', 'director', 'guarantor')),
  created_at           timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, enterprise_id) references enterprises (tenant_id, id)
);
create index owners_enterprise on owners (tenant_id, enterprise_id);
create index owners_id_number on owners (tenant_id, id_number_index);
create index owners_phone on owners (tenant_id, phone_index) where phone_index is not null;

create table consents (
  tenant_id     uuid not null references tenants (id),
  id            uuid not null,
  enterprise_id uuid not null,
  purpose       text not null check (purpose in ('credit_assessment', 'monitoring', 'identity_verification')),
  -- the sources (and 'owners' for personal data) this consent covers
  scope         text[] not null check (cardinality(scope) > 0),
  granted_at    timestamptz not null,
  expires_at    timestamptz not null,
  revoked_at    timestamptz,
  granted_by    jsonb not null,
  evidence      text,
  primary key (tenant_id, id),
  foreign key (tenant_id, enterprise_id) references enterprises (tenant_id, id),
  check (expires_at > granted_at)
);
create index consents_enterprise on consents (tenant_id, enterprise_id);

-- Ingested records: idempotent per (source, external id); known-by semantics use ingested_at.
create table data_records (
  tenant_id     uuid not null references tenants (id),
  id            uuid not null,
  enterprise_id uuid not null,
  source        text not null,
  external_id   text not null,
  occurred_on   date not null,
  ingested_at   timestamptz not null,
  fields        jsonb not null,
  provenance    jsonb not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, enterprise_id) references enterprises (tenant_id, id)
);
create unique index data_records_external on data_records (tenant_id, source, external_id);
create index data_records_enterprise on data_records (tenant_id, enterprise_id, source, occurred_on);

grant select, insert on owners, data_records to puhui_app;
grant select, insert, update on consents to puhui_app;

alter table owners enable row level security;
create policy tenant_scope on owners using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table consents enable row level security;
create policy tenant_scope on consents using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table data_records enable row level security;
create policy tenant_scope on data_records using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
