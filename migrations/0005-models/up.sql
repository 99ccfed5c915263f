-- 0005-models: the model registry (versioned scorecard artefacts with their training-data fingerprint,
-- metrics and author; champion / challenger) and the scores it gives, kept for drift monitoring.

create table models (
  tenant_id      uuid not null references tenants (id),
  id             uuid not null,
  name           text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  version        integer not null check (version >= 1),
  status         text not null check (status in ('registered', 'challenger', 'champion', 'retired')),
  artefact       jsonb not null,
  fingerprint    text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
  metrics        jsonb not null,
  author         jsonb not null,
  created_at     timestamptz not null,
  primary key (tenant_id, id),
  unique (tenant_id, name, version)
);
-- At most one champion per model name.
create unique index models_champion on models (tenant_id, name) where status = 'champion';

create table model_scores (
  tenant_id   uuid not null references tenants (id),
  id          uuid not null,
  model_id    uuid not null,
  scored_at   timestamptz not null,
  subject     text,
  score       double precision not null,
  probability double precision not null,
  bins        smallint[] not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, model_id) references models (tenant_id, id)
);
create index model_scores_model on model_scores (tenant_id, model_id, scored_at);

grant select, insert, update on models to puhui_app;
grant select, insert on model_scores to puhui_app;
alter table models enable row level security;
create policy tenant_scope on models using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table model_scores enable row level security;
create policy tenant_scope on model_scores using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
