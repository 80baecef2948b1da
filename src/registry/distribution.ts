/** A release store on any registry speaking the OCI distribution spec, over Node's fetch. */
import { type Blob, isDigest, sha256Digest } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';
import { type Challenge, type CredentialProvider, parseChallenge } from './credentials.js';
import { describeFetchError } from './fetch-errors.js';
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
}

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

  constructor(private readonly opts: DistributionOptions) {
    this.registry = opts.prefix ? `${opts.host}/${opts.prefix}` : opts.host;
    this.base = `${opts.scheme}://${opts.host}`;
    this.auth = opts.credentials;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
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
  private async request(what: string, method: string, url: string, o: RequestOptions): Promise<Response> {
    const send = async () => {
      const headers: Record<string, string> = { ...o.headers };
      const authorization = this.auth.header(o.scope);
      if (authorization) headers.authorization = authorization;
      try {
        return await fetch(url, {
          method,
          headers,
          body: o.body ? new Uint8Array(o.body) : undefined,
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
      } catch (err) {
        const message = `registry ${this.opts.host}: ${what} failed: ${describeFetchError(err, this.opts.timeoutMs)}`;
        // A dropped or refused connection is worth another try; a registry that let the whole
        // timeout pass is not asked again (the caller would wait attempts × the timeout).
        if ((err as Error)?.name === 'TimeoutError') throw unavailable(message);
        throw new TransientRegistryError(message);
      }
    };
    let res = await send();
    if (res.status === 401) {
      await res.body?.cancel();
      await this.auth.answer(this.challenge(res), o.scope);
      res = await send();
      if (res.status === 401) {
        await res.body?.cancel();
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

  private challenge(res: Response): Challenge {
    const header = res.headers.get('www-authenticate');
    if (!header) throw unavailable(`registry ${this.opts.host} answered 401 without a WWW-Authenticate challenge`);
    return parseChallenge(header);
  }

  private async readBytes(res: Response, what: string): Promise<Buffer> {
    try {
      return Buffer.from(await res.arrayBuffer());
    } catch (err) {
      throw new TransientRegistryError(
        `registry ${this.opts.host}: reading ${what} failed: ${describeFetchError(err, this.opts.timeoutMs)}`,
      );
    }
  }

  private async readText(res: Response, what: string): Promise<string> {
    return (await this.readBytes(res, what)).toString('utf8').slice(0, 2000);
  }

  async pushBlobs(repository: string, blobs: Blob[]): Promise<void> {
    const repo = this.path(repository);
    const unique = [...new Map(blobs.map((b) => [b.digest, b])).values()];
    await Promise.all(unique.map((b) => this.retrying(() => this.pushBlob(repo, `repository:${repo}:pull,push`, b))));
  }

  async push(repository: string, tag: string, blobs: Blob[], manifest: Blob): Promise<string> {
    const repo = this.path(repository);
    const scope = `repository:${repo}:pull,push`;
    await this.pushBlobs(repository, blobs);

    const what = `PUT manifest ${repo}:${tag}`;
    const put = await this.retrying(async () => {
      const res = await this.request(what, 'PUT', `${this.base}/v2/${repo}/manifests/${tag}`, {
        scope,
        expect: [200, 201],
        headers: { 'content-type': manifest.mediaType },
        body: manifest.bytes,
      });
      await res.body?.cancel();
      return res;
    });
    const answered = put.headers.get('docker-content-digest');
    if (answered && answered !== manifest.digest) throw digestMismatch(`registry ${this.opts.host}: ${what}`, manifest.digest, answered);

    const back = await this.getManifest(repository, tag);
    if (back.digest !== manifest.digest)
      throw digestMismatch(`registry ${this.opts.host}: reading back ${repo}:${tag}`, manifest.digest, back.digest);
    return manifest.digest;
  }

  private async pushBlob(repo: string, scope: string, blob: Blob): Promise<void> {
    const blobUrl = `${this.base}/v2/${repo}/blobs/${blob.digest}`;
    const head = await this.request(`HEAD blob ${blob.digest}`, 'HEAD', blobUrl, { scope, expect: [200, 404] });
    await head.body?.cancel();
    if (head.status === 200 && Number(head.headers.get('content-length')) === blob.size) return;

    const start = await this.request(`start upload of ${blob.digest}`, 'POST', `${this.base}/v2/${repo}/blobs/uploads/`, {
      scope,
      expect: [202],
    });
    await start.body?.cancel();
    const location = start.headers.get('location');
    if (!location) throw unavailable(`registry ${this.opts.host} started an upload of ${blob.digest} without a Location header`);
    const target = new URL(location, `${this.base}/v2/${repo}/blobs/uploads/`).href;
    const url = `${target}${target.includes('?') ? '&' : '?'}digest=${encodeURIComponent(blob.digest)}`;
    const put = await this.request(`upload of ${blob.digest}`, 'PUT', url, {
      scope,
      expect: [201, 204],
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes,
    });
    await put.body?.cancel();
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
      await res.body?.cancel();
      throw new ForgeError('not_found', `no manifest ${reference} in ${this.registry}/${repository}`, { repository, reference });
    }
    const bytes = await this.readBytes(res, what);
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
    const res = await this.request(what, 'GET', `${this.base}/v2/${repo}/blobs/${digest}`, {
      scope: `repository:${repo}:pull`,
      expect: [200, 404],
    });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new ForgeError('not_found', `no blob ${digest} in ${this.registry}/${repository}`, { repository, digest });
    }
    const announced = Number(res.headers.get('content-length'));
    if (expectedSize !== undefined && Number.isFinite(announced) && announced > expectedSize) {
      await res.body?.cancel();
      throw unavailable(`registry ${this.opts.host}: blob ${digest} is ${announced} bytes, expected ${expectedSize}`, {
        reason: 'size_mismatch',
        digest,
      });
    }
    const bytes = await this.readBytes(res, what);
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
    await res.body?.cancel();
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
