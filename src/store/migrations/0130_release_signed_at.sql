-- When a release's recorded signature was made (issue 13 review F4): `forge doctor` flags a
-- signature made by a key after that key's retirement. Rows signed before this column existed
-- leave it null, and their first signature is taken to be their registration time.
alter table releases add column signed_at timestamptz;
