-- Issue #13 upgrade (issue 19 item 5 session): the name shown for an approver when approving
-- (an OIDC person's email), kept beside the stable subject (`<issuer>#<sub>`) the approval is
-- recorded under. Approvals recorded before have none: their approver is what was recorded
-- then, an email for OIDC people before the switch to issuer+sub. The approval rule counts such
-- an approval and a newer one whose approver showed that email as one person (src/core/policy/approvals.ts).
alter table approvals add column approver_display text;
