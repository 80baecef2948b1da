-- Issue #16: an approval keeps what the approver was shown when approving (the release's number
-- and aliases, trigger, branches, commit author and message, artifact digests, and the semantic
-- diff against what ran in the environment then).
alter table approvals add column context jsonb;
