/**
 * Webhooks (issue 6): who receives which events, how a payload is signed (with the attempt's
 * timestamp, issue 19 item 7), and when a failed delivery is tried again. Pure: src/services/webhooks.ts does the I/O.
 *
 * Receivers are configured as JSON in FORGE_WEBHOOKS (or the file named by FORGE_WEBHOOKS_FILE):
 *   [{ "name": "chatops", "url": "https://hooks.example.com/forge",
 *      "events": ["release.created", "deployment.*"],      // default ["*"]; names are audit actions
 *      "secret_file": "/run/secrets/chatops-hmac",         // or "secret": "..."; required
 *      "max_attempts": 8 }]                                // default 8
 * Event names are the audit log's actions: release.created, release.updated,
 * deployment.requested|active|superseded|failed|refused, what Argo CD reported (issue 15:
 * deployment.synced|healthy|degraded|sync_failed|rolled_back|auto_rollback_refused, whose
 * details carry a CDEvents-shaped `cdevent`), approval.granted|revoked,
 * pin.set|removed, break_glass.requested|granted, auth.permission_denied, and release trains'
 * (issue #17) train.created|deployed|rolled_back|approved|policy_denied.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ForgeError } from './errors.js';
import { parseJsonText } from './json-text.js';

export interface WebhookReceiver {
  name: string;
  url: string;
  events: string[];
  secret: string;
  max_attempts: number;
}

const FIELDS = ['name', 'url', 'events', 'secret', 'secret_file', 'max_attempts'];

function bad(where: string, expected: string): never {
  throw new ForgeError('validation_error', `webhook configuration: ${where}: expected ${expected}`);
}

/** Parses the receivers; `readSecretFile` reads a `secret_file` (the caller's I/O). */
export function parseWebhookReceivers(text: string, readSecretFile: (path: string) => string): WebhookReceiver[] {
  const raw = parseJsonText(text, 'webhook configuration');
  if (!Array.isArray(raw)) bad('the configuration', 'a JSON list of receivers');
  const names = new Set<string>();
  return raw.map((r: unknown, i): WebhookReceiver => {
    const at = `[${i}]`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) bad(at, 'an object with name, url, events and secret or secret_file');
    const o = r as Record<string, unknown>;
    const unknown = Object.keys(o).find((k) => !FIELDS.includes(k));
    if (unknown) bad(`${at}.${unknown}`, `one of ${FIELDS.join(', ')}`);
    if (typeof o.name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(o.name))
      bad(`${at}.name`, 'a name of lower-case letters, digits, ".", "_" or "-"');
    if (names.has(o.name)) bad(`${at}.name`, `a name not used by another receiver ("${o.name}" is)`);
    names.add(o.name);
    let url: URL;
    try {
      url = new URL(String(o.url));
    } catch {
      bad(`${at}.url`, 'an http or https URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') bad(`${at}.url`, 'an http or https URL');
    // user:password in the URL would be sent nowhere (fetch refuses it) but shown in errors; the
    // receiver authenticates Forge by the signature (issue 19, attack review B). Not quoted.
    if (url.username || url.password)
      bad(`${at}.url`, 'a URL without user:password@ (the value is not shown); the receiver checks the X-Forge-Signature instead');
    const events = o.events === undefined ? ['*'] : o.events;
    if (!Array.isArray(events) || !events.length || !events.every((e) => typeof e === 'string' && /^(\*|[a-z_]+\.(\*|[a-z_]+))$/.test(e))) {
      bad(`${at}.events`, 'a list of event names (release.created), families (deployment.*) or "*"');
    }
    if ((o.secret === undefined) === (o.secret_file === undefined)) bad(`${at}`, 'exactly one of secret and secret_file');
    const secret = o.secret !== undefined ? o.secret : readSecretFile(String(o.secret_file)).trim();
    if (typeof secret !== 'string' || secret.length < 16) bad(`${at}.secret`, 'a secret of at least 16 characters');
    const max = o.max_attempts ?? 8;
    if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > 100) bad(`${at}.max_attempts`, 'a whole number from 1 to 100');
    return { name: o.name, url: url.toString(), events: events as string[], secret, max_attempts: max as number };
  });
}

/**
 * A delivery error as it is stored and shown (`last_error`): the receiver's URL never appears in
 * it, whole or in parts (its user, password, path with a token, query), nor any other URL — an
 * HTTP client's message may quote the URL it was given (issue 19, attack review B). The one
 * place delivery errors are made (services/webhooks.ts) passes them through here.
 */
export function deliveryErrorText(message: string, receiverUrl: string): string {
  let text = message.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi, '<receiver URL>');
  let parts: string[] = [receiverUrl];
  try {
    const u = new URL(receiverUrl);
    parts = [receiverUrl, u.href, u.username, u.password, decodeURIComponent(u.password), u.search.slice(1), `${u.pathname}${u.search}`];
    for (const [, v] of u.searchParams) parts.push(v);
  } catch {
    // not a URL: only the text itself is taken out
  }
  for (const part of parts.filter((p) => p.length >= 3 && p !== '/').sort((a, b) => b.length - a.length))
    text = text.split(part).join('<redacted>');
  return text;
}

export function wantsEvent(receiver: WebhookReceiver, event: string): boolean {
  return receiver.events.some((p) => p === '*' || p === event || (p.endsWith('.*') && event.startsWith(p.slice(0, -1))));
}

/** `sha256=<hex HMAC-SHA256 of the exact text with the receiver's secret>`. */
export function signPayload(secret: string, text: string): string {
  return `sha256=${createHmac('sha256', secret).update(text).digest('hex')}`;
}

/**
 * What a delivery's signature covers (issue 19 item 7, Stripe's scheme): `<timestamp>.<body>`,
 * the timestamp (Unix seconds) being the attempt's, sent in `X-Forge-Timestamp`. A captured
 * delivery replayed later carries an old timestamp, and changing it breaks the signature.
 */
export function signedContent(timestamp: number | string, body: string): string {
  return `${timestamp}.${body}`;
}

/** How many seconds old a delivery may be before a receiver refuses it (the documented default; a receiver chooses its own). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** The headers that authenticate one attempt: `X-Forge-Timestamp` and `X-Forge-Signature-256` over `<timestamp>.<body>`. */
export function signDelivery(
  secret: string,
  body: string,
  timestamp: number,
): { 'x-forge-timestamp': string; 'x-forge-signature-256': string } {
  return { 'x-forge-timestamp': String(timestamp), 'x-forge-signature-256': signPayload(secret, signedContent(timestamp, body)) };
}

/**
 * The receiver's check, as docs/operations.md describes it: the signature must match
 * `<X-Forge-Timestamp>.<body>` (compared in constant time) and the timestamp must be within
 * `toleranceSeconds` of `nowSeconds`. Answers why a delivery is refused, or undefined when it is
 * good. Receivers should also drop a X-Forge-Delivery id they have already processed.
 */
export function verifyDelivery(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  body: string,
  nowSeconds: number,
  toleranceSeconds = WEBHOOK_TOLERANCE_SECONDS,
): string | undefined {
  if (!headers.timestamp || !/^\d{1,12}$/.test(headers.timestamp)) return 'X-Forge-Timestamp is missing or not Unix seconds';
  if (!headers.signature) return 'X-Forge-Signature-256 is missing';
  const expected = Buffer.from(signPayload(secret, signedContent(headers.timestamp, body)));
  const given = Buffer.from(headers.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the signature does not match';
  const age = nowSeconds - Number(headers.timestamp);
  if (Math.abs(age) > toleranceSeconds) return `the timestamp is ${age} s from now; at most ${toleranceSeconds} s are accepted`;
  return undefined;
}

/** Milliseconds to wait after the n-th failed attempt (1-based): doubling from `baseMs`, capped, with jitter in [½, 1]. */
export function retryDelay(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const full = Math.min(baseMs * 2 ** (attempt - 1), maxMs);
  return Math.round(full * (0.5 + random / 2));
}
