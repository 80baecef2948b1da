/** Approvals on the wire (DESIGN.md §7, §10): bound to a release digest and an environment, expiring, revocable. */
import { type Static, Type } from 'typebox';
import { Nullable, Paging } from './common.js';
import { ApprovalContext } from './freeze.js';

export const ApprovalStatus = Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]);
export type ApprovalStatus = Static<typeof ApprovalStatus>;

export const Approval = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    release_id: Type.String({ format: 'uuid' }),
    release_digest: Type.String(),
    repository: Type.String(),
    project: Type.String(),
    release_number: Type.Integer(),
    environment: Type.String(),
    approver: Type.String(),
    justification: Type.String(),
    approved_at: Type.String(),
    expires_at: Type.String(),
    revoked_at: Nullable(Type.String()),
    revoked_by: Nullable(Type.String()),
    status: ApprovalStatus,
    /** What the approver was shown when approving (issue #16); null for approvals recorded before it was kept. */
    context: Type.Optional(Nullable(ApprovalContext)),
  },
  { $id: 'Approval' },
);
export type Approval = Static<typeof Approval>;

/** POST /approvals: the release by reference; the approval binds its digest. */
export const ApproveBody = Type.Object(
  {
    repository: Type.String({ maxLength: 201 }),
    project: Type.String({ maxLength: 63 }),
    release: Type.String({ minLength: 1, maxLength: 256 }),
    environment: Type.String({ maxLength: 63 }),
    justification: Type.String({ maxLength: 4096 }),
    /** The digest of the release the approver was shown: refused (409) when `release` now names another. */
    digest: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type ApproveRequest = Static<typeof ApproveBody>;

/** GET /approvals: the queue, optionally of one environment and one status. */
export const ApprovalsQuery = Type.Object({
  ...Paging.properties,
  environment: Type.Optional(Type.String({ maxLength: 63 })),
  status: Type.Optional(ApprovalStatus),
});
export type ApprovalsQuery = Static<typeof ApprovalsQuery>;

/** `/approvals/{release_uuid}/{environment}`. */
export const ApprovalStateParams = Type.Object({ release_uuid: Type.String(), environment: Type.String() });

/** The approvals of a release for an environment and whether they meet its rule (distinct active approvers). */
export const ApprovalState = Type.Object({ approvals: Type.Array(Approval), satisfied: Type.Boolean(), required: Type.Integer() });
export type ApprovalState = Static<typeof ApprovalState>;

/** `/approvals/{id}/revoke`. */
export const ApprovalIdParams = Type.Object({ id: Type.String() });
