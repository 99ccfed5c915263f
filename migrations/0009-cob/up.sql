-- 0009-cob: the set-based close of business (src/loans/cob.ts). One row per tenant and business date closed,
-- and the exact-decimal helpers the daily step needs to agree with the pure core (decimal.js, 34 significant
-- digits, half-even) to the last digit.

create table cob_runs (
  tenant_id      uuid not null references tenants (id),
  business_date  date not null,
  loans          bigint not null check (loans >= 0),
  transfer_ids   uuid[] not null,
  started_at     timestamptz not null,
  finished_at    timestamptz not null,
  primary key (tenant_id, business_date)
);
grant select, insert on cob_runs to puhui_app;
alter table cob_runs enable row level security;
create policy tenant_scope on cob_runs using (tenant_id = puhui_tenant()) with check (tenant_id = puhui_tenant());

-- x rounded half-even to 34 significant digits (decimal.js with precision 34, ROUND_HALF_EVEN). The common case
-- (34 digits or fewer) returns at the first test; a tie is exactly 35 significant digits ending in 5.
create function puhui_sig34(x numeric) returns numeric
  language plpgsql immutable strict parallel safe as $$
declare
  t text := trim_scale(abs(x))::text;
  m text;
  e integer;
begin
  m := ltrim(replace(t, '.', ''), '0');
  if length(m) <= 34 then return x; end if;
  e := case when abs(x) >= 1 then coalesce(nullif(position('.' in t), 0) - 2, length(t) - 1)
    else -(length(t) - 2 - length(ltrim(substr(t, 3), '0')) + 1) end;
  if length(m) = 35 and right(m, 1) = '5' and substr(m, 34, 1) in ('0', '2', '4', '6', '8') then return trunc(x, 33 - e); end if;
  return round(x, 33 - e);
end $$;

-- x / y rounded half-even to 34 significant digits, exactly (integer division and the exact remainder).
-- Powers of ten are written as numeric literals ('1e-34'): PostgreSQL 15's power() keeps only 16 decimals
-- for negative exponents, which would lose digits there (PostgreSQL 16 and later are exact).
create function puhui_div34(x numeric, y numeric) returns numeric
  language plpgsql immutable strict parallel safe as $$
declare
  t text;
  e integer;
  s integer;
  n numeric;
  qt numeric;
  r numeric;
begin
  if x = 0 then return 0; end if;
  t := trim_scale(abs(x / y))::text;
  e := case when abs(x / y) >= 1 then coalesce(nullif(position('.' in t), 0) - 2, length(t) - 1)
    else -(length(t) - 2 - length(ltrim(substr(t, 3), '0')) + 1) end;
  s := 33 - e;
  n := x * ('1e' || s)::numeric;
  qt := div(n, y);
  -- The estimate of e can be one off next to a power of ten: then shift by one digit and divide again.
  if abs(qt) < 1e33 then s := s + 1; n := n * 10; qt := div(n, y); end if;
  if abs(qt) >= 1e34 then s := s - 1; n := x * ('1e' || s)::numeric; qt := div(n, y); end if;
  r := abs(n - qt * y);
  if 2 * r > abs(y) or (2 * r = abs(y) and mod(abs(qt), 2) = 1) then qt := qt + sign(x) * sign(y); end if;
  return trim_scale(qt * ('1e' || -s)::numeric);
end $$;

-- x rounded to a whole number with a named mode (core/rate.ts: half_even, half_up, down, up; decimal.js semantics).
create function puhui_round_minor(x numeric, mode text) returns numeric
  language plpgsql immutable strict parallel safe as $$
declare
  t numeric := trunc(x);
  r numeric := abs(x - trunc(x));
begin
  case mode
    when 'half_up' then return round(x, 0);
    when 'down' then return t;
    when 'up' then return case when r = 0 then t else t + sign(x) end;
    when 'half_even' then
      if r < 0.5 then return t; end if;
      if r > 0.5 then return t + sign(x); end if;
      return case when mod(abs(t), 2) = 0 then t else t + sign(x) end;
    else raise exception 'unknown rounding mode %', mode;
  end case;
end $$;
