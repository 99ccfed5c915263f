-- 0008-tenant-directory: the slugs of all tenants, for operator tools that default to the only tenant
-- of an installation (row-level security otherwise shows the application one tenant at a time).
create function puhui_tenant_slugs() returns setof text
  language sql stable security definer set search_path = public as $$
  select slug from tenants order by slug
$$;
revoke all on function puhui_tenant_slugs() from public;
grant execute on function puhui_tenant_slugs() to puhui_app;
