/**
 * The one API contract (DESIGN.md §10): every request and response schema of the HTTP API,
 * and the data types derived from them. Routes validate and serialise with these schemas (and
 * the OpenAPI document comes from them); the store, the use cases and the CLI use the derived
 * types; the dashboard imports them type-only, so its build fails when the contract changes
 * under it. Pure: imports only `typebox`.
 */

export * from './approval.js';
export * from './audit.js';
export * from './cluster.js';
export * from './common.js';
export * from './deployment.js';
export * from './doctor.js';
export * from './environment.js';
export * from './freeze.js';
export * from './identity.js';
export * from './overview.js';
export * from './pin.js';
export * from './policy.js';
export * from './release.js';
export * from './signing-keys.js';
export * from './train.js';
export * from './webhook.js';
