-- Issue #16: a deployment that passed a freeze window under a break-glass grant names the grant,
-- so an auditor goes from the deployment to the grant (its reason, requester, second person,
-- justification and expiry). Null: no grant was used (no window in force, or an auto-deploy).
alter table deployments add column break_glass_id uuid references break_glass (id);
