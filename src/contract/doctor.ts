/** GET /doctor on the wire: where the database, the release store and the GitOps repository disagree. */
import { type Static, Type } from 'typebox';
import { Nullable } from './common.js';

/** The checks `forge doctor` runs. */
export const DoctorCheck = Type.Union([
  Type.Literal('release_numbers'),
  Type.Literal('release_images'),
  Type.Literal('pointers'),
  /** Pointers or active deployments of environments the platform config no longer has. */
  Type.Literal('environments'),
  Type.Literal('pending_deployments'),
  Type.Literal('audit_chain'),
  /** Releases whose signature does not verify with the installation's signing keys (issue 13 item 5). */
  Type.Literal('signatures'),
  /** Argo CD reports another revision than the active deployment's (issue 15). */
  Type.Literal('argocd_drift'),
]);
export type DoctorCheck = Static<typeof DoctorCheck>;

/** One disagreement: which check found it, about what, and what is wrong. */
export const Finding = Type.Object({ check: DoctorCheck, subject: Type.String(), problem: Type.String() });
export type Finding = Static<typeof Finding>;

export const DoctorReport = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Object({
    releases: Type.Integer(),
    active_deployments: Type.Integer(),
    pointer_files: Type.Integer(),
    audit_entries: Type.Integer(),
  }),
  findings: Type.Array(Finding),
});
export type DoctorReport = Static<typeof DoctorReport>;

/** One slot where `forge doctor --repair` made the database follow the GitOps branch tip. */
export const Adoption = Type.Object({
  environment: Type.String(),
  repository: Type.String(),
  project: Type.String(),
  /** The deployment now active there; null when its pointer was gone and nothing runs. */
  active_deployment_id: Nullable(Type.String()),
  /** The disagreement it repaired. */
  problem: Type.String(),
});
export type Adoption = Static<typeof Adoption>;

/** POST /doctor/repair: what was adopted from git, and the doctor's report afterwards. */
export const DoctorRepair = Type.Object({ adopted: Type.Array(Adoption), report: DoctorReport });
export type DoctorRepair = Static<typeof DoctorRepair>;
