/** A project: its releases, newest first, and what runs in each environment. */
import { useState } from 'preact/hooks';
import { get, type List, projectPath, q, type Release } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { loadEnvironments, projectKey } from '../overview.js';
import { AliasList, Empty, ErrorBox, Heading, Loading, Time, triggerText } from '../ui.js';

const PAGE = 25;

export function ProjectPage({ repository, project }: { repository: string; project: string }) {
  const [offset, setOffset] = useState(0);
  const path = projectPath(repository, project);
  const list = useData(() => get<List<Release>>(`/releases/${path}${q({ limit: PAGE, offset })}`), [path, offset]);
  const envs = useData(loadEnvironments, []);
  useLive(() => {
    list.reload();
    envs.reload();
  });
  const key = projectKey(repository, project);
  const running = (envs.data ?? []).map((e) => ({ env: e.name, d: e.active.get(key) }));
  const l = list.data;
  return (
    <>
      <p class="crumbs">
        <a href="/">Environments</a> › {repository}
      </p>
      <Heading title={project}>{project}</Heading>
      {running.length > 0 && (
        <ul class="running" aria-label="Running in each environment">
          {running.map(({ env, d }) => (
            <li>
              <a href={`/environments/${encodeURIComponent(env)}/${path}`}>
                <strong>{env}</strong>
              </a>{' '}
              {d ? <a href={`/releases/${path}/${d.release_number}`}>#{d.release_number}</a> : <span class="muted">not deployed</span>}
            </li>
          ))}
        </ul>
      )}
      <h2>Releases</h2>
      {!l && list.loading && <Loading what="releases" />}
      {list.error && <ErrorBox error={list.error} retry={list.reload} />}
      {l && l.items.length === 0 && <Empty>This project has no releases yet.</Empty>}
      {l && l.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="list releases">
              <thead>
                <tr>
                  <th scope="col">Release</th>
                  <th scope="col">Aliases</th>
                  <th scope="col">Triggers</th>
                  <th scope="col">Commit</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {l.items.map((r) => (
                  <tr>
                    <td data-label="Release">
                      <a href={`/releases/${path}/${r.release_number}`}>#{r.release_number}</a>
                    </td>
                    <td data-label="Aliases">
                      <AliasList aliases={r.aliases} />
                    </td>
                    <td data-label="Triggers">
                      {r.triggers.map((t) => (
                        <div>{triggerText(t)}</div>
                      ))}
                    </td>
                    <td data-label="Commit">
                      <code title={r.commit_sha}>{r.commit_sha.slice(0, 7)}</code>{' '}
                      <span class="message">{r.source.message?.split('\n')[0] ?? ''}</span>
                      {r.source.author && <div class="meta">{r.source.author}</div>}
                    </td>
                    <td data-label="Created">
                      <Time at={r.created_at} />
                      <div class="meta">{r.created_by}</div>
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

export function Pager({ offset, total, page, onPage }: { offset: number; total: number; page: number; onPage: (o: number) => void }) {
  if (total <= page) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - page))}>
        Newer
      </button>
      <span>
        {offset + 1}–{Math.min(offset + page, total)} of {total}
      </span>
      <button type="button" disabled={offset + page >= total} onClick={() => onPage(offset + page)}>
        Older
      </button>
    </nav>
  );
}
