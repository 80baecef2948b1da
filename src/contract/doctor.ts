/** GET /doctor on the wire: where the database, the release store and the GitOps repository disagree. */
import { type Static, Type } from 'typebox';

/** The checks `forge doctor` runs. */
export const DoctorCheck = Type.Union([
  Type.Literal('release_numbers'),
  Type.Literal('release_images'),
  Type.Literal('pointers'),
  Type.Literal('pending_deployments'),
  Type.Literal('audit_chain'),
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
