/**
 * The approvals queue: releases waiting for an approver (who chooses the release to approve and
 * sees what it approves before approving), the approvals given with revoke, and break-glass
 * requests with grant (issue #16).
 */
import { useState } from 'preact/hooks';
import { ApproveForm, GrantBreakGlass, RevokeButton, type Target } from '../actions.js';
import { type Approval, type BreakGlass, get, type List, projectPath, q, type Release } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { approvalsNeeded, loadOverview } from '../overview.js';
import { Empty, ErrorBox, Heading, Loading, Time } from '../ui.js';
import { Pager } from './project.js';
import { commitWhere } from './release.js';

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
                <p class="meta where">commit {commitWhere(w.release)}</p>
                <ChooseAndApprove
                  target={{ repository: w.release.repository, project: w.release.project, environment: w.environment }}
                  onDone={reload}
                />
              </li>
            );
          })}
        </ul>
      )}

      <BreakGlassList />

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

/**
 * The approver chooses the release to approve among the project's recent ones: nothing is
 * chosen for them (the newest build is not necessarily the one meant), and what the chosen one
 * approves is shown before the approve button.
 */
function ChooseAndApprove({ target, onDone }: { target: Target; onDone: () => void }) {
  const [chosen, setChosen] = useState<number>();
  const [id] = useState(() => `choose-${target.environment}-${target.project}`);
  const list = useData(
    () => get<List<Release>>(`/releases/${projectPath(target.repository, target.project)}${q({ limit: 20 })}`),
    [target.repository, target.project],
  );
  if (list.error) return <ErrorBox error={list.error} retry={list.reload} />;
  if (!list.data) return <Loading what="the releases" />;
  return (
    <div class="choose">
      <label for={id}>Release to approve for {target.environment}</label>{' '}
      <select
        id={id}
        value={chosen === undefined ? '' : String(chosen)}
        onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          setChosen(v ? Number(v) : undefined);
        }}
      >
        <option value="">Choose the release…</option>
        {list.data.items.map((r) => (
          <option value={String(r.release_number)}>
            #{r.release_number}
            {r.aliases.filter((a) => a.alias_type !== 'numeric').length
              ? ` (${r.aliases
                  .filter((a) => a.alias_type !== 'numeric')
                  .map((a) => a.alias)
                  .join(', ')})`
              : ''}{' '}
            — {(r.source.message ?? '').split('\n')[0].slice(0, 60)}
          </option>
        ))}
      </select>
      {chosen !== undefined && (
        <ApproveForm
          target={target}
          release={chosen}
          onDone={() => {
            setChosen(undefined);
            onDone();
          }}
        />
      )}
    </div>
  );
}

/** Break-glass requests (issue #16): who asked to pass which freeze with which release and why; approvers grant them here. */
function BreakGlassList() {
  const list = useData(() => get<List<BreakGlass>>(`/break-glass${q({ limit: 20 })}`), []);
  useLive(list.reload);
  if (list.error) return <ErrorBox error={list.error} retry={list.reload} />;
  if (!list.data || list.data.items.length === 0) return null;
  return (
    <>
      <h2>Break-glass</h2>
      <ul class="queue break-glass">
        {list.data.items.map((b) => (
          <li class={`card ${b.status}`} data-break-glass={b.id}>
            <p>
              <a href={`/releases/${projectPath(b.repository, b.project)}/${b.release_number}`}>
                <strong>
                  {b.project} #{b.release_number}
                </strong>
              </a>{' '}
              → <strong>{b.environment}</strong>: <span class={`status ${b.status}`}>{b.status}</span>
            </p>
            <p class="meta">
              asked by {b.requested_by} <Time at={b.requested_at} />: {b.reason}
            </p>
            {b.granted_by && (
              <p class="meta">
                granted by {b.granted_by} <Time at={b.granted_at} /> until <Time at={b.expires_at} />: {b.justification}
              </p>
            )}
            {b.status === 'requested' && <GrantBreakGlass request={b} onDone={list.reload} />}
          </li>
        ))}
      </ul>
    </>
  );
}
