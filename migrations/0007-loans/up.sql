-- 0007-loans: loan products, loans (scalar servicing state, one row per loan), installments (one row per
-- installment), the append-only servicing events with the ledger transfers each produced, and the map of
-- the general-ledger accounts servicing posts to (created lazily, per tenant, currency, code and product).
--
-- Shaped for a set-based close of business over millions of loans: every amount the daily step reads or
-- writes is a scalar column (bigint minor units, numeric carries), never JSON; the rule objects of a
-- product and the immutable schedule spec of a loan are jsonb because COB reads them once per product.

create table loan_products (
  tenant_id            uuid not null references tenants (id),
  id                   uuid not null,
  name                 text not null check (length(name) between 1 and 200),
  currency             text not null check (currency ~ '^[A-Z]{3}$'),
  principal_min_minor  bigint not null check (principal_min_minor > 0),
  principal_max_minor  bigint not null,
  installments_min     integer not null check (installments_min >= 1),
  installments_max     integer not null check (installments_max <= 600),
  -- The ScheduleSpec fields that are product settings (repaymentEvery, repaymentUnit, interestMethod, …),
  -- in the JSON shape `puhui schedule --spec` reads.
  schedule_template    jsonb not null,
  annual_rate_cap_pct  numeric not null check (annual_rate_cap_pct >= 0),
  upfront_fee_pct      numeric not null default 0 check (upfront_fee_pct between 0 and 100),
  penalty_rules        jsonb not null,
  allocation_order     jsonb not null,
  tier_thresholds      jsonb not null,
  provision_rates_pct  jsonb not null,
  provision_rounding   text not null check (provision_rounding in ('half_even', 'half_up', 'down', 'up')),
  tolerance_minor      bigint not null default 0 check (tolerance_minor >= 0),
  non_accrual_dpd_min  integer not null default 91 check (non_accrual_dpd_min >= 1),
  restructured_tier_min text not null default 'special_mention',
  created_at           timestamptz not null,
  updated_at           timestamptz not null,
  primary key (tenant_id, id),
  check (principal_max_minor >= principal_min_minor),
  check (installments_max >= installments_min)
);

create table loans (
  tenant_id                 uuid not null references tenants (id),
  id                        uuid not null,
  product_id                uuid not null,
  enterprise_id             uuid not null,
  status                    text not null check (status in ('approved', 'active', 'closed', 'written_off', 'restructured')),
  currency                  text not null,
  principal_minor           bigint not null check (principal_minor > 0),
  annual_rate_pct           numeric not null check (annual_rate_pct >= 0),
  days_in_year              text not null check (days_in_year in ('actual', '360', '364', '365')),
  rounding                  text not null check (rounding in ('half_even', 'half_up', 'down', 'up')),
  upfront_fee_minor         bigint not null default 0 check (upfront_fee_minor >= 0),
  -- The schedule spec the loan was built with (immutable; the JSON shape of `puhui schedule --spec`).
  schedule_spec             jsonb not null,
  disbursed_on              date not null,
  maturity_on               date not null,
  -- Accrual state (LoanState): last day accrued, the current period's accrued interest and its carry.
  accrued_through_on        date not null,
  accrued_interest_minor    bigint not null default 0 check (accrued_interest_minor >= 0),
  accrual_carry_minor       numeric not null default 0,
  overpayment_minor         bigint not null default 0 check (overpayment_minor >= 0),
  non_accrual               boolean not null default false,
  -- Off-balance (non-accrual) interest, and penalties and late fees charged while non-accrual.
  suspended_interest_minor  bigint not null default 0 check (suspended_interest_minor >= 0),
  suspended_fees_minor      bigint not null default 0 check (suspended_fees_minor >= 0),
  suspended_penalties_minor bigint not null default 0 check (suspended_penalties_minor >= 0),
  written_off_minor         bigint not null default 0 check (written_off_minor >= 0),
  recovered_minor           bigint not null default 0 check (recovered_minor >= 0),
  -- Classification as of accrued_through_on (set by close of business).
  dpd                       integer not null default 0 check (dpd >= 0),
  bucket                    text not null default 'current' check (bucket in ('current', '1-30', '31-60', '61-90', '91+')),
  tier                      text not null default 'normal' check (tier in ('normal', 'special_mention', 'substandard', 'doubtful', 'loss')),
  provision_minor           bigint not null default 0 check (provision_minor >= 0),
  -- The loan's own ledger accounts (owner 'servicing'): 1201 principal receivable, 2201 wallet.
  principal_account_id      uuid not null,
  wallet_account_id         uuid not null,
  created_at                timestamptz not null,
  updated_at                timestamptz not null,
  version                   integer not null default 0,
  primary key (tenant_id, id),
  foreign key (tenant_id, product_id) references loan_products (tenant_id, id),
  foreign key (tenant_id, enterprise_id) references enterprises (tenant_id, id),
  foreign key (tenant_id, principal_account_id) references ledger_accounts (tenant_id, id),
  foreign key (tenant_id, wallet_account_id) references ledger_accounts (tenant_id, id)
) with (fillfactor = 80); -- room for HOT updates: COB rewrites the scalars daily, no index covers them
create index loans_enterprise on loans (tenant_id, enterprise_id, id);
create index loans_status on loans (tenant_id, status, id);
create index loans_product on loans (tenant_id, product_id);

create table loan_installments (
  tenant_id          uuid not null references tenants (id),
  loan_id            uuid not null,
  n                  integer not null check (n >= 1),
  start_on           date not null,
  due_on             date not null,
  principal_due      bigint not null check (principal_due >= 0),
  interest_due       bigint not null check (interest_due >= 0),
  fees_due           bigint not null check (fees_due >= 0),
  penalties_due      bigint not null check (penalties_due >= 0),
  principal_paid     bigint not null default 0 check (principal_paid >= 0),
  interest_paid      bigint not null default 0 check (interest_paid >= 0),
  fees_paid          bigint not null default 0 check (fees_paid >= 0),
  penalties_paid     bigint not null default 0 check (penalties_paid >= 0),
  principal_waived   bigint not null default 0 check (principal_waived >= 0),
  interest_waived    bigint not null default 0 check (interest_waived >= 0),
  fees_waived        bigint not null default 0 check (fees_waived >= 0),
  penalties_waived   bigint not null default 0 check (penalties_waived >= 0),
  late_fee_charged_on date,
  penalty_through_on date,
  penalty_carry_minor numeric not null default 0,
  primary key (tenant_id, loan_id, n),
  foreign key (tenant_id, loan_id) references loans (tenant_id, id),
  check (start_on < due_on),
  check (principal_paid + principal_waived <= principal_due),
  check (interest_paid + interest_waived <= interest_due),
  check (fees_paid + fees_waived <= fees_due),
  check (penalties_paid + penalties_waived <= penalties_due)
) with (fillfactor = 80);
-- COB finds the installments falling due or overdue on a date without scanning paid-off loans' rows.
create index loan_installments_due on loan_installments (tenant_id, due_on);

-- Servicing events: what happened, for which value date, how it was allocated, which transfers it posted.
create table loan_transactions (
  tenant_id     uuid not null references tenants (id),
  id            uuid not null,
  loan_id       uuid not null,
  kind          text not null check (kind in ('disbursement', 'repayment', 'waiver', 'write_off', 'recovery', 'refund', 'close_of_business')),
  value_date    date not null,
  amount_minor  bigint not null check (amount_minor >= 0),
  currency      text not null,
  allocation    jsonb not null,
  transfer_ids  uuid[] not null,
  created_at    timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, loan_id) references loans (tenant_id, id)
);
create index loan_transactions_loan on loan_transactions (tenant_id, loan_id, id);

-- General-ledger accounts servicing posts to, created on first use: per tenant and currency (cash 1001,
-- deferred fee income 2401, income 4001-4004, provision expense 5001, allowance 1291) and, for the
-- receivables 1202/1203/1204, per product (DOMAIN.md, ledger granularity). A concurrent first use waits
-- on the unique index and then reads the winner's account.
create table ledger_gl_accounts (
  tenant_id   uuid not null references tenants (id),
  currency    text not null,
  code        integer not null,
  product_id  uuid,
  account_id  uuid not null,
  primary key (tenant_id, account_id),
  unique nulls not distinct (tenant_id, currency, code, product_id),
  foreign key (tenant_id, product_id) references loan_products (tenant_id, id),
  foreign key (tenant_id, account_id) references ledger_accounts (tenant_id, id) deferrable initially deferred,
  check ((code in (1202, 1203, 1204)) = (product_id is not null))
);

create trigger loan_transactions_append_only before update or delete on loan_transactions for each row execute function puhui_refuse_change();
create trigger loan_transactions_no_truncate before truncate on loan_transactions for each statement execute function puhui_refuse_change();

grant select, insert, update on loan_products, loans, loan_installments to puhui_app;
grant select, insert on loan_transactions, ledger_gl_accounts to puhui_app;

alter table loan_products enable row level security;
create policy tenant_scope on loan_products using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table loans enable row level security;
create policy tenant_scope on loans using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table loan_installments enable row level security;
create policy tenant_scope on loan_installments using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table loan_transactions enable row level security;
create policy tenant_scope on loan_transactions using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
alter table ledger_gl_accounts enable row level security;
create policy tenant_scope on ledger_gl_accounts using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());
