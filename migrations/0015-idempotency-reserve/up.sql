-- An idempotency reservation in one round trip: the tenant setting, an asynchronous commit and the insert,
-- as one statement run outside an explicit transaction (its own implicit one). Returns true when this call
-- reserved the key, null when the key exists (the caller then inspects it in a transaction of its own).
-- SECURITY INVOKER: it runs as puhui_app, so row-level security checks the row against the tenant it sets.
create function puhui_reserve_idempotency_key(
  p_tenant uuid, p_key text, p_principal uuid, p_method text, p_route text, p_hash bytea, p_lease_until timestamptz, p_now timestamptz
) returns boolean language sql volatile as $$
  select set_config('synchronous_commit', 'off', true);
  select set_config('puhui.tenant_id', p_tenant::text, true);
  insert into idempotency_keys (tenant_id, key, principal_id, method, route, request_hash, state, lease_until, response_status, response_body, created_at, completed_at)
  values (p_tenant, p_key, p_principal, p_method, p_route, p_hash, 'in_flight', p_lease_until, null, null, p_now, null)
  on conflict (tenant_id, key) do nothing
  returning true;
$$;

grant execute on function puhui_reserve_idempotency_key(uuid, text, uuid, text, text, bytea, timestamptz, timestamptz) to puhui_app;
