-- 0002-retention: purge completed idempotency records past their retention window and long-expired
-- sessions, across tenants, in one call the server makes periodically.
create function puhui_purge_expired(p_idempotency_before timestamptz, p_sessions_before timestamptz)
  returns table (idempotency_keys bigint, sessions bigint)
  language plpgsql volatile security definer set search_path = public as $$
declare
  n_keys bigint;
  n_sessions bigint;
begin
  delete from idempotency_keys where state = 'completed' and completed_at < p_idempotency_before;
  get diagnostics n_keys = row_count;
  -- Reservations whose request died long ago (their lease is far past) go too.
  delete from idempotency_keys where state = 'in_flight' and lease_until < p_idempotency_before;
  delete from sessions where expires_at < p_sessions_before;
  get diagnostics n_sessions = row_count;
  return query select n_keys, n_sessions;
end $$;
revoke all on function puhui_purge_expired(timestamptz, timestamptz) from public;
grant execute on function puhui_purge_expired(timestamptz, timestamptz) to puhui_app;
