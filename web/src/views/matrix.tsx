/**
 * The environments matrix: projects × environments, what runs where, what waits for approval.
 * Drawn from GET /overview (the server judges every cell with its own policy rules), all rows
 * in pages of 500 (two requests for 1,000 projects), with search and a "waits for me" filter
 * over them. A live event patches the rows of the projects it names (one request per project);
 * only a reconnect or a poll reloads the pages.
 */

import type { RefObject } from 'preact';
import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { get, type OverviewCell, type OverviewPage, type OverviewRow, projectPath, q } from '../api.js';
import { useLiveChanges } from '../live.js';
import { approvalsNeeded, loadOverviewRows, type Overview, projectKey, projectOf, type Running, waitingIn } from '../overview.js';
import { Empty, ErrorBox, Heading, Loading, Time } from '../ui.js';
import { ClusterBadge } from './cluster.js';

type Column = Overview['environments'][number];

/** `3600` → `1h`, `5400` → `1h30m`, `90` → `1m30s`. */
function gateDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}` || '0s';
}

function policySummary(e: Column): string {
  const p = e.promotion_policy;
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

/** The release train a deployment belongs to (issue #17), when the server says. */
const trainOf = (d: Running) => (d as { train?: { name?: string } | null }).train?.name;

function Cell({ cell, row }: { cell: OverviewCell; row: OverviewRow }) {
  const d = cell.running;
  const env = cell.environment;
  const waiting = cell.latest?.state === 'waiting' ? cell.latest : undefined;
  const path = projectPath(row.repository, row.project);
  const train = d && trainOf(d);
  return (
    <td data-env={env} class={waiting ? 'waiting' : undefined}>
      <span class="cell-env" aria-hidden="true">
        {env}
      </span>
      {d ? (
        <div class="deployed">
          <a
            class="release"
            href={`/releases/${path}/${d.release_number}`}
            aria-label={`${row.project} release ${d.release_number} in ${env}`}
          >
            #{d.release_number}
          </a>
          {alias(d) && <span class="alias">{alias(d)}</span>}
          {d.kind !== 'deploy' && <span class={`badge ${d.kind}`}>{d.kind}</span>}
          {train && (
            <a class="badge train" href={`/trains/${encodeURIComponent(train)}`} title={`deployed by train ${train}`}>
              train {train}
            </a>
          )}
          {d.pinned && (
            <span class="badge pinned" title="Auto-deploys skip this project here until it is unpinned">
              pinned
            </span>
          )}
          {d.release_number === row.latest_release.release_number && <span class="badge latest">latest</span>}
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
          title={`release #${waiting.release_number} needs ${waiting.approvals.required} approval(s) for ${env}`}
        >
          #{waiting.release_number} awaits approval ({approvalsNeeded(waiting.approvals)})
        </a>
      )}
      <a class="history" href={`/environments/${encodeURIComponent(env)}/${path}`}>
        history
        <span class="sr">
          {' '}
          of {row.project} in {env}
        </span>
      </a>
    </td>
  );
}

/** One project's row; drawn again only when its row (or the columns) changed: a patch redraws the rows it replaced. */
const Row = memo(function Row({ row, columns, index }: { row: OverviewRow; columns: Column[]; index: number }) {
  return (
    <tr data-project={row.project} data-repository={row.repository} aria-rowindex={index + 2}>
      <th scope="row">
        <a href={`/projects/${projectPath(row.repository, row.project)}`}>{row.project}</a>
        <div class="meta">
          {row.repository} · latest #{row.latest_release.release_number}
        </div>
      </th>
      {columns.map((e) => {
        const cell = row.environments.find((c) => c.environment === e.name);
        return cell ? <Cell cell={cell} row={row} /> : <td data-env={e.name} />;
      })}
    </tr>
  );
});

const key = (r: { repository: string; project: string }) => projectKey(r.repository, r.project);
/** The server's order: by repository, then project. */
const before = (a: OverviewRow, b: OverviewRow) => a.repository < b.repository || (a.repository === b.repository && a.project < b.project);

/** `rows` with `fresh` in place of the rows of the same projects, new projects inserted in order. */
function patched(rows: OverviewRow[], fresh: OverviewRow[]): OverviewRow[] {
  const out = [...rows];
  for (const f of fresh) {
    const at = out.findIndex((r) => key(r) === key(f));
    if (at >= 0) out[at] = f;
    else {
      const next = out.findIndex((r) => before(f, r));
      out.splice(next < 0 ? out.length : next, 0, f);
    }
  }
  return out;
}

/** Patch at most this many projects one by one; more changes at once reload the pages. */
const PATCH_MAX = 10;

function useOverview() {
  const [state, setState] = useState<{ data?: Overview; error?: Error; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const reload = () => {
    const g = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    loadOverviewRows({}, (sofar) => {
      if (g === generation.current) setState((s) => ({ ...s, data: sofar }));
    }).then(
      (data) => {
        if (g === generation.current) setState({ data, loading: false });
      },
      (error: Error) => {
        if (g === generation.current) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
  };
  const patch = async (projects: { repository: string; project: string }[]) => {
    const g = generation.current;
    try {
      const pages = await Promise.all(
        projects.map((p) => get<OverviewPage>(`/overview${q({ repository: p.repository, project: p.project, limit: 1 })}`)),
      );
      const fresh = pages.flatMap((p) => p.items);
      if (g !== generation.current) return; // a reload started meanwhile: it has them
      setState((s) => {
        if (!s.data) return s;
        const rows = patched(s.data.rows, fresh);
        return { ...s, data: { ...s.data, rows, total: s.data.total + (rows.length - s.data.rows.length) } };
      });
    } catch {
      reload();
    }
  };
  // The first load comes when the event stream is open (useLiveChanges' `initial`): nothing is missed in between.
  useLiveChanges(
    (changes) => {
      const named = changes === 'all' ? undefined : changes.map(projectOf);
      if (!named || named.some((p) => !p)) return reload();
      const distinct = [...new Map(named.map((p) => [key(p!), p!])).values()];
      if (distinct.length > PATCH_MAX) reload();
      else patch(distinct);
    },
    { initial: true },
  );
  return { ...state, reload };
}

/** Up to this many rows the table draws them all; beyond, only those near the viewport (the rest are spacers). */
const ALL_ROWS_BELOW = 200;
/** Rows drawn above and below the viewport. */
const OVERSCAN = 15;

/**
 * The rows of `count` to draw: all of them up to ALL_ROWS_BELOW, else a window around the
 * viewport (the page scrolls, not the table), estimated from the average height of the rows
 * drawn so far; `rowHeight` sizes the spacers that stand for the rest.
 */
function useRowWindow(count: number, body: RefObject<HTMLTableSectionElement | null>) {
  const [range, setRange] = useState({ start: 0, end: Math.min(count, 60), rowHeight: 80 });
  const virtual = count > ALL_ROWS_BELOW;
  const measure = () => {
    const tbody = body.current;
    if (!tbody || !virtual) return;
    const drawn = tbody.querySelectorAll<HTMLTableRowElement>('tr[data-project]');
    let height = 0;
    for (const r of drawn) height += r.offsetHeight;
    const rowHeight = drawn.length ? Math.max(20, height / drawn.length) : 80;
    const box = tbody.getBoundingClientRect();
    const above = Math.max(0, -box.top);
    const shown = Math.ceil(window.innerHeight / rowHeight);
    // Scrolled past the table's end (the estimate was short): the last rows.
    const atEnd = box.bottom <= window.innerHeight;
    const start = atEnd ? Math.max(0, count - shown - OVERSCAN) : Math.max(0, Math.min(count, Math.floor(above / rowHeight)) - OVERSCAN);
    const end = atEnd ? count : Math.min(count, Math.ceil((above + window.innerHeight) / rowHeight) + OVERSCAN);
    setRange((r) => (r.start === start && r.end === end && Math.abs(r.rowHeight - rowHeight) < 1 ? r : { start, end, rowHeight }));
  };
  useLayoutEffect(measure, [count]);
  useEffect(() => {
    if (!virtual) return;
    let frame = 0;
    const onScroll = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(measure);
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
    };
  }, [virtual, count]);
  return virtual
    ? { ...range, end: Math.min(range.end, count), start: Math.min(range.start, count) }
    : { start: 0, end: count, rowHeight: 0 };
}

/** A row standing for `rows` rows not drawn. */
function Spacer({ rows, height, columns }: { rows: number; height: number; columns: number }) {
  return rows > 0 ? (
    <tr class="spacer">
      <td aria-hidden="true" colSpan={columns} style={{ height: `${rows * height}px` }} />
    </tr>
  ) : null;
}

export function Matrix() {
  const overview = useOverview();
  const [search, setSearch] = useState('');
  const [mine, setMine] = useState(false);
  const o = overview.data;
  const needle = search.trim().toLowerCase();
  const shown = (o?.rows ?? []).filter(
    (r) => (!needle || key(r).toLowerCase().includes(needle)) && (!mine || r.environments.some((c) => c.latest?.waits_for_me)),
  );
  const complete = !!o && o.rows.length >= o.total;
  const body = useRef<HTMLTableSectionElement>(null);
  const { start, end, rowHeight } = useRowWindow(shown.length, body);
  const waiting = o ? waitingIn(o.rows).length : 0;
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
        ) : o.total === 0 ? (
          <Empty>
            No releases yet. A pipeline registers them with <code>forge release create</code>; they appear here as soon as they do.
          </Empty>
        ) : (
          <>
            <div class="filters">
              <label>
                Search projects{' '}
                <input
                  type="search"
                  value={search}
                  placeholder="owner/name/project"
                  onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
                />
              </label>
              <label>
                <input type="checkbox" checked={mine} onChange={(e) => setMine((e.target as HTMLInputElement).checked)} /> Waits for my
                approval
              </label>
              <span class="meta" role="status">
                {shown.length === o.total ? `${o.total} project${o.total === 1 ? '' : 's'}` : `${shown.length} of ${o.total} projects`}
                {!complete && ' (loading the rest…)'}
              </span>
            </div>
            {shown.length === 0 ? (
              <Empty>No project matches.</Empty>
            ) : (
              <div class="matrix-wrap">
                <table class="matrix" data-total={shown.length} aria-rowcount={shown.length + 1}>
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
                  <tbody ref={body}>
                    <Spacer rows={start} height={rowHeight} columns={o.environments.length + 1} />
                    {shown.slice(start, end).map((r, i) => (
                      <Row key={key(r)} row={r} columns={o.environments} index={start + i} />
                    ))}
                    <Spacer rows={shown.length - end} height={rowHeight} columns={o.environments.length + 1} />
                  </tbody>
                </table>
              </div>
            )}
          </>
        ))}
      {o && waiting > 0 && (
        <p class="notice">
          <a href="/approvals">
            {waiting} release{waiting === 1 ? '' : 's'} waiting for approval
          </a>
        </p>
      )}
    </>
  );
}
