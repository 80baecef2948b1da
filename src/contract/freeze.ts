/**
 * Freeze windows, break-glass and the semantic diff on the wire (issue #16; spec §Policies &
 * Approvals, §Enhanced Approvals).
 */
import { type Static, Type } from 'typebox';
import { Nullable, Paging } from './common.js';

/** What a freeze applies to. */
export const FreezeAction = Type.Union([Type.Literal('auto'), Type.Literal('manual'), Type.Literal('rollback')]);

/** One occurrence of a freeze window: [start, end) as RFC 3339 UTC, with the window's time zone (recurring ones). */
export const FreezeOccurrence = Type.Object({
  environment: Type.String(),
  window: Type.String(),
  start: Type.String(),
  end: Type.String(),
  timezone: Nullable(Type.String()),
  applies_to: Type.Array(FreezeAction),
});
export type FreezeOccurrence = Static<typeof FreezeOccurrence>;

/** GET /freeze-windows: per environment, the windows in force at `at` and each window's next occurrence. */
export const FreezeWindowsQuery = Type.Object({
  environment: Type.Optional(Type.String({ maxLength: 63 })),
  /** RFC 3339; default now. */
  at: Type.Optional(Type.String({ maxLength: 64 })),
});
export const FreezeWindows = Type.Object({
  at: Type.String(),
  current: Type.Array(FreezeOccurrence),
  next: Type.Array(FreezeOccurrence),
});
export type FreezeWindows = Static<typeof FreezeWindows>;

export const BreakGlassStatus = Type.Union([Type.Literal('requested'), Type.Literal('granted'), Type.Literal('expired')]);
export type BreakGlassStatus = Static<typeof BreakGlassStatus>;

/** A break-glass: one release in one environment may pass a freeze, granted by a second person, until it expires. */
export const BreakGlass = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    release_id: Type.String({ format: 'uuid' }),
    release_digest: Type.String(),
    release_number: Type.Integer(),
    repository: Type.String(),
    project: Type.String(),
    environment: Type.String(),
    reason: Type.String(),
    requested_by: Type.String(),
    requested_at: Type.String(),
    granted_by: Nullable(Type.String()),
    granted_at: Nullable(Type.String()),
    justification: Nullable(Type.String()),
    expires_at: Nullable(Type.String()),
    status: BreakGlassStatus,
  },
  { $id: 'BreakGlass' },
);
export type BreakGlass = Static<typeof BreakGlass>;

/** POST /break-glass. */
export const BreakGlassBody = Type.Object(
  {
    repository: Type.String({ maxLength: 201 }),
    project: Type.String({ maxLength: 63 }),
    environment: Type.String({ maxLength: 63 }),
    release: Type.String({ minLength: 1, maxLength: 256 }),
    reason: Type.String({ maxLength: 4096 }),
  },
  { additionalProperties: false },
);
export type BreakGlassRequest = Static<typeof BreakGlassBody>;

/** POST /break-glass/{id}/approve. */
export const BreakGlassGrantBody = Type.Object({ justification: Type.String({ maxLength: 4096 }) }, { additionalProperties: false });
export const BreakGlassIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** GET /break-glass. */
export const BreakGlassQuery = Type.Object({
  ...Paging.properties,
  environment: Type.Optional(Type.String({ maxLength: 63 })),
  status: Type.Optional(BreakGlassStatus),
});
export type BreakGlassQuery = Static<typeof BreakGlassQuery>;

/** One changed field of an object: its path (`spec.template.spec.containers[name=web].image`), old and new value. */
export const FieldChange = Type.Object({
  path: Type.String(),
  /** Absent when the field was added. A Secret's data values are `"(hidden)"`. */
  old: Type.Optional(Type.Unknown()),
  /** Absent when the field was removed. */
  new: Type.Optional(Type.Unknown()),
});
export type FieldChange = Static<typeof FieldChange>;

/** A Kubernetes object's identity: group, kind, namespace (the default filled in for namespaced kinds), name. */
export const ObjectKey = Type.Object({
  group: Type.String(),
  kind: Type.String(),
  namespace: Nullable(Type.String()),
  name: Type.String(),
});
export type ObjectKey = Static<typeof ObjectKey>;

/** The semantic diff of two releases: objects matched by identity; key order and formatting ignored. */
export const SemanticDiff = Type.Object({
  from: Type.Object({ release_number: Type.Integer(), digest: Type.String() }),
  to: Type.Object({ release_number: Type.Integer(), digest: Type.String() }),
  added: Type.Array(ObjectKey),
  removed: Type.Array(ObjectKey),
  changed: Type.Array(Type.Object({ ...ObjectKey.properties, changes: Type.Array(FieldChange) })),
  unchanged: Type.Integer(),
});
export type SemanticDiff = Static<typeof SemanticDiff>;

/** `?format=semantic` (JSON) or `unified` (text, the default of the API for compatibility). */
export const DiffQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('semantic'), Type.Literal('unified')])) });

/**
 * What an approver was shown and approved (issue #16): kept on the approval record as it was at
 * the moment of approval.
 */
export const ApprovalContext = Type.Object({
  release_number: Type.Integer(),
  /** The release image's digest: what the approval binds. */
  digest: Type.String(),
  aliases: Type.Array(Type.String()),
  triggers: Type.Array(
    Type.Object({ type: Type.String(), branch: Nullable(Type.String()), tag: Nullable(Type.String()), triggered_by: Type.String() }),
  ),
  /** The branches that contain the commit (as the release records them), or the trigger branches when it records none. */
  branches: Type.Array(Type.String()),
  commit: Type.Object({ sha: Type.String(), author: Nullable(Type.String()), message: Nullable(Type.String()) }),
  artifacts: Type.Array(Type.Object({ name: Type.String(), digest: Nullable(Type.String()) })),
  /** What ran in the environment when it was approved (null: nothing), and the semantic diff against it. */
  running: Nullable(Type.Object({ release_number: Type.Integer(), digest: Type.String() })),
  diff: Nullable(SemanticDiff),
  /** Why the diff could not be computed (the registry unreachable, the releases too large); absent when it was. */
  diff_unavailable: Type.Optional(Type.String()),
});
export type ApprovalContext = Static<typeof ApprovalContext>;

/** GET /approval-context: the would-be approval's release and environment. */
export const ApprovalContextQuery = Type.Object({
  repository: Type.String({ maxLength: 201 }),
  project: Type.String({ maxLength: 63 }),
  release: Type.String({ minLength: 1, maxLength: 256 }),
  environment: Type.String({ maxLength: 63 }),
});
export type ApprovalContextQuery = Static<typeof ApprovalContextQuery>;
