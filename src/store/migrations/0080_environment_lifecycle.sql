-- Environments renamed or retired while deployments exist (issue #12 item 4): `forge env retire`
-- ends the deployments that were active in a retired environment with the status `retired`
-- (their pointers deleted from the GitOps repository in one commit; history stays readable).
alter table deployments drop constraint deployments_status_check;
alter table deployments add constraint deployments_status_check
  check (status in ('pending', 'active', 'superseded', 'failed', 'retired'));
