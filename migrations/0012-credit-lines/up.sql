-- 0012-credit-lines: credit lines (授信) drawn without a new full decision and re-evaluated from fresh data,
-- and the review of referred applications by a person (maker of the decision: the reviewer).

-- What an application asks for: a loan (an offer follows an approval) or a credit line (a line follows), or
-- the periodic re-evaluation of an existing line (stored as a decision like any other: same evidence).
alter table applications add column kind text not null default 'loan' check (kind in ('loan', 'credit_line', 'credit_line_review'));
alter table applications add column credit_line_id uuid;
create index applications_referred on applications (tenant_id, id) where status = 'referred';

create table credit_lines (
  tenant_id         uuid not null references tenants (id),
  id                uuid not null,
  enterprise_id     uuid not null,
  product_id        uuid not null,
  -- The application whose approval opened the line.
  application_id    uuid not null,
  currency          text not null check (currency ~ '^[A-Z]{3}$'),
  limit_minor       bigint not null check (limit_minor >= 0),
  annual_rate_pct   numeric not null check (annual_rate_pct >= 0),
  terms_allowed     integer[] not null check (cardinality(terms_allowed) >= 1),
  status            text not null check (status in ('active', 'frozen', 'closed')),
  opened_on         date not null,
  expires_on        date not null,
  last_reviewed_on  date not null,
  created_at        timestamptz not null,
  updated_at        timestamptz not null,
  version           integer not null default 0,
  primary key (tenant_id, id),
  foreign key (tenant_id, enterprise_id) references enterprises (tenant_id, id),
  foreign key (tenant_id, product_id) references loan_products (tenant_id, id),
  foreign key (tenant_id, application_id) references applications (tenant_id, id),
  check (expires_on > opened_on)
);
-- One open line per enterprise and product.
create unique index credit_lines_one_open on credit_lines (tenant_id, enterprise_id, product_id) where status <> 'closed';
-- The periodic review reads lines by the day they were last reviewed.
create index credit_lines_review on credit_lines (tenant_id, last_reviewed_on) where status <> 'closed';

-- The line's history, insert-only: opened, raised, lowered, frozen, unfrozen, renewed, drawn, closed.
create table credit_line_events (
  tenant_id        uuid not null references tenants (id),
  id               uuid not null,
  credit_line_id   uuid not null,
  action           text not null check (action in ('opened', 'raised', 'lowered', 'unchanged', 'frozen', 'unfrozen', 'renewed', 'drawn', 'closed')),
  business_date    date not null,
  from_limit_minor bigint,
  to_limit_minor   bigint,
  application_id   uuid,
  loan_id          uuid,
  amount_minor     bigint,
  -- Reason codes with their zh/en text, or the person's note.
  reasons          jsonb not null default '[]'::jsonb,
  actor            text not null,
  at               timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, credit_line_id) references credit_lines (tenant_id, id)
);
create index credit_line_events_line on credit_line_events (tenant_id, credit_line_id, id);

-- A draw is a loan under the line; its payout has no offer.
alter table loans add column credit_line_id uuid;
create index loans_credit_line on loans (tenant_id, credit_line_id) where credit_line_id is not null;
alter table payouts alter column offer_id drop not null;
alter table payouts add column credit_line_id uuid;
alter table payouts add constraint payouts_offer_or_line check ((offer_id is null) <> (credit_line_id is null));
alter table applications add constraint applications_line_fk foreign key (tenant_id, credit_line_id) references credit_lines (tenant_id, id);

-- A person's decision on a referred application, insert-only: one per application.
create table application_reviews (
  tenant_id       uuid not null references tenants (id),
  application_id  uuid not null,
  decision        text not null check (decision in ('approve', 'decline')),
  note            text not null check (length(note) between 1 and 2000),
  reviewer_id     text not null,
  -- The terms the reviewer set on approval (null when the decision's own are kept, or on decline).
  amount_minor    bigint check (amount_minor > 0),
  annual_rate_pct numeric check (annual_rate_pct >= 0),
  reviewed_at     timestamptz not null,
  primary key (tenant_id, application_id),
  foreign key (tenant_id, application_id) references applications (tenant_id, id)
);
-- An offer may now follow a review rather than the engine: unchanged table, one offer per application.

grant select, insert, update on credit_lines to puhui_app;
grant select, insert on credit_line_events, application_reviews to puhui_app;

alter table credit_lines enable row level security;
create policy tenant_scope on credit_lines using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table credit_line_events enable row level security;
create policy tenant_scope on credit_line_events using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table application_reviews enable row level security;
create policy tenant_scope on application_reviews using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
