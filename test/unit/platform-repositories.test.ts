/** Unit tests of `repositories.<owner/name>` in the platform config (issue #13 item 7) and the strategy it decides. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { taggingStrategyFor } from '../../src/core/aliases.js';
import { PlatformConfigError, parsePlatformConfig } from '../../src/core/platform-config.js';

const ENVS = 'environments:\n  dev:\n    promotion_policy: { allowed_triggers: [branch_push] }\n';

test('a repository may set its own tagging strategy, which wins over the request', () => {
  const c = parsePlatformConfig(`${ENVS}repositories:\n  acme/web:\n    tagging_strategy: tag-all\n  acme/mono: {}\n`);
  assert.deepEqual(c.repositories, { 'acme/web': { taggingStrategy: 'tag-all' }, 'acme/mono': {} });
  assert.equal(taggingStrategyFor(c.repositories, 'acme/web', 'monorepo'), 'tag-all');
  assert.equal(taggingStrategyFor(c.repositories, 'acme/mono', 'tag-all'), 'tag-all', 'no strategy of its own: the request');
  assert.equal(taggingStrategyFor(c.repositories, 'acme/other', undefined), 'monorepo');
  assert.equal(parsePlatformConfig(ENVS).repositories, undefined);
});

test('bad repository entries are reported with their line', () => {
  for (const [text, why] of [
    ['repositories:\n  acme:\n    tagging_strategy: tag-all\n', /expected owner\/name/],
    ['repositories:\n  Acme/Web: {}\n', /must be lower-case/],
    ['repositories:\n  acme/web:\n    tagging_strategy: all\n', /tagging_strategy must be monorepo or tag-all/],
    ['repositories:\n  acme/web:\n    strategy: tag-all\n', /unknown key "strategy"/],
  ] as const) {
    assert.throws(
      () => parsePlatformConfig(ENVS + text),
      (err: unknown) => err instanceof PlatformConfigError && why.test(err.message),
      text,
    );
  }
});
