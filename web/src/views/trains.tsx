/** Release trains (issue #17): every train, and one train's members and deployments (each one GitOps commit). */
import { useState } from 'preact/hooks';
import type { Train, TrainDeployment } from '../../../src/contract/index.js';
import { get, type List, projectPath, q } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { Digest, Empty, ErrorBox, Heading, Loading, Time } from '../ui.js';
import { Pager } from './project.js';

const PAGE = 25;

/** `/trains`: every train, newest first. */
export function Trains() {
  const [offset, setOffset] = useState(0);
  const list = useData(() => get<List<Train>>(`/trains${q({ limit: PAGE, offset })}`), [offset]);
  useLive(list.reload);
  const l = list.data;
  return (
    <>
      <Heading title="Release trains">Release trains</Heading>
      <p class="meta">
        A train is a named, immutable set of releases of several projects, deployed to an environment in one GitOps commit (
        <code>forge train create</code>, <code>forge train deploy</code>).
      </p>
      {!l && list.loading && <Loading what="the trains" />}
      {list.error && <ErrorBox error={list.error} retry={list.reload} />}
      {l && l.items.length === 0 && <Empty>No train has been created yet.</Empty>}
      {l && l.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="list trains">
              <thead>
                <tr>
                  <th scope="col">Train</th>
                  <th scope="col">Members</th>
                  <th scope="col">Created by</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {l.items.map((t) => (
                  <tr>
                    <td data-label="Train">
                      <a href={`/trains/${encodeURIComponent(t.name)}`}>{t.name}</a>
                    </td>
                    <td data-label="Members">
                      {t.members
                        .slice(0, 5)
                        .map((m) => `${m.project} #${m.release_number}`)
                        .join(', ')}
                      {t.members.length > 5 && <span class="meta"> and {t.members.length - 5} more</span>}
                    </td>
                    <td data-label="Created by">{t.created_by}</td>
                    <td data-label="When">
                      <Time at={t.created_at} />
                    </td>
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

/** `/trains/:train`: a train's members and its deployments and rollbacks, newest first, each with its members' outcomes. */
export function TrainPage({ train }: { train: string }) {
  const [offset, setOffset] = useState(0);
  const base = `/trains/${encodeURIComponent(train)}`;
  const t = useData(() => get<Train>(base), [base]);
  const deployments = useData(() => get<List<TrainDeployment>>(`${base}/deployments${q({ limit: PAGE, offset })}`), [base, offset]);
  useLive(deployments.reload);
  const d = deployments.data;
  return (
    <>
      <p class="crumbs">
        <a href="/trains">Release trains</a> › {train}
      </p>
      <Heading title={`Train ${train}`}>Train {train}</Heading>
      {!t.data && t.loading && <Loading what="the train" />}
      {t.error && <ErrorBox error={t.error} retry={t.reload} />}
      {t.data && (
        <>
          <p class="meta">
            Created by {t.data.created_by}, <Time at={t.data.created_at} />. Id <code>{t.data.id}</code>.
          </p>
          <h2>Members</h2>
          <div class="table-wrap">
            <table class="list train-members">
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col">Release</th>
                  <th scope="col">Digest</th>
                </tr>
              </thead>
              <tbody>
                {t.data.members.map((m) => (
                  <tr>
                    <td data-label="Project">
                      <a href={`/projects/${projectPath(m.repository, m.project)}`}>
                        {m.repository}/{m.project}
                      </a>
                    </td>
                    <td data-label="Release">
                      <a href={`/releases/${projectPath(m.repository, m.project)}/${m.release_number}`}>#{m.release_number}</a>{' '}
                      <code title={m.commit_sha}>{m.commit_sha.slice(0, 7)}</code>
                    </td>
                    <td data-label="Digest">
                      <Digest value={m.digest} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <h2>Deployments</h2>
      {!d && deployments.loading && <Loading what="the train's deployments" />}
      {deployments.error && <ErrorBox error={deployments.error} retry={deployments.reload} />}
      {d && d.items.length === 0 && <Empty>This train has not been deployed yet.</Empty>}
      {d && d.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="list train-deployments">
              <thead>
                <tr>
                  <th scope="col">Environment</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Status</th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                  <th scope="col">GitOps commit</th>
                  <th scope="col">Members</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((x) => (
                  <tr class={x.status}>
                    <td data-label="Environment">{x.environment}</td>
                    <td data-label="Kind">
                      <span class={`badge ${x.kind}`}>{x.kind}</span>
                    </td>
                    <td data-label="Status">
                      <span class={`status ${x.status}`}>{x.status}</span>
                      {x.error && <div class="fail-text">{x.error}</div>}
                    </td>
                    <td data-label="By">{x.deployed_by}</td>
                    <td data-label="When">
                      <Time at={x.deployed_at} />
                    </td>
                    <td data-label="GitOps commit">
                      {x.gitops_commit_sha ? (
                        <code title={x.gitops_commit_sha}>{x.gitops_commit_sha.slice(0, 7)}</code>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                    <td data-label="Members">
                      <ul class="train-member-outcomes">
                        {x.members.map((m) => (
                          <li>
                            <a href={`/environments/${encodeURIComponent(m.environment)}/${projectPath(m.repository, m.project)}`}>
                              {m.project}
                            </a>{' '}
                            #{m.release_number}
                            {m.previous_release_number != null && <span class="meta"> from #{m.previous_release_number}</span>}{' '}
                            <span class={`status ${m.status}`}>{m.status}</span>
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} total={d.total} page={PAGE} onPage={setOffset} />
        </>
      )}
    </>
  );
}
