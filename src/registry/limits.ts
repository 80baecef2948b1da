/** Default bounds of what one read takes from a release store (issue 19 item 4): both stores apply them. */

/** The largest manifest read: 4 MiB, what registries accept. */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** The largest blob read when the caller sets no lower bound (a blob is also never read past its declared size). */
export const DEFAULT_MAX_BLOB_BYTES = 128 * 1024 * 1024;
