-- 0010-decisions: strategy versions under maker-checker governance, loan applications with their stored
-- decision (strategy version, model version, inputs, trace), offers, and payouts through an external rail.

create table strategies (
  tenant_id     uuid not null references tenants (id),
  id            uuid not null,
  name          text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  version       integer not null check (version >= 1),
  status        text not null check (status in ('draft', 'submitted', 'approved', 'active', 'retired')),
  author_id     text not null,
  submitted_by  text,
  approved_by   text,
  -- The strategy document as written (validated and compiled on every load; docs/strategies.md).
  document      jsonb not null,
  -- The governance events: [{action, actorId, at, from, to, note?}] (decisions/governance.ts).
  history       jsonb not null default '[]'::jsonb,
  created_at    timestamptz not null,
  updated_at    timestamptz not null,
  primary key (tenant_id, id),
  unique (tenant_id, name, version),
  -- Maker-checker in the database too: an approved or active version was approved by someone else.
  check (status not in ('approved', 'active') or (approved_by is not null and approved_by <> author_id and approved_by <> submitted_by))
);
-- At most one active version per strategy name.
create unique index strategies_one_active on strategies (tenant_id, name) where status = 'active';

create table applications (
  tenant_id         uuid not null references tenants (id),
  id                uuid not null,
  enterprise_id     uuid not null,
  product_id        uuid not null,
  amount_minor      bigint not null check (amount_minor > 0),
  currency          text not null check (currency ~ '^[A-Z]{3}$'),
  term_months       integer not null check (term_months between 1 and 600),
  business_date     date not null,
  status            text not null check (status in ('approved', 'declined', 'referred')),
  -- The decision as `decide` returned it: outcome, reasons, limit, rate, term and the full rule trace.
  decision          jsonb not null,
  strategy_id       uuid not null,
  strategy_name     text not null,
  strategy_version  integer not null,
  model_id          uuid,
  model_name        text,
  model_version     integer,
  -- Every input the strategy read (features, score, application, enterprise, loans, flags).
  inputs            jsonb not null,
  created_by        text not null,
  created_at        timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, enterprise_id) references enterprises (tenant_id, id),
  foreign key (tenant_id, product_id) references loan_products (tenant_id, id),
  foreign key (tenant_id, strategy_id) references strategies (tenant_id, id)
);
create index applications_enterprise on applications (tenant_id, enterprise_id, id);

create table offers (
  tenant_id         uuid not null references tenants (id),
  id                uuid not null,
  application_id    uuid not null,
  limit_minor       bigint not null check (limit_minor > 0),
  amount_minor      bigint not null check (amount_minor > 0),
  currency          text not null,
  annual_rate_pct   numeric not null check (annual_rate_pct >= 0),
  -- Annualised rate by IRR of the borrower's cash flows, fees included (明示贷款年化利率).
  apr_pct           numeric not null check (apr_pct >= 0),
  upfront_fee_minor bigint not null check (upfront_fee_minor >= 0),
  term_months       integer not null check (term_months between 1 and 600),
  schedule_preview  jsonb not null,
  expires_at        timestamptz not null,
  status            text not null check (status in ('open', 'accepted', 'payout_failed', 'expired')),
  loan_id           uuid,
  created_at        timestamptz not null,
  updated_at        timestamptz not null,
  primary key (tenant_id, id),
  unique (tenant_id, application_id),
  foreign key (tenant_id, application_id) references applications (tenant_id, id),
  foreign key (tenant_id, loan_id) references loans (tenant_id, id),
  check (amount_minor <= limit_minor),
  check ((status = 'open') = (loan_id is null) or status = 'expired')
);

create table payouts (
  tenant_id            uuid not null references tenants (id),
  id                   uuid not null,
  loan_id              uuid not null,
  offer_id             uuid not null,
  amount_minor         bigint not null check (amount_minor > 0),
  currency             text not null,
  -- The pending ledger transfer 1201 ← 1001 that reserves the money while the rail decides.
  pending_transfer_id  uuid not null,
  -- The transfer that posted or voided it, once settled.
  settle_transfer_id   uuid,
  rail                 text not null,
  rail_reference       text,
  status               text not null check (status in ('pending', 'succeeded', 'failed', 'unknown')),
  attempts             integer not null default 0 check (attempts >= 0),
  last_error           text,
  created_at           timestamptz not null,
  updated_at           timestamptz not null,
  primary key (tenant_id, id),
  unique (tenant_id, loan_id),
  foreign key (tenant_id, loan_id) references loans (tenant_id, id),
  foreign key (tenant_id, offer_id) references offers (tenant_id, id),
  -- Never settled without a resolving transfer; never a resolving transfer while unsettled.
  check ((status in ('succeeded', 'failed')) = (settle_transfer_id is not null))
);
-- Reconciliation reads the unsettled payouts.
create index payouts_unsettled on payouts (tenant_id, status) where status in ('pending', 'unknown');

grant select, insert, update on strategies, offers, payouts to puhui_app;
-- A decision, once stored, is evidence: applications are insert-only.
grant select, insert on applications to puhui_app;

alter table strategies enable row level security;
create policy tenant_scope on strategies using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table applications enable row level security;
create policy tenant_scope on applications using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table offers enable row level security;
create policy tenant_scope on offers using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table payouts enable row level security;
create policy tenant_scope on payouts using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
