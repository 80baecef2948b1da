/**
 * Releases on the wire (DESIGN.md §3, §6, §10): what a pipeline registers and what a release
 * looks like to every reader.
 */
import { type Static, Type } from 'typebox';
import { AnyObject, Nullable, Text } from './common.js';
import { AutoDeployment } from './deployment.js';

/** What started a pipeline run. */
export const TriggerType = Type.Union([Type.Literal('branch_push'), Type.Literal('tag'), Type.Literal('manual')]);
export type TriggerType = Static<typeof TriggerType>;

/** A pipeline run that produced the release (a released commit may be released again by a later run). */
export const Trigger = Type.Object({
  type: TriggerType,
  branch: Nullable(Type.String()),
  tag: Nullable(Type.String()),
  triggered_by: Type.String(),
  triggered_at: Type.String(),
});
export type Trigger = Static<typeof Trigger>;

/** A name of a release within its project (src/core/aliases.ts): its number, a tag, or branch-number. */
export const Alias = Type.Object({
  alias: Type.String(),
  alias_type: Type.Union([Type.Literal('numeric'), Type.Literal('tag'), Type.Literal('branch')]),
});
export type Alias = Static<typeof Alias>;

/**
 * An artifact the pipeline built for the release (DESIGN.md §5), as the pipeline reports it:
 * its known fields and whatever its producer adds.
 */
const ArtifactFields = Type.Object(
  {
    name: Text(253),
    type: Text(64),
    tracking_oci_uri: Type.Optional(Text(2048)),
    tracking_oci_digest: Type.Optional(Text(100)),
    primary_published_uri: Type.Optional(Text(2048)),
    outputs: Type.Optional(AnyObject),
  },
  { additionalProperties: true },
);
export const Artifact = Type.Unsafe<Static<typeof ArtifactFields> & Record<string, unknown>>(ArtifactFields);
export type Artifact = Static<typeof Artifact>;

/** The signature manifest pushed beside the release image (tag sha256-<hex>.sig). */
export const Signature = Type.Object({ digest: Type.String(), key_id: Type.String() });
export type Signature = Static<typeof Signature>;

export const Release = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    canonical_id: Type.String(),
    repository: Type.String(),
    project: Type.String(),
    commit_sha: Type.String(),
    release_number: Type.Integer(),
    oci_uri: Type.String(),
    oci_digest: Type.String(),
    resources_digest: Type.String(),
    created_at: Type.String(),
    created_by: Type.String(),
    source: Type.Object({
      author: Nullable(Type.String()),
      message: Nullable(Type.String()),
      committed_at: Nullable(Type.String()),
      url: Nullable(Type.String()),
      /**
       * The branches that contain the commit, as the pipeline reported them for a tag or manual
       * release; null when unknown (not reported, a shallow clone, or registered before Forge
       * recorded it). A branch-push release's branch is its trigger's.
       */
      branches: Type.Optional(Nullable(Type.Array(Type.String()))),
    }),
    pipeline_run_id: Nullable(Type.String()),
    triggers: Type.Array(Trigger),
    aliases: Type.Array(Alias),
    artifacts: Type.Array(Artifact),
    /** Null when the release was registered without a signing key. */
    signature: Nullable(Signature),
    /** The auto-deploys the release's registration triggered, and how they stand. */
    auto_deployments: Type.Array(AutoDeployment),
    /** A registration of an already released commit only: whether its resources match the release's. */
    content_matches: Type.Optional(Type.Boolean()),
  },
  { $id: 'Release' },
);
export type Release = Static<typeof Release>;

/** POST /releases: what a pipeline registers (the pipeline service account only). */
export const CreateReleaseBody = Type.Object(
  {
    repository: Text(201),
    project: Text(63),
    commit: Type.Object({
      sha: Text(64),
      author: Type.Optional(Text(1024)),
      message: Type.Optional(Text(65536)),
      committed_at: Type.Optional(Text(64)),
      url: Type.Optional(Text(2048)),
      /**
       * Tag and manual releases: the branches of the source repository that contain the commit,
       * from the CI checkout's remote-tracking refs (issue #13 item 1). Absent = unknown: the
       * branch rule then admits only the pattern `*`.
       */
      branches: Type.Optional(Type.Array(Text(1024), { maxItems: 1000 })),
    }),
    trigger: Type.Object({ type: TriggerType, branch: Type.Optional(Text(1024)), tag: Type.Optional(Text(1024)) }),
    tags: Type.Optional(Type.Array(Text(1024), { maxItems: 1000 })),
    tagging_strategy: Type.Optional(Type.Union([Type.Literal('monorepo'), Type.Literal('tag-all')])),
    artifacts: Type.Optional(Type.Array(Artifact, { maxItems: 1000 })),
    resources: Type.Array(AnyObject),
    pipeline_run_id: Type.Optional(Text(256)),
  },
  { additionalProperties: false },
);
export type CreateReleaseRequest = Static<typeof CreateReleaseBody>;

/** `/releases/{owner}/{name}/{project}`. */
export const ProjectParams = Type.Object({ owner: Type.String(), name: Type.String(), project: Type.String() });
export type ProjectParams = Static<typeof ProjectParams>;

/** `/releases/{owner}/{name}/{project}/{ref}`: `ref` is a tag or branch alias, a number, or a sha prefix (DESIGN.md §3). */
export const ReleaseParams = Type.Object({ ...ProjectParams.properties, ref: Type.String({ maxLength: 256 }) });
export type ReleaseParams = Static<typeof ReleaseParams>;

/** `/releases/{owner}/{name}/{project}/{ref}/diff/{other}`. */
export const DiffParams = Type.Object({ ...ReleaseParams.properties, other: Type.String({ maxLength: 256 }) });
export type DiffParams = Static<typeof DiffParams>;

/** GET /projects: a repository's project with its latest release. */
export const ProjectSummary = Type.Object({ repository: Type.String(), project: Type.String(), latest_release: Release });
export type ProjectSummary = Static<typeof ProjectSummary>;

/** GET …/{ref}/resources with Accept: application/json: the release's Kubernetes objects. */
export const Resources = Type.Array(AnyObject);
