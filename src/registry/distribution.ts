/** A release store on any registry speaking the OCI distribution spec, over Node's http with keep-alive connections (src/http/client.ts). */
import { type Blob, isDigest, sha256Digest } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';
import { ConnectionPools, type NodeHttpAnswer, send as sendRequest } from '../http/client.js';
import { BodyTooLargeError, readBodyCapped } from '../http/response-body.js';
import { type Challenge, type CredentialProvider, parseChallenge } from './credentials.js';
import { describeFetchError } from './fetch-errors.js';
import { DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_MANIFEST_BYTES } from './limits.js';
import { digestMismatch, manifestMediaType, type ReleaseStore } from './release-store.js';

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface DistributionOptions {
  host: string;
  prefix: string;
  scheme: 'http' | 'https';
  /** How 401 challenges are answered (src/registry/credentials.ts). */
  credentials: CredentialProvider;
  timeoutMs: number;
  /**
   * Retries of idempotent requests (HEAD, GET, blob uploads and manifest PUTs, all
   * content-addressed) on 5xx, 429 and dropped connections: bounded exponential backoff with
   * full jitter, a 429's or 503's `Retry-After` honoured up to `maxMs` (issue #12 item 6).
   * Default 5 attempts, 100 ms base, 5 s cap.
   */
  retry?: Partial<RegistryRetry>;
  /** The largest manifest read (default 4 MiB, what registries accept); larger ones are refused while they stream. */
  maxManifestBytes?: number;
  /** The largest blob read (default 128 MiB); a blob is also never read past its declared size. */
  maxBlobBytes?: number;
  /** How many (repository, blob digest) pairs are remembered as held by the registry (default 10,000; 0 remembers none). */
  knownBlobs?: number;
}

/**
 * Blobs up to this size are uploaded without asking first (`HEAD`): an upload of a blob the
 * registry holds is harmless (content-addressed), and asking costs a round trip that a small
 * blob's upload barely exceeds. Larger blobs are asked for first, so they are not sent twice.
 */
export const ASK_FIRST_BYTES = 64 * 1024;
const DEFAULT_KNOWN_BLOBS = 10_000;

/**
 * The blobs this process has seen the registry hold, per repository: a bounded, least recently
 * used set of (repository, digest). A blob is content-addressed and immutable, so a pair once
 * held names the same bytes for ever; but a registry may garbage-collect a blob no manifest
 * refers to (or an operator delete it), so membership is a hint, never a proof: the manifest
 * PUT that refers to it is the proof, and its `MANIFEST_BLOB_UNKNOWN` answer makes the pushing
 * code forget the repository's pairs and upload again (DistributionStore.push). Being a hint,
 * it needs no agreement between replicas: each learns from its own exchanges.
 */
export class KnownBlobs {
  private readonly pairs = new Map<string, string>();
  /** For each digest, the repositories last seen holding it (a mount source). */
  private readonly holders = new Map<string, Set<string>>();

  constructor(private readonly limit: number) {}

  has(repository: string, digest: string): boolean {
    const key = `${repository}@${digest}`;
    if (!this.pairs.has(key)) return false;
    // most recently used goes last
    this.pairs.delete(key);
    this.pairs.set(key, digest);
    return true;
  }

  /** Another repository known to hold `digest` (a source to mount it from), or undefined. */
  holder(digest: string, except: string): string | undefined {
    for (const repository of this.holders.get(digest) ?? []) if (repository !== except) return repository;
    return undefined;
  }

  add(repository: string, digest: string): void {
    if (this.limit <= 0) return;
    const key = `${repository}@${digest}`;
    this.pairs.delete(key);
    this.pairs.set(key, digest);
    let set = this.holders.get(digest);
    if (!set) this.holders.set(digest, (set = new Set()));
    set.add(repository);
    while (this.pairs.size > this.limit) {
      const [oldest, oldDigest] = this.pairs.entries().next().value as [string, string];
      this.drop(oldest, oldDigest);
    }
  }

  /** Forgets every blob of `repository` (the registry said one of them is gone). */
  forgetRepository(repository: string): void {
    const prefix = `${repository}@`;
    for (const [key, digest] of this.pairs) if (key.startsWith(prefix)) this.drop(key, digest);
  }

  get size(): number {
    return this.pairs.size;
  }

  private drop(key: string, digest: string): void {
    this.pairs.delete(key);
    const set = this.holders.get(digest);
    set?.delete(key.slice(0, key.length - digest.length - 1));
    if (set && set.size === 0) this.holders.delete(digest);
  }
}

/** An error body is only shown in part: no more of it is read. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Redirects followed for one request (blob downloads are often sent to a storage service). */
const MAX_REDIRECTS = 5;

export interface RegistryRetry {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

const DEFAULT_RETRY: RegistryRetry = { attempts: 5, baseMs: 100, maxMs: 5000 };

/** A failure a retry may fix (a 5xx, a 429, a dropped connection): still the clean 503 `registry_unavailable` once the budget is spent. */
export class TransientRegistryError extends ForgeError {
  constructor(
    message: string,
    /** The registry's `Retry-After`, ms, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super('registry_unavailable', message);
    this.name = 'TransientRegistryError';
  }
}

/** `Retry-After` (seconds, or an HTTP date) in ms, or undefined. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface RequestOptions {
  scope: string;
  expect: number[];
  headers?: Record<string, string>;
  body?: Buffer;
}

function unavailable(message: string, details?: Record<string, unknown>): ForgeError {
  return new ForgeError('registry_unavailable', message, details);
}

export class DistributionStore implements ReleaseStore {
  readonly registry: string;
  private readonly base: string;
  private readonly auth: CredentialProvider;
  private readonly retry: RegistryRetry;
  /** Blobs seen held by the registry (a hint; see KnownBlobs). */
  readonly known: KnownBlobs;
  /** Keep-alive connections to the registry (and to where it redirects). */
  private readonly pools = new ConnectionPools();

  constructor(private readonly opts: DistributionOptions) {
    this.registry = opts.prefix ? `${opts.host}/${opts.prefix}` : opts.host;
    this.base = `${opts.scheme}://${opts.host}`;
    this.auth = opts.credentials;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.known = new KnownBlobs(opts.knownBlobs ?? DEFAULT_KNOWN_BLOBS);
  }

  /**
   * Runs `fn` (an idempotent exchange: what it sends is content-addressed, so sending it twice
   * is sending it once) again while it fails with a TransientRegistryError, with bounded
   * exponential backoff and full jitter, waiting at least a `Retry-After` (capped at `maxMs`).
   * The last failure is thrown as is: 503 `registry_unavailable`, nothing recorded.
   */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof TransientRegistryError) || attempt >= this.retry.attempts) throw err;
        const backoff = Math.random() * Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (attempt - 1));
        const wait = Math.min(this.retry.maxMs, Math.max(backoff, err.retryAfterMs ?? 0));
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private path(repository: string): string {
    return this.opts.prefix ? `${this.opts.prefix}/${repository}` : repository;
  }

  /** One request with auth (one retry after a challenge); any status outside `expect` becomes a ForgeError. */
  private async request(what: string, method: string, url: string, o: RequestOptions): Promise<NodeHttpAnswer> {
    const send = async () => {
      const signal = AbortSignal.timeout(this.opts.timeoutMs);
      const authorization = this.auth.header(o.scope);
      let target = url;
      try {
        // Redirects are followed by hand: credentials go only to the registry's own origin,
        // never to the storage service (or anyone else) a redirect names.
        for (let hop = 0; ; hop++) {
          const headers: Record<string, string> = { ...o.headers };
          if (authorization && new URL(target).origin === this.base) headers.authorization = authorization;
          const res = await sendRequest(new URL(target), this.pools, { method, headers, body: o.body, signal });
          const location = res.headers.get('location');
          if (![301, 302, 303, 307, 308].includes(res.status) || !location || (method !== 'GET' && method !== 'HEAD')) return res;
          res.discard();
          if (hop >= MAX_REDIRECTS) throw unavailable(`registry ${this.opts.host}: ${what}: more than ${MAX_REDIRECTS} redirects`);
          target = new URL(location, target).href;
          if (!/^https?:$/.test(new URL(target).protocol))
            throw unavailable(
              `registry ${this.opts.host}: ${what}: redirected to a ${new URL(target).protocol} URL; expected http or https`,
            );
        }
      } catch (err) {
        if (err instanceof ForgeError) throw err;
        const message = `registry ${this.opts.host}: ${what} failed: ${describeFetchError(err, this.opts.timeoutMs)}`;
        // A dropped or refused connection is worth another try; a registry that let the whole
        // timeout pass is not asked again (the caller would wait attempts × the timeout).
        if (signal.aborted) throw unavailable(message);
        throw new TransientRegistryError(message);
      }
    };
    let res = await send();
    if (res.status === 401) {
      res.discard();
      await this.auth.answer(this.challenge(res), o.scope);
      res = await send();
      if (res.status === 401) {
        res.discard();
        // Without credentials there was nothing to reject: say that none are configured.
        if (!this.auth.configured())
          throw unavailable(`registry ${this.opts.host} requires credentials for ${what}, and none are configured (${this.auth.hint})`);
        throw unavailable(`registry ${this.opts.host} rejected the credentials (${what})`);
      }
    }
    if (o.expect.includes(res.status)) return res;
    const text = await this.readText(res, what);
    if (res.status === 403) throw unavailable(`registry ${this.opts.host} denied ${what} (HTTP 403): ${registryErrors(text)}`);
    if (res.status >= 500 || res.status === 429) {
      throw new TransientRegistryError(
        `registry ${this.opts.host} answered HTTP ${res.status} to ${what}${text ? `: ${registryErrors(text)}` : ''}`,
        retryAfterMs(res.headers.get('retry-after')),
      );
    }
    throw unavailable(`registry ${this.opts.host} answered HTTP ${res.status} to ${what}${text ? `: ${registryErrors(text)}` : ''}`);
  }

  private challenge(res: NodeHttpAnswer): Challenge {
    const header = res.headers.get('www-authenticate');
    if (!header) throw unavailable(`registry ${this.opts.host} answered 401 without a WWW-Authenticate challenge`);
    return parseChallenge(header);
  }

  /**
   * The body, read as it streams and never past `limit` bytes: a larger announced length is
   * refused before reading, and a body (chunked, or longer than it said) is cancelled as soon as
   * it passes the limit, so an endless or oversized answer costs at most `limit` bytes of memory.
   * `tooLarge` makes the error.
   */
  private async readBytes(
    res: NodeHttpAnswer,
    what: string,
    limit: number,
    tooLarge?: (bytes: number, announced: boolean) => ForgeError,
  ): Promise<Buffer> {
    const over =
      tooLarge ?? ((n: number) => unavailable(`registry ${this.opts.host}: ${what} is larger than ${limit} bytes (${n} or more)`));
    try {
      return await readBodyCapped(res, limit);
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw over(err.bytes, err.announced);
      // a body that stalled past the timeout: said so, and not asked again (as in request)
      if (res.signal.aborted)
        throw unavailable(`registry ${this.opts.host}: reading ${what} failed: no answer within ${this.opts.timeoutMs / 1000} s`);
      throw new TransientRegistryError(
        `registry ${this.opts.host}: reading ${what} failed: ${describeFetchError(err, this.opts.timeoutMs)}`,
      );
    }
  }

  /** The start of an error answer's body, for the message; the rest is not read. */
  private async readText(res: NodeHttpAnswer, what: string): Promise<string> {
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      // leaving the loop early drops the rest (the stream is destroyed)
      for await (const value of res.body as AsyncIterable<Buffer>) {
        chunks.push(value);
        total += value.byteLength;
        if (total >= MAX_ERROR_BODY_BYTES) break;
      }
    } catch (err) {
      if (res.signal.aborted)
        throw unavailable(`registry ${this.opts.host}: reading ${what} failed: no answer within ${this.opts.timeoutMs / 1000} s`);
      throw new TransientRegistryError(
        `registry ${this.opts.host}: reading ${what} failed: ${describeFetchError(err, this.opts.timeoutMs)}`,
      );
    }
    return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8').slice(0, 2000);
  }

  /**
   * Uploads the blobs the registry is not known to hold (KnownBlobs), each at most once, all at
   * once. A blob remembered as held is not sent: if the registry has since collected it, the
   * manifest PUT that refers to it says so and `push` uploads it again.
   */
  async pushBlobs(repository: string, blobs: Blob[]): Promise<void> {
    const repo = this.path(repository);
    const unique = [...new Map(blobs.map((b) => [b.digest, b])).values()];
    await Promise.all(
      unique
        .filter((b) => !this.known.has(repo, b.digest))
        .map((b) => this.retrying(() => this.pushBlob(repo, `repository:${repo}:pull,push`, b))),
    );
  }

  /**
   * Pushes the blobs (those not known held), then the manifest under `tag`, then reads it back
   * by digest.
   * When the registry answers the manifest PUT with `MANIFEST_BLOB_UNKNOWN` (a blob remembered
   * as held was garbage-collected or deleted since), the repository's remembered blobs are
   * forgotten, every blob is uploaded again and the PUT is sent once more (distribution spec,
   * "Pushing Manifests": a registry MUST refuse a manifest whose blobs it lacks).
   */
  async push(repository: string, tag: string, blobs: Blob[], manifest: Blob): Promise<string> {
    const repo = this.path(repository);
    const scope = `repository:${repo}:pull,push`;
    await this.pushBlobs(repository, blobs);

    const what = `PUT manifest ${repo}:${tag}`;
    const putOnce = () =>
      this.retrying(async () => {
        const res = await this.request(what, 'PUT', `${this.base}/v2/${repo}/manifests/${tag}`, {
          scope,
          expect: [200, 201, 400],
          headers: { 'content-type': manifest.mediaType },
          body: manifest.bytes,
        });
        if (res.status === 400) return { res, errors: await this.readText(res, what) };
        res.discard();
        return { res, errors: '' };
      });
    let put = await putOnce();
    if (put.res.status === 400 && /BLOB_UNKNOWN/.test(put.errors) && blobs.length > 0) {
      this.known.forgetRepository(repo);
      await this.pushBlobs(repository, blobs);
      put = await putOnce();
    }
    if (put.res.status === 400)
      throw unavailable(`registry ${this.opts.host} answered HTTP 400 to ${what}${put.errors ? `: ${registryErrors(put.errors)}` : ''}`);
    const answered = put.res.headers.get('docker-content-digest');
    if (answered && answered !== manifest.digest) throw digestMismatch(`registry ${this.opts.host}: ${what}`, manifest.digest, answered);

    // Read back by digest (which checks the bytes): what a tag names is another question.
    await this.getManifest(repository, manifest.digest);
    return manifest.digest;
  }

  /**
   * One blob: a large one is asked for first (`HEAD`); a small one is uploaded straight away.
   * The upload is mounted from another repository of this registry known to hold the blob
   * (`POST …/uploads/?mount=&from=`, one round trip, 201) when there is one; a registry that
   * does not mount answers 202 and the upload goes on as a monolithic PUT. Remembered as held
   * on success.
   */
  private async pushBlob(repo: string, scope: string, blob: Blob): Promise<void> {
    if (blob.size > ASK_FIRST_BYTES) {
      const blobUrl = `${this.base}/v2/${repo}/blobs/${blob.digest}`;
      const head = await this.request(`HEAD blob ${blob.digest}`, 'HEAD', blobUrl, { scope, expect: [200, 404] });
      head.discard();
      if (head.status === 200 && Number(head.headers.get('content-length')) === blob.size) {
        this.known.add(repo, blob.digest);
        return;
      }
    }

    const from = this.known.holder(blob.digest, repo);
    const uploads = `${this.base}/v2/${repo}/blobs/uploads/`;
    const startUrl = from ? `${uploads}?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}` : uploads;
    // a mount asks to pull from the source repository too
    const startScope = from ? `${scope} repository:${from}:pull` : scope;
    const start = await this.request(`start upload of ${blob.digest}`, 'POST', startUrl, { scope: startScope, expect: [201, 202] });
    start.discard();
    if (start.status === 201) {
      this.known.add(repo, blob.digest);
      return;
    }
    const location = start.headers.get('location');
    if (!location) throw unavailable(`registry ${this.opts.host} started an upload of ${blob.digest} without a Location header`);
    const target = new URL(location, uploads).href;
    const url = `${target}${target.includes('?') ? '&' : '?'}digest=${encodeURIComponent(blob.digest)}`;
    const put = await this.request(`upload of ${blob.digest}`, 'PUT', url, {
      scope,
      expect: [201, 204],
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    put.discard();
    this.known.add(repo, blob.digest);
  }

  async getManifest(repository: string, reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
    return this.retrying(() => this.getManifestOnce(repository, reference));
  }

  private async getManifestOnce(repository: string, reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
    const repo = this.path(repository);
    const what = `GET manifest ${repo}:${reference}`;
    const res = await this.request(what, 'GET', `${this.base}/v2/${repo}/manifests/${reference}`, {
      scope: `repository:${repo}:pull`,
      expect: [200, 404],
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (res.status === 404) {
      res.discard();
      throw new ForgeError('not_found', `no manifest ${reference} in ${this.registry}/${repository}`, { repository, reference });
    }
    const limit = this.opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    const bytes = await this.readBytes(res, what, limit, (n) =>
      unavailable(`registry ${this.opts.host}: ${what}: the manifest is larger than ${limit} bytes (${n} or more); refused while reading`, {
        reason: 'too_large',
      }),
    );
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && digest !== reference) throw digestMismatch(`registry ${this.opts.host}: ${what}`, reference, digest);
    const contentType = res.headers.get('content-type')?.split(';')[0]?.trim();
    return { bytes, digest, mediaType: contentType || manifestMediaType(bytes) };
  }

  async getBlob(repository: string, digest: string, expectedSize?: number): Promise<Buffer> {
    return this.retrying(() => this.getBlobOnce(repository, digest, expectedSize));
  }

  private async getBlobOnce(repository: string, digest: string, expectedSize?: number): Promise<Buffer> {
    const repo = this.path(repository);
    const what = `GET blob ${repo}@${digest}`;
    const max = this.opts.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
    if (expectedSize !== undefined && expectedSize > max) {
      throw unavailable(
        `registry ${this.opts.host}: blob ${digest} is declared as ${expectedSize} bytes, more than the ${max} this reader takes; not downloaded`,
        { reason: 'too_large', digest },
      );
    }
    const res = await this.request(what, 'GET', `${this.base}/v2/${repo}/blobs/${digest}`, {
      scope: `repository:${repo}:pull`,
      expect: [200, 404],
    });
    if (res.status === 404) {
      res.discard();
      throw new ForgeError('not_found', `no blob ${digest} in ${this.registry}/${repository}`, { repository, digest });
    }
    // The declared size bounds the read while it streams, with or without a Content-Length.
    const bytes = await this.readBytes(res, what, expectedSize ?? max, (n, announced) =>
      expectedSize !== undefined
        ? unavailable(
            `registry ${this.opts.host}: blob ${digest} is ${announced ? n : `more than ${expectedSize}`} bytes, expected ${expectedSize}; refused while reading`,
            { reason: 'size_mismatch', digest },
          )
        : unavailable(`registry ${this.opts.host}: blob ${digest} is larger than ${max} bytes; refused while reading`, {
            reason: 'too_large',
            digest,
          }),
    );
    if (expectedSize !== undefined && bytes.length !== expectedSize) {
      throw unavailable(`registry ${this.opts.host}: blob ${digest} is ${bytes.length} bytes, expected ${expectedSize}`, {
        reason: 'size_mismatch',
        digest,
      });
    }
    const actual = sha256Digest(bytes);
    if (actual !== digest) throw digestMismatch(`registry ${this.opts.host}: ${what}`, digest, actual);
    return bytes;
  }

  async ping(): Promise<void> {
    const res = await this.retrying(() => this.request('GET /v2/', 'GET', `${this.base}/v2/`, { scope: '', expect: [200] }));
    res.discard();
  }
}

function registryErrors(text: string): string {
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors;
    if (errors?.length) return errors.map((e) => `${e.code ?? 'error'}: ${e.message ?? ''}`).join('; ');
  } catch {
    /* not the registry's JSON error format: show the text */
  }
  return text.trim().slice(0, 300);
}
