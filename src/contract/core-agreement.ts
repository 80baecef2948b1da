/**
 * The pure core (src/core) keeps a few types of its own, because it imports no library and so
 * cannot derive them from the contract's schemas. These checks make the compiler refuse a core
 * type that drifts from the schema the API documents: change one, and `npm run typecheck` (and
 * the build) fail here until the other agrees. Nothing runs.
 */

import type { Alias as CoreAlias } from '../core/aliases.js';
import type { AuditEntry as CoreAuditEntry } from '../core/audit-chain.js';
import type { PolicyCheck as CorePolicyCheck } from '../core/policy/index.js';
import type { AuditEntry } from './audit.js';
import type { PolicyCheck } from './policy.js';
import type { Alias } from './release.js';

/** `true` exactly when A and B are the same type (not merely assignable one way). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Agrees<T extends true> = T;

export type PolicyCheckAgrees = Agrees<Same<PolicyCheck, CorePolicyCheck>>;
export type AliasAgrees = Agrees<Same<Alias, CoreAlias>>;
export type AuditEntryAgrees = Agrees<Same<AuditEntry, CoreAuditEntry>>;
