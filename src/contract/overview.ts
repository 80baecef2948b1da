/**
 * GET /overview on the wire (issue #18, DESIGN.md §7, §10): the environments matrix as people
 * read it, one row per project, with what runs in each environment and what the project's
 * latest release may do there, judged by the server's own policy rules (the dry run of POST
 * /policy-checks, for the caller as the deployer). The dashboard's matrix and approvals queue and
 * `forge status` read it; none of them evaluates a rule itself.
 */
import { type Static, Type } from 'typebox';
import { Nullable } from './common.js';
import { EnvironmentDeployment, EnvironmentName, PromotionPolicy } from './environment.js';
import { Alias, Release, Trigger } from './release.js';

/**
 * What the latest release of a project may do in an environment:
 * - `running`: it (or a later one) runs there;
 * - `deployable`: every check of the policy passes for the caller;
 * - `waiting`: only approvals are missing (`approvals.given` of `approvals.required`);
 * - `refused`: another check fails (`refused` says which, and why).
 */
export const LatestState = Type.Union([
  Type.Literal('running'),
  Type.Literal('deployable'),
  Type.Literal('waiting'),
  Type.Literal('refused'),
]);
export type LatestState = Static<typeof LatestState>;

/** The policy's verdict on the latest release in one environment, as POST /policy-checks would give it to the caller. */
export const LatestInEnvironment = Type.Object({
  release_number: Type.Integer(),
  state: LatestState,
  /** POST /policy-checks' `allowed` for the caller as the deployer. */
  allowed: Type.Boolean(),
  /** Distinct active approvers counted with no deployer (as GET /approvals/{release}/{env}) against the environment's requirement (0: none needed). */
  approvals: Type.Object({ given: Type.Integer(), required: Type.Integer() }),
  /** The failed checks, in the policy's order (empty when allowed). */
  failed: Type.Array(Type.Object({ name: Type.String(), reason: Type.String() })),
  /** `waiting`, the caller may approve here (approver:ENV or operator) and has not approved this release yet. */
  waits_for_me: Type.Boolean(),
});
export type LatestInEnvironment = Static<typeof LatestInEnvironment>;

/** One project in one environment: what runs there (null: nothing) and the latest release's verdict (null: nothing to judge). */
export const OverviewCell = Type.Object({
  environment: Type.String(),
  running: Nullable(EnvironmentDeployment),
  latest: Nullable(LatestInEnvironment),
});
export type OverviewCell = Static<typeof OverviewCell>;

/** One project: its latest release and one cell per environment shown, in the platform config's order. */
export const OverviewRow = Type.Object({
  repository: Type.String(),
  project: Type.String(),
  latest_release: Type.Object({
    id: Type.String(),
    release_number: Type.Integer(),
    commit_sha: Type.String(),
    aliases: Type.Array(Alias),
    created_at: Type.String(),
    /** What the approvals queue shows of where the commit is (the policy's branch rule reads the same). */
    triggers: Type.Array(Trigger),
    source: Release.properties.source,
  }),
  environments: Type.Array(OverviewCell),
});
export type OverviewRow = Static<typeof OverviewRow>;

/**
 * GET /overview's query. Paging: `limit` (1–500, default 100) rows after `cursor` (the `next`
 * of the previous page) or, without one, after skipping `offset` rows; rows are ordered by
 * repository, then project. Filters: `repository` (without case) and `project` exactly, `q` a
 * piece of `repository/project` (without case), `environment` the one column to show and judge,
 * `waiting` rows with a release waiting for approvals, `waits_for_me` rows with one the caller
 * may approve.
 */
export const OverviewQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'default 0; not with cursor' })),
  cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  repository: Type.Optional(Type.String({ maxLength: 201 })),
  project: Type.Optional(Type.String({ maxLength: 63 })),
  q: Type.Optional(Type.String({ maxLength: 265 })),
  environment: Type.Optional(EnvironmentName),
  waiting: Type.Optional(Type.Boolean()),
  waits_for_me: Type.Optional(Type.Boolean()),
});
export type OverviewQuery = Static<typeof OverviewQuery>;

/**
 * A page of GET /overview: the environments shown (the columns, with their policies), the rows,
 * how many rows match in all (`total`), the page asked for, and `next`: the cursor of the
 * following page, null on the last.
 */
export const OverviewPage = Type.Object({
  environments: Type.Array(Type.Object({ name: Type.String(), promotion_policy: PromotionPolicy })),
  items: Type.Array(OverviewRow),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
  next: Nullable(Type.String()),
});
export type OverviewPage = Static<typeof OverviewPage>;
