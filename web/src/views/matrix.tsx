/** The environments matrix: projects × environments, what runs where, what waits for approval. */
import { projectPath } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { approvalsNeeded, type EnvironmentView, loadOverview, type Overview, projectKey, type Running, type Waiting } from '../overview.js';
import { Empty, ErrorBox, Heading, Loading, Time } from '../ui.js';
import { ClusterBadge } from './cluster.js';

interface Row {
  repository: string;
  project: string;
  latest?: number;
}

function rows(o: Overview): Row[] {
  const seen = new Map<string, Row>();
  for (const p of o.projects)
    seen.set(projectKey(p.repository, p.project), {
      repository: p.repository,
      project: p.project,
      latest: p.latest_release.release_number,
    });
  for (const e of o.environments) {
    for (const d of e.active.values()) {
      const k = projectKey(d.repository, d.project);
      if (!seen.has(k)) seen.set(k, { repository: d.repository, project: d.project });
    }
  }
  return [...seen.values()].sort((a, b) => a.project.localeCompare(b.project) || a.repository.localeCompare(b.repository));
}

/** `3600` → `1h`, `5400` → `1h30m`, `90` → `1m30s`. */
function gateDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}` || '0s';
}

function policySummary(e: EnvironmentView): string {
  const p = e.policy;
  const parts = [
    p.auto_deploy ? 'auto-deploy' : '',
    p.requires_approval ? `${p.approvals?.required ?? 1} approval${(p.approvals?.required ?? 1) === 1 ? '' : 's'}` : '',
    // issue 15: what a verification gate waits for, and automatic rollback
    ...(p.requires ?? []).map((g) => `gate: healthy in ${g.environment} for ${gateDuration(g.healthy_for_seconds)}`),
    p.auto_rollback ? 'auto-rollback' : '',
  ].filter(Boolean);
  return parts.join(' · ');
}

/** The release's first tag alias, else its first branch alias. */
function alias(d: Running): string | undefined {
  return (d.aliases.find((a) => a.alias_type === 'tag') ?? d.aliases.find((a) => a.alias_type === 'branch'))?.alias;
}

function Cell({ env, row, waiting }: { env: EnvironmentView; row: Row; waiting?: Waiting }) {
  const d = env.active.get(projectKey(row.repository, row.project));
  const path = projectPath(row.repository, row.project);
  return (
    <td data-env={env.name} class={waiting ? 'waiting' : undefined}>
      <span class="cell-env" aria-hidden="true">
        {env.name}
      </span>
      {d ? (
        <div class="deployed">
          <a
            class="release"
            href={`/releases/${path}/${d.release_number}`}
            aria-label={`${row.project} release ${d.release_number} in ${env.name}`}
          >
            #{d.release_number}
          </a>
          {alias(d) && <span class="alias">{alias(d)}</span>}
          {d.kind !== 'deploy' && <span class={`badge ${d.kind}`}>{d.kind}</span>}
          {d.pinned && (
            <span class="badge pinned" title="Auto-deploys skip this project here until it is unpinned">
              pinned
            </span>
          )}
          {row.latest !== undefined && d.release_number === row.latest && <span class="badge latest">latest</span>}
          <ClusterBadge d={d} />
          <div class="meta">
            {d.deployed_by} · <Time at={d.deployed_at} />
          </div>
        </div>
      ) : (
        <div class="muted">not deployed</div>
      )}
      {waiting && (
        <a
          class="awaiting"
          href="/approvals"
          title={`release #${waiting.release.release_number} needs ${waiting.state.required} approval(s) for ${env.name}`}
        >
          #{waiting.release.release_number} awaits approval ({approvalsNeeded(waiting.state)})
        </a>
      )}
      <a class="history" href={`/environments/${encodeURIComponent(env.name)}/${path}`}>
        history
        <span class="sr">
          {' '}
          of {row.project} in {env.name}
        </span>
      </a>
    </td>
  );
}

export function Matrix() {
  const overview = useData(loadOverview, []);
  useLive(overview.reload);
  const o = overview.data;
  return (
    <>
      <Heading title="Environments">Environments</Heading>
      {!o && overview.loading && <Loading what="environments" />}
      {overview.error && <ErrorBox error={overview.error} retry={overview.reload} />}
      {o &&
        (o.environments.length === 0 ? (
          <Empty>
            No environments are configured. Give the server a platform configuration (<code>forge serve --config forge.yaml</code>).
          </Empty>
        ) : rows(o).length === 0 ? (
          <Empty>
            No releases yet. A pipeline registers them with <code>forge release create</code>; they appear here as soon as they do.
          </Empty>
        ) : (
          <div class="matrix-wrap">
            <table class="matrix">
              <caption class="sr">Which release runs in which environment, per project</caption>
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  {o.environments.map((e) => (
                    <th scope="col">
                      {e.name}
                      <div class="policy">{policySummary(e)}</div>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows(o).map((r) => (
                  <tr data-project={r.project}>
                    <th scope="row">
                      <a href={`/projects/${projectPath(r.repository, r.project)}`}>{r.project}</a>
                      <div class="meta">
                        {r.repository}
                        {r.latest !== undefined && <> · latest #{r.latest}</>}
                      </div>
                    </th>
                    {o.environments.map((e) => (
                      <Cell
                        env={e}
                        row={r}
                        waiting={o.waiting.find(
                          (w) => w.environment === e.name && w.release.repository === r.repository && w.release.project === r.project,
                        )}
                      />
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {o && o.waiting.length > 0 && (
        <p class="notice">
          <a href="/approvals">
            {o.waiting.length} release{o.waiting.length === 1 ? '' : 's'} waiting for approval
          </a>
        </p>
      )}
    </>
  );
}
