/**
 * What the HTTP routes are given: the app type they register on and the server's context (its
 * settings, database, release store, authenticator and deployment machinery). Apart from
 * app.ts so that the routes and the app that registers them do not import each other.
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ReleaseStore } from '../registry/index.js';
import type { DeployContext } from '../services/deployment-context.js';
import type { RevocationList } from '../services/token-revocations.js';
import type { SigningKey } from '../signing/index.js';
import type { Db } from '../store/db.js';
import type { Authenticator } from './authenticator.js';
import type { Settings } from './settings.js';

export interface AppContext {
  settings: Settings;
  db: Db;
  store: ReleaseStore;
  auth: Authenticator;
  /** This replica's copy of the token revocation list (issue 19 item 5); absent = no revocations (tests of other parts). */
  revocations?: RevocationList;
  /** Signs new release images (src/signing/index.ts). */
  signingKey?: SigningKey;
  /** Deployments, approvals and pins (absent: those routes answer that the server has no GitOps repository). */
  deploy?: DeployContext;
}

/** The Fastify instance the routes register on, typed by the contract's TypeBox schemas. */
export type App = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>;
