/**
 * The CLI of issue #16 against a real server: `forge freeze list`, `forge break-glass
 * request|approve|list` (the requester cannot grant), `forge approvals context` and `forge
 * approve --digest`, each with `--help` and `-o json`, errors on stderr with a non-zero exit.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Forge, releaseBody, runCli, sha, startForge, tempDir } from './support/forge.js';

// a one-off window in force now (a window may last at most 366 days): from 30 days ago to 300 days ahead
const DAY = 86_400_000;
const midnight = (ms: number) => new Date(Math.floor(ms / DAY) * DAY).toISOString().replace('.000Z', 'Z');
const FROM = midnight(Date.now() - 30 * DAY);
const TO = midnight(Date.now() + 300 * DAY);

let forge: Forge;
let env: Record<string, string>;
const tokens: Record<string, string> = {};
const dir = tempDir();
before(async () => {
  const config = join(dir, 'forge.yaml');
  writeFileSync(
    config,
    [
      'environments:',
      '  production:',
      '    promotion_policy: { allowed_triggers: [tag, manual, branch_push] }',
      '    freeze_windows:',
      `      - { name: year-end, from: "${FROM}", to: "${TO}", applies_to: [manual] }`,
      '      - { name: weekly, schedule: "0 18 * * fri", duration: 62h, timezone: Europe/Berlin }',
    ].join('\n'),
  );
  forge = await startForge({ env: { FORGE_CONFIG: config } });
  const ci = await forge.token(['service-account'], 'ci@acme.test');
  tokens.dora = await forge.token(['deployer:production', 'approver:production'], 'dora@acme.test');
  tokens.bob = await forge.token(['approver:production'], 'bob@acme.test');
  for (const n of [1, 2]) {
    const r = await forge.api('POST', '/releases', releaseBody({}, sha(n)), ci);
    assert.equal(r.status, 201, r.text);
  }
  env = { FORGE_URL: forge.url };
});
after(() => forge.stop());

const cli = (who: string, args: string[]) => runCli([...args, '--repository', 'acme/mono'], { env: { ...env, FORGE_TOKEN: tokens[who] } });

test('forge freeze list: the windows in force and the next ones', async () => {
  const r = await runCli(['freeze', 'list', '--at', '2026-06-03T12:00:00Z', '-o', 'json'], { env: { ...env, FORGE_TOKEN: tokens.bob } });
  assert.equal(r.code, 0, r.stderr);
  const w = JSON.parse(r.stdout);
  assert.deepEqual(w.current, [], 'year-end starts later');
  assert.equal(w.next[0].window, 'weekly');
  assert.equal(w.next[0].start, '2026-06-05T16:00:00.000Z');
  const table = await runCli(['freeze', 'list', '--at', '2026-06-03T12:00:00Z'], { env: { ...env, FORGE_TOKEN: tokens.bob } });
  const now = await runCli(['freeze', 'list'], { env: { ...env, FORGE_TOKEN: tokens.bob } });
  assert.match(now.stdout, /IN FORCE\s+production\s+year-end/);
  assert.match(table.stdout, /next\s+production\s+weekly\s+2026-06-05T16:00:00.000Z/);
  const bad = await runCli(['freeze', 'list', '--at', 'friday'], { env: { ...env, FORGE_TOKEN: tokens.bob } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /RFC 3339/);
  const feb30 = await runCli(['freeze', 'list', '--at', '2026-02-30T10:00:00Z'], { env: { ...env, FORGE_TOKEN: tokens.bob } });
  assert.equal(feb30.code, 1);
  assert.match(feb30.stderr, /"2026-02-30T10:00:00Z" is not a valid time: February 2026 has no day 30/);
  assert.equal((await runCli(['freeze', 'list', '--help'])).code, 0);
});

test('forge break-glass: request, the requester cannot grant, another approver can; the deploy then passes', async () => {
  const refused = await cli('dora', ['deploy', 'production', 'auth-service', '1']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`freeze: frozen by window "year-end" until ${TO}`));
  const asked = await cli('dora', ['break-glass', 'request', 'production', 'auth-service', '1', '--reason', 'INC-7', '-o', 'json']);
  assert.equal(asked.code, 0, asked.stderr);
  const { id, status } = JSON.parse(asked.stdout);
  assert.equal(status, 'requested');
  const self = await runCli(['break-glass', 'approve', id, '-j', 'mine'], { env: { ...env, FORGE_TOKEN: tokens.dora } });
  assert.equal(self.code, 1);
  assert.match(self.stderr, /may not grant it: a second person with approver:production must/);
  const granted = await runCli(['break-glass', 'approve', id, '-j', 'CAB ok'], { env: { ...env, FORGE_TOKEN: tokens.bob } });
  assert.equal(granted.code, 0, granted.stderr);
  assert.match(granted.stdout, /granted\s+\S+ by bob@acme.test: CAB ok/);
  const list = await runCli(['break-glass', 'list', '--status', 'granted', '-o', 'json'], { env: { ...env, FORGE_TOKEN: tokens.bob } });
  assert.equal(JSON.parse(list.stdout).items[0].id, id);
  const deployed = await cli('dora', ['deploy', 'production', 'auth-service', '1', '--reason', 'INC-7']);
  assert.equal(deployed.code, 0, deployed.stderr);
  // the deployment names its grant (table and JSON), and the grant shows why and who
  assert.match(deployed.stdout, new RegExp(`break-glass\\s+${id} \\(forge break-glass show ${id}\\)`));
  const history = await cli('bob', ['history', 'production', 'auth-service', '-o', 'json']);
  assert.equal(JSON.parse(history.stdout).items[0].break_glass_id, id);
  const shown = await runCli(['break-glass', 'show', id], { env: { ...env, FORGE_TOKEN: tokens.bob } });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /asked\s+\S+ by dora@acme.test: INC-7/);
  assert.match(shown.stdout, /granted\s+\S+ by bob@acme.test: CAB ok/);
  assert.equal(
    JSON.parse((await runCli(['break-glass', 'show', id, '-o', 'json'], { env: { ...env, FORGE_TOKEN: tokens.bob } })).stdout).id,
    id,
  );
  const other = await cli('dora', ['deploy', 'production', 'auth-service', '2']);
  assert.equal(other.code, 1, 'the grant was for release 1 only');
  for (const sub of ['request', 'approve', 'show', 'list']) assert.equal((await runCli(['break-glass', sub, '--help'])).code, 0);
});

test('forge approvals context and forge approve --digest: what is approved, exactly that release', async () => {
  const ctx = await cli('bob', ['approvals', 'context', 'production', 'auth-service', '2', '-o', 'json']);
  assert.equal(ctx.code, 0, ctx.stderr);
  const c = JSON.parse(ctx.stdout);
  assert.equal(c.release_number, 2);
  assert.equal(c.running.release_number, 1);
  assert.deepEqual(c.diff.changed, []);
  const text = await cli('bob', ['approvals', 'context', 'production', 'auth-service', '2']);
  assert.match(text.stdout, /release\s+#2/);
  assert.match(text.stdout, /--digest sha256:/);
  const wrong = await cli('bob', ['approve', 'production', 'auth-service', '2', '-j', 'ok', '--digest', `sha256:${'0'.repeat(64)}`]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /now names release 2 .* not the release sha256:0+ that was shown/);
  const ok = await cli('bob', ['approve', 'production', 'auth-service', '2', '-j', 'reviewed', '--digest', c.digest, '-o', 'json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).context.digest, c.digest);
  const list = await runCli(['approvals', 'list'], { env: { ...env, FORGE_TOKEN: tokens.bob } });
  assert.match(list.stdout, /acme\/mono\/auth-service #2 \(main-2\)\s+main\s+bob@acme.test/);
});
