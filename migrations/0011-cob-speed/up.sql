-- 0011-cob-speed: what the set-based close of business (src/loans/cob.ts, cob-kernel.ts) needs to close a million
-- loans a day: room on every page for a HOT update of each loan and overdue installment, and the power of ten the
-- exact-decimal kernel written in plain SQL uses.

-- COB rewrites every active loan row daily (about 0.9 kB each) and every overdue installment row. With room on the
-- page for the new version, PostgreSQL updates in place (HOT: no new entry in any of the four indexes of `loans` or
-- the two of `loan_installments`), which is most of the cost of the update. New pages only: existing tables keep
-- their pages until rewritten (see notes.md).
alter table loans set (fillfactor = 50);
alter table loan_installments set (fillfactor = 55);

-- 10^s as an exact numeric for any integer s (written as a literal: PostgreSQL 15's power() keeps only 16 decimals
-- for negative exponents). A plain SQL expression, so the planner inlines it: no function call per row.
create function puhui_p10(s integer) returns numeric
  language sql immutable parallel safe as $$ select ('1e' || s::text)::numeric $$;

-- The tenant-scope function of every row-level-security policy only reads a setting (which parallel workers share
-- with their leader); declared parallel safe so that queries under those policies (COB's scans of a million loans'
-- installments) may use parallel workers. Its body is unchanged.
alter function puhui_tenant() parallel safe;

-- x itself. Declared volatile so that a subquery selecting it is never merged into the query above it (PostgreSQL
-- does not pull up a subquery whose output has a volatile function): the kernel's stacked steps then compute each
-- intermediate column once. Parallel safe, and a one-expression SQL function, so the planner still inlines it away
-- (no call per row) and the steps may run in parallel workers — which `offset 0`, the usual fence, would forbid.
create function puhui_fence(x anyelement) returns anyelement
  language sql volatile parallel safe as $$ select x $$;
