/** Release routes (DESIGN.md §10): register, read by any reference, list, manifests, diff, projects. */
import { Type } from 'typebox';
import { createTwoFilesPatch } from 'diff';
import { parseIdentity } from '../../core/identity.js';
import { createRelease, type CreateReleaseRequest } from '../../services/create-release.js';
import { releaseManifests } from '../../services/release-manifests.js';
import { autoDeploy } from '../../services/deploy.js';
import * as releases from '../../store/releases.js';
import type { App, AppContext } from '../app.js';
import { authorize } from '../auth.js';
import { releasesTotal } from '../../observability/metrics.js';
import { CreateReleaseBody, ListOf, Paging, ProjectParams, Release, ReleaseParams, errorResponses } from '../schemas.js';

const tags = ['releases'];

function projectOf(p: { owner: string; name: string; project: string }) {
  const id = parseIdentity({ repository: `${p.owner}/${p.name}`, project: p.project, sha: '0'.repeat(40) }, {
    repository: 'path.owner/name', project: 'path.project', sha: 'path.sha',
  });
  return { repository: id.repository, project: id.project };
}

export async function releaseRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.post('/releases', {
    schema: { hide, tags, summary: 'Register a release (pipeline service account only)', body: CreateReleaseBody,
      response: { 200: Release, 201: Release, ...errorResponses } },
  }, async (req, reply) => {
    const actor = authorize(req, { kind: 'release:create' });
    const result = await createRelease({
      db: ctx.db, store: ctx.store, maxResources: ctx.settings.maxResources, signingKey: ctx.signingKey,
      pauseAfterPushMs: Number(process.env.FORGE_FAULT_PAUSE_AFTER_PUSH_MS ?? 0),
    }, actor, req.body as CreateReleaseRequest).catch((err) => {
      releasesTotal.inc({ outcome: 'failed' });
      throw err;
    });
    releasesTotal.inc({ outcome: result.created ? 'created' : 'existing' });
    // After the commit: auto-deploys to environments that ask for them (DESIGN.md §6 step 4); they may still be pending.
    const autoDeployments = result.created && ctx.deploy ? await autoDeploy(ctx.deploy, result.release) : undefined;
    return reply.status(result.created ? 201 : 200).send(autoDeployments ? { ...result.release, auto_deployments: autoDeployments } : result.release);
  });

  app.get('/releases/:owner/:name/:project', {
    schema: { hide, tags, summary: 'List the releases of a project, newest first', params: ProjectParams, querystring: Paging,
      response: { 200: ListOf(Release), ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    const { repository, project } = projectOf(req.params);
    const { limit = 20, offset = 0 } = req.query;
    return { ...(await releases.listReleases(ctx.db, repository, project, limit, offset)), limit, offset };
  });

  app.get('/releases/:owner/:name/:project/:ref', {
    schema: { hide, tags, summary: 'Get a release by tag or branch alias, number, or sha (prefix of 7 or more)', params: ReleaseParams,
      response: { 200: Release, ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    const { repository, project } = projectOf(req.params);
    return releases.resolveRelease(ctx.db, repository, project, req.params.ref);
  });

  app.get('/releases/:owner/:name/:project/:ref/resources', {
    schema: { hide, tags, summary: 'The rendered manifests of a release: a YAML stream, or a JSON array with Accept: application/json',
      params: ReleaseParams, produces: ['application/yaml', 'application/json'],
      response: { 200: { description: 'YAML stream or JSON array', content: { 'application/yaml': { schema: Type.String() }, 'application/json': { schema: Type.Array(Type.Object({}, { additionalProperties: true })) } } }, ...errorResponses } },
  }, async (req, reply) => {
    authorize(req, { kind: 'read' });
    const { repository, project } = projectOf(req.params);
    const release = await releases.resolveRelease(ctx.db, repository, project, req.params.ref);
    const docs = await releaseManifests(ctx.store, release);
    if ((req.headers.accept ?? '').includes('application/json')) {
      return reply.type('application/json').serializer(JSON.stringify).send(docs.map((d) => d.object));
    }
    return reply.type('application/yaml').serializer((s: string) => s).send(docs.map((d) => `---\n${d.yaml}`).join(''));
  });

  app.get('/releases/:owner/:name/:project/:ref/diff/:other', {
    schema: { hide, tags, summary: 'Unified diff of the manifests of two releases',
      params: Type.Object({ ...ReleaseParams.properties, other: Type.String({ maxLength: 256 }) }), produces: ['text/plain'],
      response: { 200: { description: 'unified diff', content: { 'text/plain': { schema: Type.String() } } }, ...errorResponses } },
  }, async (req, reply) => {
    authorize(req, { kind: 'read' });
    const { repository, project } = projectOf(req.params);
    const [a, b] = await Promise.all([
      releases.resolveRelease(ctx.db, repository, project, req.params.ref),
      releases.resolveRelease(ctx.db, repository, project, req.params.other),
    ]);
    const [da, db] = await Promise.all([releaseManifests(ctx.store, a), releaseManifests(ctx.store, b)]);
    const text = (docs: typeof da) => docs.map((d) => `--- # ${d.path}\n${d.yaml}`).join('');
    const patch = createTwoFilesPatch(`release ${a.release_number}`, `release ${b.release_number}`, text(da), text(db), a.commit_sha, b.commit_sha);
    return reply.type('text/plain').serializer((s: string) => s).send(patch);
  });

  app.get('/projects', {
    schema: { hide, tags, summary: 'Repositories and projects with their latest release', querystring: Paging,
      response: { 200: ListOf(Type.Object({ repository: Type.String(), project: Type.String(), latest_release: Release })), ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    const { limit = 20, offset = 0 } = req.query;
    return { ...(await releases.listProjects(ctx.db, limit, offset)), limit, offset };
  });
}

