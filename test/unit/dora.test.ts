/** Unit tests of src/core/dora.ts (issue 15): the DORA figures of a hand-computed fixture. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DoraDeployment, doraFigures, median } from '../../src/core/dora.js';

const row = (over: Partial<DoraDeployment>): DoraDeployment => ({
  environment: 'production',
  repository: 'acme/mono',
  project: 'auth',
  committed_at: '2026-11-01T10:00:00Z',
  source_committed_at: '2026-11-01T09:00:00Z',
  healthy_at: null,
  degraded_at: null,
  sync_failed_at: null,
  rolled_back: false,
  ...over,
});

/*
 * The fixture, over 2026-11-01T00:00Z .. 2026-11-05T00:00Z (4 days), six deployments:
 *   A auth  11-01 10:00, source 09:00, healthy 10:10          → lead 4200 s
 *   B auth  11-02 10:00, source 08:00, degraded 10:05, rolled back → failure
 *   C auth  11-02 10:20 (the rollback), healthy 10:25          → lead (source 09:00 of 11-01) 91500 s; restores B: 10:25 − 10:05 = 1200 s
 *   D billing 11-03 12:00, source 11:00, sync failed 12:01 → failure
 *   E billing 11-04 09:00, source 08:30, healthy 09:30         → lead 3600 s; restores D: 09:30 − 12:01 (11-03) = 77340 s
 *   F staging auth 11-04 10:00 healthy 10:01, source 10:00  → lead 60 s
 * deployments 6 → frequency 6 / 4 = 1.5 per day
 * lead times [4200, 91500, 3600, 60] → median (3600 + 4200) / 2 = 3900
 * change failure rate 2 / 6 = 0.333
 * time to restore [1200, 77340] → median 39270
 */
const fixture: DoraDeployment[] = [
  row({ healthy_at: '2026-11-01T10:10:00Z' }),
  row({
    committed_at: '2026-11-02T10:00:00Z',
    source_committed_at: '2026-11-02T08:00:00Z',
    degraded_at: '2026-11-02T10:05:00Z',
    rolled_back: true,
  }),
  row({ committed_at: '2026-11-02T10:20:00Z', healthy_at: '2026-11-02T10:25:00Z' }),
  row({
    project: 'billing',
    committed_at: '2026-11-03T12:00:00Z',
    source_committed_at: '2026-11-03T11:00:00Z',
    sync_failed_at: '2026-11-03T12:01:00Z',
  }),
  row({
    project: 'billing',
    committed_at: '2026-11-04T09:00:00Z',
    source_committed_at: '2026-11-04T08:30:00Z',
    healthy_at: '2026-11-04T09:30:00Z',
  }),
  row({
    environment: 'staging',
    committed_at: '2026-11-04T10:00:00Z',
    source_committed_at: '2026-11-04T10:00:00Z',
    healthy_at: '2026-11-04T10:01:00Z',
  }),
];

test('the figures of the hand-computed fixture', () => {
  const f = doraFigures([...fixture].reverse(), new Date('2026-11-01T00:00:00Z'), new Date('2026-11-05T00:00:00Z'));
  assert.deepEqual(f, {
    deployments: 6,
    deployment_frequency: 1.5,
    lead_time_seconds: 3900,
    change_failure_rate: 0.333,
    time_to_restore_seconds: 39270,
    per_day: [
      { day: '2026-11-01', deployments: 1, failures: 0 },
      { day: '2026-11-02', deployments: 2, failures: 1 },
      { day: '2026-11-03', deployments: 1, failures: 1 },
      { day: '2026-11-04', deployments: 2, failures: 0 },
    ],
  });
});

test('nothing to measure: nulls, zero frequency, every day listed', () => {
  const f = doraFigures([], new Date('2026-11-01T00:00:00Z'), new Date('2026-11-03T00:00:00Z'));
  assert.deepEqual(f, {
    deployments: 0,
    deployment_frequency: 0,
    lead_time_seconds: null,
    change_failure_rate: null,
    time_to_restore_seconds: null,
    per_day: [
      { day: '2026-11-01', deployments: 0, failures: 0 },
      { day: '2026-11-02', deployments: 0, failures: 0 },
    ],
  });
});

test('a failure never restored has no time to restore; median of odd and even counts', () => {
  const f = doraFigures([fixture[1]], new Date('2026-11-01T00:00:00Z'), new Date('2026-11-05T00:00:00Z'));
  assert.deepEqual([f.change_failure_rate, f.time_to_restore_seconds], [1, null]);
  assert.deepEqual([median([3, 1, 2]), median([4, 1, 3, 2]), median([])], [2, 2.5, null]);
});
