/** The installation's signing keys (issue 13 item 5): the published set, adding and retiring keys, re-signing releases. */
import {
  AddedSigningKey,
  AddSigningKeyRequest,
  errorResponses,
  ResignRequest,
  ResignResult,
  SigningKeyInfo,
  SigningKeyParams,
  SigningKeySet,
} from '../../contract/index.js';
import { addSigningKey, resignReleases, retireKey, signingKeySet } from '../../services/signing-keys.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';

export async function signingKeyRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get(
    '/signing-keys',
    {
      schema: {
        hide,
        tags: ['signing-keys'],
        summary: 'The published signing key set: every release verifies against one of these keys',
        response: { 200: SigningKeySet, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return signingKeySet(ctx);
    },
  );
  app.post(
    '/signing-keys',
    {
      schema: {
        hide,
        tags: ['signing-keys'],
        summary: 'Add a public key to the set, before replicas rotate to it (operator)',
        body: AddSigningKeyRequest,
        response: { 200: AddedSigningKey, 201: AddedSigningKey, ...errorResponses },
      },
    },
    async (req, reply) => {
      const principal = authorize(req, { kind: 'admin' });
      const result = await addSigningKey(ctx, principal.subject, req.body.public_key);
      return reply.code(result.added ? 201 : 200).send(result);
    },
  );
  app.post(
    '/signing-keys/:key_id/retire',
    {
      schema: {
        hide,
        tags: ['signing-keys'],
        summary: 'Retire a key: it still verifies, no replica may sign with it (operator)',
        params: SigningKeyParams,
        response: { 200: SigningKeyInfo, ...errorResponses },
      },
    },
    async (req) => {
      const principal = authorize(req, { kind: 'admin' });
      return retireKey(ctx, principal.subject, req.params.key_id);
    },
  );
  app.post(
    '/signing-keys/resign',
    {
      schema: {
        hide,
        tags: ['signing-keys'],
        summary: 'Re-sign every release no key of the set verifies, with this replica’s key (operator)',
        body: ResignRequest,
        response: { 200: ResignResult, ...errorResponses },
      },
    },
    async (req) => {
      const principal = authorize(req, { kind: 'admin' });
      return resignReleases(ctx, principal.subject, req.body ?? {});
    },
  );
}
