/** DORA metrics (issue 15): the four figures over a range, and deployments and failures per day as a chart. */
import { useState } from 'preact/hooks';
import { type DoraMetrics, get, q } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { ErrorBox, Heading, Loading } from '../ui.js';

const duration = (s: number | null) => {
  if (s === null) return '–';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min` : `${s} s`;
};

/** Bars per day: deployments, the failed ones in the failure colour. */
function Chart({ m }: { m: DoraMetrics }) {
  const days = m.per_day;
  const max = Math.max(1, ...days.map((d) => d.deployments));
  const w = 640;
  const h = 160;
  const bw = w / Math.max(1, days.length);
  return (
    <svg class="dora-chart" viewBox={`0 0 ${w} ${h + 20}`} role="img" aria-label="deployments and failures per day">
      {days.map((d, i) => {
        const total = (d.deployments / max) * h;
        const failed = (d.failures / max) * h;
        return (
          <g data-day={d.day}>
            <title>{`${d.day}: ${d.deployments} deployments, ${d.failures} failed`}</title>
            <rect class="bar" x={i * bw + 1} y={h - total} width={Math.max(1, bw - 2)} height={total} />
            <rect class="bar failed" x={i * bw + 1} y={h - failed} width={Math.max(1, bw - 2)} height={failed} />
          </g>
        );
      })}
      <text x="0" y={h + 16} class="axis">
        {days[0]?.day}
      </text>
      <text x={w} y={h + 16} class="axis" text-anchor="end">
        {days.at(-1)?.day}
      </text>
    </svg>
  );
}

export function Dora() {
  const [environment, setEnvironment] = useState('');
  const [days, setDays] = useState(30);
  const data = useData(
    () =>
      get<DoraMetrics>(
        `/metrics/dora${q({ environment: environment || undefined, from: new Date(Date.now() - days * 86_400_000).toISOString() })}`,
      ),
    [environment, days],
  );
  useLive(data.reload);
  const m = data.data;
  return (
    <>
      <Heading title="DORA metrics">DORA metrics</Heading>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Environment{' '}
          <input value={environment} placeholder="all" onChange={(e) => setEnvironment((e.target as HTMLInputElement).value.trim())} />
        </label>{' '}
        <label>
          Range{' '}
          <select value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
          </select>
        </label>
      </form>
      {!m && data.loading && <Loading what="the metrics" />}
      {data.error && <ErrorBox error={data.error} retry={data.reload} />}
      {m && (
        <>
          <dl class="dora">
            <div>
              <dt>Deployment frequency</dt>
              <dd>{m.deployment_frequency} per day</dd>
            </div>
            <div>
              <dt>Lead time (commit → healthy)</dt>
              <dd>{duration(m.lead_time_seconds)}</dd>
            </div>
            <div>
              <dt>Change failure rate</dt>
              <dd>{m.change_failure_rate === null ? '–' : `${Math.round(m.change_failure_rate * 1000) / 10} %`}</dd>
            </div>
            <div>
              <dt>Time to restore</dt>
              <dd>{duration(m.time_to_restore_seconds)}</dd>
            </div>
          </dl>
          <Chart m={m} />
          <p class="meta">{m.deployments} deployments. Lead time and health as Argo CD reported them.</p>
        </>
      )}
    </>
  );
}
