/** The HTTP application: error envelope, authentication, OpenAPI, and the routes under /api/v1 (and /v1). */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { ErrorEnvelope } from '../contract/index.js';
import { errorEnvelope, type FieldProblem, ForgeError, validationError } from '../core/errors.js';
import { inputProblems, rawPathProblems, rawQueryProblems, textProblem } from '../core/input-text.js';
import { httpDuration, metrics, registryErrors } from '../observability/metrics.js';
import { auditRefusals, authenticate } from './auth.js';
import type { App, AppContext } from './context.js';
import { approvalRoutes } from './routes/approvals.js';
import { auditRoutes } from './routes/audit.js';
import { breakGlassRoutes } from './routes/break-glass.js';
import { deploymentRoutes } from './routes/deployments.js';
import { doctorRoutes } from './routes/doctor.js';
import { environmentRoutes } from './routes/environments.js';
import { eventRoutes, queryToken, redactAccessToken } from './routes/events.js';
import { integrationRoutes } from './routes/integrations.js';
import { doraRoutes } from './routes/metrics-dora.js';
import { pinRoutes } from './routes/pins.js';
import { policyCheckRoutes } from './routes/policy-checks.js';
import { releaseRoutes } from './routes/releases.js';
import { signingKeyRoutes } from './routes/signing-keys.js';
import { trainRoutes } from './routes/trains.js';
import { webRoutes } from './routes/web.js';
import { webhookRoutes } from './routes/webhooks.js';
import { whoamiRoutes } from './routes/whoami.js';

const PUBLIC = new Set(['/healthz', '/readyz', '/api/v1/openapi.json', '/metrics']);
/** Largest body of any route but a registration, bytes: such a body is parsed on the event loop. */
export const OTHER_BODY_LIMIT = 1024 * 1024;

/** A lost or refused database connection (a restart, a failover): the transaction was rolled back. */
function isDatabaseUnavailable(err: Error): boolean {
  const code = (err as { code?: string }).code ?? '';
  return (
    /^(08|57P0)/.test(code) ||
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(code) ||
    /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect/.test(err.message)
  );
}

/**
 * The error envelope's error (DESIGN.md §10) for anything a route threw: Forge's own errors as
 * they are, request validation as validation_error, database errors by SQLSTATE (lost
 * connection, lock wait, out of room: database_unavailable; a value the database refuses as data
 * — 22001/22003/22007/22008/22021/22P05 — validation_error 400), the rest as internal.
 */
export function toForgeError(err: FastifyError | ForgeError | Error, bodyLimit?: number): ForgeError {
  if (err instanceof ForgeError) return err;
  const fe = err as FastifyError;
  if (fe.validation) {
    return validationError(
      fe.validation.map((v) => {
        const path = v.instancePath
          .replace(/^\//, '')
          .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
          .replaceAll('/', '.');
        const missing = (v.params as { missingProperty?: string })?.missingProperty;
        const extra = (v.params as { additionalProperty?: string })?.additionalProperty;
        const field = [
          fe.validationContext === 'body' ? '' : `${fe.validationContext}.`,
          path,
          missing ? `${path ? '.' : ''}${missing}` : '',
          extra ? `${path ? '.' : ''}${extra}` : '',
        ].join('');
        return { path: field || String(fe.validationContext), message: extra ? 'unknown field' : (v.message ?? 'invalid') };
      }),
    );
  }
  if (isDatabaseUnavailable(err))
    return new ForgeError(
      'database_unavailable',
      'the database connection was lost or refused; the request may not have completed: retry it (registrations and deployments are idempotent)',
    );
  const sqlState = (err as { code?: unknown }).code;
  // A lock another replica holds was not had within FORGE_DATABASE_LOCK_WAIT_MS (SQLSTATE 55P03):
  // the transaction rolled back; a stalled holder is ended by the idle-transaction timeout.
  if (sqlState === '55P03')
    return new ForgeError(
      'database_unavailable',
      'a database lock held by another replica was not released in time (FORGE_DATABASE_LOCK_WAIT_MS); nothing was recorded: retry later',
      { retry_after_seconds: 5 },
    );
  // The database or the disk is out of room (SQLSTATE class 53: disk full, out of memory, too
  // many connections; ENOSPC for local files): nothing was committed, a retry later may work.
  if (typeof sqlState === 'string' && (/^53\d{3}$/.test(sqlState) || sqlState === 'ENOSPC' || sqlState === 'EDQUOT'))
    return new ForgeError(
      'database_unavailable',
      'the server is out of storage or memory (disk full, or too many connections); nothing was recorded: retry later',
    );
  // A value the database refuses as data (a number out of range, text it cannot store, a date or
  // time it cannot read or that does not exist — 22007, 22008): the request's fault.
  if (typeof sqlState === 'string' && /^22(003|P05|021|001|007|008)$/.test(sqlState))
    return new ForgeError('validation_error', `a value in the request is out of range or cannot be stored: ${err.message}`);
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ForgeError(
      'payload_too_large',
      `the request body is larger than ${bodyLimit ?? 'the limit of'} bytes${bodyLimit === OTHER_BODY_LIMIT ? ' (only a registration, POST /releases, may be larger: FORGE_BODY_LIMIT_BYTES)' : ''}`,
      { limit: bodyLimit },
    );
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new ForgeError('validation_error', 'the request body must be JSON (Content-Type: application/json)');
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return new ForgeError('validation_error', fe.message);
  return new ForgeError('internal_error', 'internal error; the server log has the details');
}

/** The URL with each path segment that is not valid percent-encoded UTF-8 replaced by "%00". */
function routableUrl(url: string): string {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  const fixed = path
    .split('/')
    .map((segment) => {
      try {
        decodeURIComponent(segment);
        return segment;
      } catch {
        return '%00';
      }
    })
    .join('/');
  return fixed === path ? url : fixed + (at < 0 ? '' : url.slice(at));
}

const READ_HEADERS = ['authorization', 'last-event-id', 'x-request-id'] as const;

/** Text problems of a request's path segments (named by route parameter when it has one), query and the headers Forge reads. */
function requestTextProblems(req: FastifyRequest): FieldProblem[] {
  const [path, query = ''] = req.originalUrl.split(/\?(.*)/s, 2);
  const problems = [...rawPathProblems(path, req.routeOptions.url)];
  problems.push(...rawQueryProblems(query));
  for (const name of READ_HEADERS) {
    const value = req.headers[name];
    const problem = typeof value === 'string' ? textProblem(value) : undefined;
    if (problem) problems.push({ path: `headers.${name}`, message: problem });
  }
  return problems;
}

/** The answer to a request Node's HTTP parser refused: status and the §10 error. */
export function clientErrorAnswer(err: Error & { code?: string }): { status: number; error: ForgeError } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        error: new ForgeError('validation_error', 'the request was not received in time (FORGE_REQUEST_TIMEOUT_MS); send it again'),
      };
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        error: new ForgeError(
          'payload_too_large',
          'the request line and headers are larger than the server takes (16 KiB): shorten the query or the headers',
        ),
      };
    default: {
      // Named by the parser's reason (HPE_INVALID_HEADER_TOKEN, …); the bytes are never quoted.
      const reason = err.code ?? 'unknown';
      const what = /CONTENT_LENGTH|TRANSFER_ENCODING|CHUNK/.test(reason)
        ? 'Content-Length and Transfer-Encoding: expected one of them, well formed'
        : /HEADER|LF_EXPECTED|CR_EXPECTED/.test(reason)
          ? 'a header: expected names of token characters and values without control bytes (NUL, CR, LF)'
          : /URL|METHOD|VERSION/.test(reason)
            ? 'the request line: expected METHOD /path HTTP/1.1, with no control byte, space or byte over 0x7F in the path (percent-encode it)'
            : 'expected an HTTP/1.1 request';
      return {
        status: 400,
        error: new ForgeError('validation_error', `malformed HTTP request (${reason}): ${what}`, { reason }),
      };
    }
  }
}

/** Fastify's clientErrorHandler: writes the envelope (DESIGN.md §10) and closes the connection. */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const { status, error } = clientErrorAnswer(err);
    const body = JSON.stringify(errorEnvelope(error));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export async function buildApp(ctx: AppContext, opts: { logger?: boolean } = {}): Promise<App> {
  const app = Fastify({
    logger: opts.logger
      ? {
          level: 'info',
          redact: ['req.headers.authorization'],
          serializers: {
            req: (req) => ({
              method: req.method,
              url: redactAccessToken(req.url),
              host: req.host,
              remoteAddress: req.ip,
              remotePort: req.socket?.remotePort,
            }),
          },
        }
      : false,
    // only a registration is big, and it is read in a packing thread (routes/releases.ts); every
    // other body is parsed on the event loop, so it stays small
    bodyLimit: Math.min(ctx.settings.bodyLimit, OTHER_BODY_LIMIT),
    routerOptions: { maxParamLength: 512 },
    // Slow clients cannot hold the server (issue 19, attack review A): the headers must arrive
    // within FORGE_HEADERS_TIMEOUT_MS and the whole request within FORGE_REQUEST_TIMEOUT_MS;
    // the sweep that closes late connections runs often enough to keep those bounds close.
    requestTimeout: ctx.settings.requestTimeoutMs,
    http: {
      headersTimeout: ctx.settings.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(5000, Math.floor(ctx.settings.headersTimeoutMs / 4))),
    },
    // Requests Node's parser refuses before Fastify sees them get the envelope too.
    clientErrorHandler: answerClientError,
    // Every log line of a request carries its id; a caller's X-Request-Id is kept when it is sane.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // A path segment that is not valid percent-encoded UTF-8 would be refused by the router
    // before any route is matched; it is routed as "%00" instead, so the onRequest check below
    // names the route parameter (it reads req.originalUrl).
    rewriteUrl: (req) => routableUrl(req.url ?? '/'),
    // Router errors (over-long or malformed paths) skip the error handler: give them the envelope too.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      reply.status(400).send(errorEnvelope(new ForgeError('validation_error', `invalid request path: ${err.message}`)));
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Past the cap a new connection is closed at once, before it can use up the file descriptors.
  app.server.maxConnections = ctx.settings.maxConnections;
  app.addSchema(ErrorEnvelope);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Forge release and deployment API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });

  app.setErrorHandler((err, req, reply) => {
    const fe = toForgeError(err as FastifyError, req.routeOptions.bodyLimit);
    if (fe.code === 'registry_unavailable') registryErrors.inc();
    if (fe.code === 'internal_error') req.log.error({ err }, 'unhandled error');
    // a full queue of heavy work (services/worker-pool.ts) says when to come back
    const retryAfter = fe.details?.retry_after_seconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    reply.status(fe.status).send(errorEnvelope(fe));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(errorEnvelope(new ForgeError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));
  });

  app.addHook('onError', auditRefusals(ctx.db));
  // Bodies are read as bytes: invalid UTF-8 is refused, not silently replaced by U+FFFD.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) return done(validationError([{ path: 'body', message: 'is not valid UTF-8' }]), undefined);
    jsonParser(req, bytes.toString('utf8'), done);
  });
  // NUL, invalid UTF-8 and lone surrogates in the path, the query or a header we read are a 400 naming the field.
  app.addHook('onRequest', async (req) => {
    const problems = requestTextProblems(req);
    if (problems.length > 0) throw validationError(problems);
  });
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined) return;
    const problems = inputProblems(req.body);
    if (problems.length > 0) throw validationError(problems);
  });
  // Ajv coerces "1e400" to Infinity and lets it past integer bounds: refuse non-finite numbers after coercion.
  app.addHook('preHandler', async (req) => {
    const problems = [...inputProblems(req.query, 'query'), ...inputProblems(req.params, 'params')];
    if (problems.length > 0) throw validationError(problems);
  });
  // Authentication is decided on the matched route, never on the raw URL: `/%61pi/v1/…` is
  // routed to /api/v1/… and so is authenticated like it (issue 19 item 5).
  app.addHook('onRequest', async (req) => {
    // The dashboard's catch-all answers unknown API paths too: those need a token like any API
    // route (an unknown route is not told apart from a known one without it). Its `*` is decoded.
    // Spelled in any case or with doubled slashes (`/API/v1/…`, `//api/v1/…`), such a path needs
    // a token too: whether an API path is meant is not decided on the exact spelling.
    const matched = req.routeOptions.url;
    const route = matched === '/*' ? `/${(req.params as { '*'?: string })['*'] ?? ''}`.replace(/\/{2,}/g, '/') : matched;
    if (route === undefined || PUBLIC.has(route) || !/^\/(api|v1)(\/|$)/i.test(route)) return;
    const token = queryToken(req); // GET /events only: EventSource cannot send headers
    req.principal = token ? await ctx.auth.authenticate(token) : await authenticate(ctx.auth, req);
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await ctx.db.query('select 1');
    } catch (err) {
      return reply
        .status(503)
        .send(errorEnvelope(new ForgeError('database_unavailable', `not ready: the database: ${(err as Error).message}`)));
    }
    try {
      await ctx.store.ping();
    } catch (err) {
      return reply.status(503).send(errorEnvelope(new ForgeError('registry_unavailable', `not ready: ${(err as Error).message}`)));
    }
    return { status: 'ready' };
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  for (const prefix of ['/api/v1', '/v1']) {
    await app.register(
      async (api) => {
        await releaseRoutes(api as App, ctx, prefix === '/v1');
        await auditRoutes(api as App, ctx, prefix === '/v1');
        await eventRoutes(api as App, ctx, prefix === '/v1');
        for (const routes of [deploymentRoutes, policyCheckRoutes, approvalRoutes, pinRoutes, environmentRoutes, breakGlassRoutes])
          await routes(api as App, ctx, prefix === '/v1');
        await whoamiRoutes(api as App, prefix === '/v1', ctx);
        await webhookRoutes(api as App, ctx, prefix === '/v1');
        await doctorRoutes(api as App, ctx, prefix === '/v1');
        await signingKeyRoutes(api as App, ctx, prefix === '/v1');
        await integrationRoutes(api as App, ctx, prefix === '/v1');
        await doraRoutes(api as App, ctx, prefix === '/v1');
        await trainRoutes(api as App, ctx, prefix === '/v1');
      },
      { prefix },
    );
  }
  await webRoutes(app, ctx.settings);
  return app;
}
