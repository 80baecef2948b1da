/**
 * A release: metadata, artifacts with digests, rendered manifests, and per environment what
 * runs there, the diff against it, and the policy check saying what is missing.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApproveForm, ChecksList, confirmsDeployments, DeployButton, SemanticDiffView } from '../actions.js';
import { get, getText, type PolicyResult, post, projectPath, type Release, type SemanticDiff } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { type EnvironmentView, loadEnvironments, projectKey, type Running } from '../overview.js';
import { AliasList, Digest, Empty, ErrorBox, Heading, Loading, releaseLabel, Time, triggerText } from '../ui.js';

/**
 * Where the release's commit is (issue #13 item 1): the branch of a branch push, and for a tag or
 * manual release the branches the pipeline found containing the commit, or that nobody knows.
 */
export function commitWhere(r: Pick<Release, 'triggers' | 'source'>): string {
  const pushed = r.triggers.filter((t) => t.type === 'branch_push' && t.branch).map((t) => t.branch!);
  const known = r.triggers.some((t) => t.type !== 'branch_push') ? r.source.branches : [];
  const branches = [...new Set([...pushed, ...(known ?? [])])];
  if (known === null || known === undefined) {
    return branches.length ? `on ${branches.join(', ')}; other branches unknown (not recorded)` : 'on branches unknown (not recorded)';
  }
  return branches.length ? `on ${branches.join(', ')}` : 'on no branch';
}

export function ReleasePage({ repository, project, ref }: { repository: string; project: string; ref: string }) {
  const path = projectPath(repository, project);
  const release = useData(() => get<Release>(`/releases/${path}/${encodeURIComponent(ref)}`), [path, ref]);
  const envs = useData(loadEnvironments, []);
  const [version, setVersion] = useState(0); // bumps the per-environment panels after a change
  useLive(() => {
    envs.reload();
    setVersion((v) => v + 1);
  });
  const r = release.data;
  const crumbs = (
    <p class="crumbs">
      <a href="/">Environments</a> › <a href={`/projects/${path}`}>{project}</a>
    </p>
  );
  if (!r) {
    return (
      <>
        {crumbs}
        <Heading title={`${project} ${ref}`}>
          {project} {ref}
        </Heading>
        {release.loading && <Loading what="the release" />}
        {release.error && <ErrorBox error={release.error} retry={release.reload} />}
      </>
    );
  }
  return (
    <>
      {crumbs}
      <Heading title={`${project} ${releaseLabel(r)}`}>
        {project} <span class="num">{releaseLabel(r)}</span>
      </Heading>
      <dl class="facts">
        <dt>Canonical id</dt>
        <dd>
          <code>{r.canonical_id}</code>
        </dd>
        <dt>Aliases</dt>
        <dd>
          <AliasList aliases={r.aliases} />
        </dd>
        <dt>Triggers</dt>
        <dd>
          {r.triggers.map((t) => (
            <div>
              {triggerText(t)}{' '}
              <span class="meta">
                by {t.triggered_by}, <Time at={t.triggered_at} />
              </span>
            </div>
          ))}
        </dd>
        <dt>Commit</dt>
        <dd>
          <code>{r.commit_sha}</code>
          <div class="meta where">{commitWhere(r)}</div>
          {r.source.message && <div class="message">{r.source.message.split('\n')[0]}</div>}
          {r.source.author && (
            <div class="meta">
              {r.source.author}
              {r.source.committed_at && (
                <>
                  , <Time at={r.source.committed_at} />
                </>
              )}
            </div>
          )}
        </dd>
        <dt>Created</dt>
        <dd>
          <Time at={r.created_at} /> by {r.created_by}
        </dd>
        <dt>Image</dt>
        <dd>
          <code class="wrap">{r.oci_uri}</code>
          <div>
            <Digest value={r.oci_digest} /> <span class="meta">manifest</span>
          </div>
        </dd>
        <dt>Resources</dt>
        <dd>
          <Digest value={r.resources_digest} /> <span class="meta">resources layer</span>
        </dd>
      </dl>

      <h2>Artifacts</h2>
      {r.artifacts.length === 0 ? (
        <Empty>This release carries no artifacts.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Published at</th>
                <th scope="col">Digest</th>
                <th scope="col">Tracking image</th>
              </tr>
            </thead>
            <tbody>
              {r.artifacts.map((a) => (
                <tr>
                  <td data-label="Name">{a.name}</td>
                  <td data-label="Type">{a.type}</td>
                  <td data-label="Published at">
                    <code class="wrap">{a.primary_published_uri ?? '—'}</code>
                  </td>
                  <td data-label="Digest">
                    <Digest value={(a.outputs?.digest as string | undefined) ?? (a.primary_digest as string | undefined)} />
                  </td>
                  <td data-label="Tracking image">
                    {a.tracking_oci_uri ? (
                      <>
                        <code class="wrap">{a.tracking_oci_uri}</code> <Digest value={a.tracking_oci_digest} />
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Environments</h2>
      {envs.error && <ErrorBox error={envs.error} retry={envs.reload} />}
      {!envs.data && envs.loading && <Loading what="environments" />}
      {envs.data?.length === 0 && <Empty>No environments are configured.</Empty>}
      <div class="env-panels">
        {envs.data?.map((e) => (
          <EnvPanel
            env={e}
            release={r}
            version={version}
            onChange={() => {
              envs.reload();
              setVersion((v) => v + 1);
            }}
          />
        ))}
      </div>

      <h2>Rendered manifests</h2>
      <Manifests path={`/releases/${path}/${r.release_number}/resources`} />
    </>
  );
}

function EnvPanel({ env, release, version, onChange }: { env: EnvironmentView; release: Release; version: number; onChange: () => void }) {
  const running: Running | undefined = env.active.get(projectKey(release.repository, release.project));
  const target = { repository: release.repository, project: release.project, environment: env.name };
  const check = useData(
    () => post<PolicyResult>('/policy-checks', { ...target, release: String(release.release_number) }),
    [env.name, release.id],
  );
  useEffect(() => {
    if (version) check.reload();
  }, [version]); // keeps the panel (and any answer shown in it) while it refreshes
  const isRunning = running?.release_id === release.id;
  const failing = check.data?.checks.filter((c) => !c.ok).map((c) => c.name) ?? [];
  return (
    <section class="env-panel" aria-labelledby={`env-${env.name}`} data-env={env.name}>
      <h3 id={`env-${env.name}`}>{env.name}</h3>
      <p>
        {isRunning ? (
          <strong class="ok-text">This release runs here.</strong>
        ) : running ? (
          <>
            Runs{' '}
            <a href={`/releases/${projectPath(release.repository, release.project)}/${running.release_number}`}>
              #{running.release_number}
            </a>{' '}
            since <Time at={running.deployed_at} />.
          </>
        ) : (
          <span class="muted">Nothing of {release.project} runs here yet.</span>
        )}
      </p>
      {check.error && <ErrorBox error={check.error} retry={check.reload} />}
      {check.data && (
        <>
          <p class={check.data.allowed ? 'ok-text' : 'fail-text'}>
            {check.data.allowed ? 'The policy admits this release.' : 'The policy does not admit this release yet:'}
          </p>
          <ChecksList checks={check.data.checks} />
        </>
      )}
      {check.data && !isRunning && failing.length === 1 && failing[0] === 'approvals' && (
        <ApproveForm target={target} release={release.release_number} onDone={onChange} />
      )}
      {check.data?.allowed && !isRunning && (
        <DeployButton
          target={target}
          release={release.release_number}
          confirm={confirmsDeployments(env.name, env.policy.requires_approval)}
          onDone={onChange}
        />
      )}
      {running && !isRunning && (
        <Diff
          path={`/releases/${projectPath(release.repository, release.project)}/${running.release_number}/diff/${release.release_number}`}
          from={running.release_number}
          to={release.release_number}
        />
      )}
    </section>
  );
}

function Diff({ path, from, to }: { path: string; from: number; to: number }) {
  const [open, setOpen] = useState(false);
  return (
    <details class="diff" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>
        Changes from #{from} (running) to #{to}
      </summary>
      {open && <DiffBody path={path} />}
    </details>
  );
}

/** The semantic diff (objects matched by identity; key order and formatting ignored; Secret values hidden by the server). */
function DiffBody({ path }: { path: string }) {
  const diff = useData(() => get<SemanticDiff>(`${path}?format=semantic`), [path]);
  if (diff.error) return <ErrorBox error={diff.error} retry={diff.reload} />;
  if (!diff.data) return <Loading what="the diff" />;
  return <SemanticDiffView diff={diff.data} />;
}

function Manifests({ path }: { path: string }) {
  const yaml = useData(() => getText(path, 'application/yaml'), [path]);
  if (yaml.error) return <ErrorBox error={yaml.error} retry={yaml.reload} />;
  if (!yaml.data) return <Loading what="the manifests" />;
  const count = yaml.data.split(/^---$/m).filter((s) => s.trim()).length;
  return (
    <details class="manifests">
      <summary>
        {count} manifest{count === 1 ? '' : 's'} (YAML)
      </summary>
      <pre class="code" tabIndex={0} aria-label="Rendered manifests">
        {yaml.data}
      </pre>
    </details>
  );
}
