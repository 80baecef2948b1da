/** The approvals queue: releases waiting for an approver, and the approvals given, with revoke. */
import { useState } from 'preact/hooks';
import { ApproveForm, RevokeButton } from '../actions.js';
import { type Approval, get, type List, projectPath, q } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { approvalsNeeded, loadOverview } from '../overview.js';
import { Empty, ErrorBox, Heading, Loading, Time } from '../ui.js';
import { Pager } from './project.js';

const PAGE = 25;
const STATUSES = ['active', 'expired', 'revoked', ''] as const;

export function Approvals() {
  const overview = useData(loadOverview, []);
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('active');
  const [environment, setEnvironment] = useState('');
  const [offset, setOffset] = useState(0);
  const given = useData(
    () => get<List<Approval>>(`/approvals${q({ status, environment, limit: PAGE, offset })}`),
    [status, environment, offset],
  );
  const reload = () => {
    overview.reload();
    given.reload();
  };
  useLive(reload);
  const waiting = overview.data?.waiting;
  return (
    <>
      <Heading title="Approvals">Approvals</Heading>
      <h2>Waiting for approval</h2>
      {!waiting && overview.loading && <Loading what="the queue" />}
      {overview.error && <ErrorBox error={overview.error} retry={overview.reload} />}
      {waiting && waiting.length === 0 && (
        <Empty>
          Nothing waits for approval: every environment that needs one runs the latest release, or the latest release is approved.
        </Empty>
      )}
      {waiting && waiting.length > 0 && (
        <ul class="queue">
          {waiting.map((w) => {
            const path = projectPath(w.release.repository, w.release.project);
            return (
              <li class="card waiting" data-env={w.environment} data-project={w.release.project}>
                <p>
                  <a href={`/releases/${path}/${w.release.release_number}`}>
                    <strong>
                      {w.release.project} #{w.release.release_number}
                    </strong>
                  </a>{' '}
                  → <strong>{w.environment}</strong>: {approvalsNeeded(w.state)}
                  {w.running ? (
                    <span class="meta"> (runs #{w.running.release_number} now)</span>
                  ) : (
                    <span class="meta"> (nothing runs there yet)</span>
                  )}
                </p>
                <ApproveForm
                  target={{ repository: w.release.repository, project: w.release.project, environment: w.environment }}
                  release={w.release.release_number}
                  onDone={reload}
                />
              </li>
            );
          })}
        </ul>
      )}

      <h2>Approvals given</h2>
      <div class="filters">
        <label>
          Status{' '}
          <select
            value={status}
            onChange={(e) => {
              setStatus((e.target as HTMLSelectElement).value as typeof status);
              setOffset(0);
            }}
          >
            {STATUSES.map((s) => (
              <option value={s}>{s || 'any'}</option>
            ))}
          </select>
        </label>
        <label>
          Environment{' '}
          <select
            value={environment}
            onChange={(e) => {
              setEnvironment((e.target as HTMLSelectElement).value);
              setOffset(0);
            }}
          >
            <option value="">any</option>
            {overview.data?.environments.map((e) => (
              <option value={e.name}>{e.name}</option>
            ))}
          </select>
        </label>
      </div>
      {!given.data && given.loading && <Loading what="approvals" />}
      {given.error && <ErrorBox error={given.error} retry={given.reload} />}
      {given.data && given.data.items.length === 0 && (
        <Empty>
          No {status || ''} approvals{environment ? ` in ${environment}` : ''}.
        </Empty>
      )}
      {given.data && given.data.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="list approvals">
              <thead>
                <tr>
                  <th scope="col">Release</th>
                  <th scope="col">Environment</th>
                  <th scope="col">Approver</th>
                  <th scope="col">Justification</th>
                  <th scope="col">Approved</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {given.data.items.map((a) => (
                  <tr class={a.status} data-approval={a.id}>
                    <td data-label="Release">
                      <a href={`/releases/${projectPath(a.repository, a.project)}/${a.release_number}`}>
                        {a.project} #{a.release_number}
                      </a>
                    </td>
                    <td data-label="Environment">{a.environment}</td>
                    <td data-label="Approver">{a.approver}</td>
                    <td data-label="Justification" class="message">
                      {a.justification}
                    </td>
                    <td data-label="Approved">
                      <Time at={a.approved_at} />
                    </td>
                    <td data-label="Expires">
                      <Time at={a.expires_at} />
                    </td>
                    <td data-label="Status">
                      <span class={`status ${a.status}`}>{a.status}</span>
                      {a.status === 'active' && <RevokeButton approval={a} onDone={reload} />}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} total={given.data.total} page={PAGE} onPage={setOffset} />
        </>
      )}
    </>
  );
}
