/** Wire schemas shared by routes: validation at the edge and the OpenAPI document come from these. */
import { Type, type TSchema } from 'typebox';

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const AnyObject = Type.Object({}, { additionalProperties: true });

export const ErrorEnvelope = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(AnyObject),
  }),
}, { $id: 'Error' });

export const errorResponses = {
  400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope, 409: ErrorEnvelope,
  413: ErrorEnvelope, 500: ErrorEnvelope, 503: ErrorEnvelope,
};

export const Paging = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
});

export const ListOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });

const TriggerType = Type.Union([Type.Literal('branch_push'), Type.Literal('tag'), Type.Literal('manual')]);

export const Release = Type.Object({
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
    author: Nullable(Type.String()), message: Nullable(Type.String()),
    committed_at: Nullable(Type.String()), url: Nullable(Type.String()),
  }),
  pipeline_run_id: Nullable(Type.String()),
  triggers: Type.Array(Type.Object({
    type: TriggerType, branch: Nullable(Type.String()), tag: Nullable(Type.String()),
    triggered_by: Type.String(), triggered_at: Type.String(),
  })),
  aliases: Type.Array(Type.Object({ alias: Type.String(), alias_type: Type.String() })),
  artifacts: Type.Array(AnyObject),
  signature: Type.Optional(Nullable(Type.Object({ digest: Type.String(), key_id: Type.String() }))),
  auto_deployments: Type.Optional(Type.Array(AnyObject)),
  content_matches: Type.Optional(Type.Boolean()),
}, { $id: 'Release' });

const Text = (max: number) => Type.String({ maxLength: max });

export const CreateReleaseBody = Type.Object({
  repository: Text(201),
  project: Text(63),
  commit: Type.Object({
    sha: Text(64),
    author: Type.Optional(Text(1024)),
    message: Type.Optional(Text(65536)),
    committed_at: Type.Optional(Text(64)),
    url: Type.Optional(Text(2048)),
  }),
  trigger: Type.Object({ type: TriggerType, branch: Type.Optional(Text(1024)), tag: Type.Optional(Text(1024)) }),
  tags: Type.Optional(Type.Array(Text(1024), { maxItems: 1000 })),
  tagging_strategy: Type.Optional(Type.Union([Type.Literal('monorepo'), Type.Literal('tag-all')])),
  artifacts: Type.Optional(Type.Array(Type.Object({
    name: Text(253),
    type: Text(64),
    tracking_oci_uri: Type.Optional(Text(2048)),
    tracking_oci_digest: Type.Optional(Text(100)),
    primary_published_uri: Type.Optional(Text(2048)),
    outputs: Type.Optional(AnyObject),
  }, { additionalProperties: true }), { maxItems: 1000 })),
  resources: Type.Array(AnyObject),
  pipeline_run_id: Type.Optional(Text(256)),
}, { additionalProperties: false });

export const ProjectParams = Type.Object({ owner: Type.String(), name: Type.String(), project: Type.String() });
export const ReleaseParams = Type.Object({ owner: Type.String(), name: Type.String(), project: Type.String(), ref: Type.String({ maxLength: 256 }) });
