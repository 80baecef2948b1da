/** One project's deployments in one environment, newest first, with roll back. */
import { useState } from 'preact/hooks';
import { RollbackForm } from '../actions.js';
import { type Deployment, get, type List, projectPath, q } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { Empty, ErrorBox, Heading, Loading, Time } from '../ui.js';
import { Pager } from './project.js';
import { Timeline } from './timeline.js';

const PAGE = 25;

export function History({ environment, repository, project }: { environment: string; repository: string; project: string }) {
  const [offset, setOffset] = useState(0);
  const path = projectPath(repository, project);
  const base = `/deployments/${encodeURIComponent(environment)}/${path}`;
  const list = useData(() => get<List<Deployment>>(`${base}/history${q({ limit: PAGE, offset })}`), [base, offset]);
  useLive(list.reload);
  const l = list.data;
  const active = l?.items.find((d) => d.status === 'active');
  return (
    <>
      <p class="crumbs">
        <a href="/">Environments</a> › <a href={`/projects/${path}`}>{project}</a>
      </p>
      <Heading title={`${project} in ${environment}`}>
        {project} in {environment}
      </Heading>
      {!l && list.loading && <Loading what="the deployment history" />}
      {list.error && <ErrorBox error={list.error} retry={list.reload} />}
      {l && l.items.length === 0 && (
        <Empty>
          {project} has never been deployed to {environment}.
        </Empty>
      )}
      {l && l.items.length > 0 && (
        <>
          {active && (
            <div class="current">
              <p>
                Running: <a href={`/releases/${path}/${active.release_number}`}>#{active.release_number}</a>, {active.kind} by{' '}
                {active.deployed_by}, <Time at={active.deployed_at} />.
              </p>
              <Timeline base={base} />
              <RollbackForm target={{ repository, project, environment }} onDone={list.reload} />
            </div>
          )}
          <h2>History</h2>
          <div class="table-wrap">
            <table class="list history">
              <thead>
                <tr>
                  <th scope="col">Release</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Status</th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                  <th scope="col">GitOps commit</th>
                  <th scope="col">Notes</th>
                </tr>
              </thead>
              <tbody>
                {l.items.map((d) => (
                  <tr class={d.status}>
                    <td data-label="Release">
                      <a href={`/releases/${path}/${d.release_number}`}>#{d.release_number}</a>
                      {d.previous_release_number != null && <span class="meta"> from #{d.previous_release_number}</span>}
                    </td>
                    <td data-label="Kind">
                      <span class={`badge ${d.kind}`}>{d.kind}</span>
                    </td>
                    <td data-label="Status">
                      <span class={`status ${d.status}`}>{d.status}</span>
                    </td>
                    <td data-label="By">
                      {d.deployed_by}
                      {d.approved_by && d.approved_by.length > 0 && <div class="meta">approved by {d.approved_by.join(', ')}</div>}
                    </td>
                    <td data-label="When">
                      <Time at={d.deployed_at} />
                    </td>
                    <td data-label="GitOps commit">
                      {d.gitops_commit_sha ? (
                        <code title={d.gitops_commit_sha}>{d.gitops_commit_sha.slice(0, 7)}</code>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                    <td data-label="Notes">{d.error ? <span class="fail-text">{d.error}</span> : (d.reason ?? '')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} total={l.total} page={PAGE} onPage={setOffset} />
        </>
      )}
    </>
  );
}
