-- 0001-foundation: tenants, users, API keys, sessions, idempotency records, the audit log, enterprises;
-- the application role and row-level security that scopes every tenant-owned row.

-- The application connects as (or SET ROLE to) puhui_app: not a superuser, not the tables' owner, so
-- row-level security applies to it and UPDATE/DELETE on append-only tables can be revoked from it.
do $$
begin
  create role puhui_app nologin;
exception when duplicate_object then null;
end $$;
do $$
begin
  execute format('grant puhui_app to %I', current_user);
exception when others then null; -- superusers need no membership; others must be granted by an admin
end $$;

grant usage on schema public to puhui_app;

-- The tenant of the current transaction, set by the application with set_config('puhui.tenant_id', …, true).
-- nullif: after a transaction-local setting ends, current_setting returns '' rather than NULL.
create function puhui_tenant() returns uuid language sql stable as $$
  select nullif(current_setting('puhui.tenant_id', true), '')::uuid
$$;

create table tenants (
  id            uuid primary key,
  slug          text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name          text not null check (length(name) between 1 and 200),
  time_zone     text not null default 'Asia/Shanghai',
  business_date date not null,
  created_at    timestamptz not null
);

create table users (
  tenant_id     uuid not null references tenants (id),
  id            uuid not null,
  email         text not null check (length(email) between 3 and 254),
  display_name  text not null,
  role          text not null check (role in ('admin','operator','risk_analyst','reviewer','borrower','investor','core_enterprise','auditor')),
  password_hash text,
  enterprise_id uuid,
  disabled_at   timestamptz,
  created_at    timestamptz not null,
  primary key (tenant_id, id)
);
create unique index users_email on users (tenant_id, lower(email));

create table enterprises (
  tenant_id   uuid not null references tenants (id),
  id          uuid not null,
  name        text not null check (length(name) between 1 and 200),
  uscc        text check (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'),
  sector      text,
  region      text,
  founded_on  date,
  created_at  timestamptz not null,
  primary key (tenant_id, id)
);
create unique index enterprises_uscc on enterprises (tenant_id, uscc) where uscc is not null;

create table api_keys (
  tenant_id     uuid not null references tenants (id),
  id            uuid not null,
  prefix        text not null unique,
  secret_hash   bytea not null,
  name          text not null,
  role          text not null check (role in ('admin','operator','risk_analyst','reviewer','borrower','investor','core_enterprise','auditor')),
  enterprise_id uuid,
  created_by    uuid,
  created_at    timestamptz not null,
  revoked_at    timestamptz,
  primary key (tenant_id, id)
);

create table sessions (
  tenant_id   uuid not null references tenants (id),
  id          uuid not null,
  user_id     uuid not null,
  token_hash  bytea not null unique,
  csrf_token  text not null,
  created_at  timestamptz not null,
  expires_at  timestamptz not null,
  revoked_at  timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, user_id) references users (tenant_id, id)
);

-- One row per Idempotency-Key: reserved (in_flight, with a lease) before the handler runs, completed
-- with the response in the same transaction as the effect.
create table idempotency_keys (
  tenant_id      uuid not null references tenants (id),
  key            text not null,
  principal_id   uuid not null,
  method         text not null,
  route          text not null,
  request_hash   bytea not null,
  state          text not null check (state in ('in_flight','completed')),
  lease_until    timestamptz not null,
  response_status integer,
  response_body  jsonb,
  created_at     timestamptz not null,
  completed_at   timestamptz,
  primary key (tenant_id, key)
);

create table audit_log (
  tenant_id   uuid not null references tenants (id),
  id          uuid not null,
  at          timestamptz not null,
  actor_kind  text not null check (actor_kind in ('user','api_key','system')),
  actor_id    uuid,
  action      text not null,
  target_kind text,
  target_id   text,
  purpose     text,
  request_id  text,
  detail      jsonb not null default '{}'::jsonb,
  primary key (tenant_id, id)
);

-- Append-only: the application role may not change or remove audit entries, and a trigger stops even
-- the owner (where triggers exist; Citus keeps them on shards).
create function puhui_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'table % is append-only', tg_table_name using errcode = '42501';
end $$;
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function puhui_refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function puhui_refuse_change();

grant select, insert, update on tenants, users, enterprises, api_keys, sessions to puhui_app;
grant select, insert, update, delete on idempotency_keys to puhui_app;
grant select, insert on audit_log to puhui_app;

-- Row-level security: a tenant's rows are visible and writable only inside a transaction that set it.
alter table tenants enable row level security;
create policy tenant_scope on tenants using (id = puhui_tenant()) with check (id = puhui_tenant());
alter table users enable row level security;
create policy tenant_scope on users using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table enterprises enable row level security;
create policy tenant_scope on enterprises using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table api_keys enable row level security;
create policy tenant_scope on api_keys using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table sessions enable row level security;
create policy tenant_scope on sessions using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table idempotency_keys enable row level security;
create policy tenant_scope on idempotency_keys using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table audit_log enable row level security;
create policy tenant_scope on audit_log using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());

-- Authentication happens before the tenant is known: these definer functions (owned by the migrator,
-- which row-level security does not restrict) look up exactly one credential by its hash or prefix.
create function puhui_tenant_by_slug(p_slug text) returns uuid
  language sql stable security definer set search_path = public as $$
  select id from tenants where slug = p_slug
$$;
create function puhui_api_key_lookup(p_prefix text)
  returns table (tenant_id uuid, id uuid, secret_hash bytea, role text, enterprise_id uuid, revoked_at timestamptz)
  language sql stable security definer set search_path = public as $$
  select k.tenant_id, k.id, k.secret_hash, k.role, k.enterprise_id, k.revoked_at from api_keys k where k.prefix = p_prefix
$$;
create function puhui_session_lookup(p_token_hash bytea)
  returns table (tenant_id uuid, id uuid, user_id uuid, csrf_token text, expires_at timestamptz, revoked_at timestamptz)
  language sql stable security definer set search_path = public as $$
  select s.tenant_id, s.id, s.user_id, s.csrf_token, s.expires_at, s.revoked_at from sessions s where s.token_hash = p_token_hash
$$;
revoke all on function puhui_tenant_by_slug(text), puhui_api_key_lookup(text), puhui_session_lookup(bytea) from public;
grant execute on function puhui_tenant(), puhui_tenant_by_slug(text), puhui_api_key_lookup(text), puhui_session_lookup(bytea) to puhui_app;
