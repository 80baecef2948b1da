-- Where a release's commit is (issue #13 item 1): the branches of the source repository that
-- contain it, as the pipeline reported them for a tag or manual release (a JSON array of
-- names). Null = unknown, which every release registered before this column has: the branch
-- rule then admits it only under the pattern "*".
alter table releases add column source_branches text;
