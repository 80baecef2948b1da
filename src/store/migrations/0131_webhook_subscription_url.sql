-- A webhook subscription is tied to its receiver's name AND url (issue 13 review F7): the
-- sha256 of the URL (never the URL itself, which may carry a token), and whether the receiver
-- is in the configuration now. A receiver that was absent from a server's configuration (or
-- webhooks were off), or comes back under the same name with another URL, is subscribed anew
-- from the newest audit entry: it never gets the events of the gap, nor the old URL's backlog.
-- Rows from before this column (url_sha256 null) take the URL configured next, as they were.
alter table webhook_subscriptions add column url_sha256 text;
alter table webhook_subscriptions add column active boolean not null default true;
