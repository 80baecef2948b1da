/** The audit head anchor (issue 13 item 8): the trailer's format, parsing, and the comparison with the log, for every kind of break. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditHeadTrailer, checkAnchors, parseAuditHead, withTrailers } from '../../src/core/audit-anchor.js';

const h = (c: string) => c.repeat(64);
const anchor = (seq: number, hash: string, commit = 'c'.repeat(40)) => ({ commit, seq, hash });

test('the trailer round-trips, and only what Forge writes parses', () => {
  const line = auditHeadTrailer({ seq: 42, hash: h('a') });
  assert.equal(line, `Forge-Audit-Head: 42 ${h('a')}`);
  assert.deepEqual(parseAuditHead(line.split(': ')[1]), { seq: 42, hash: h('a') });
  for (const bad of [
    '',
    '0 ' + h('a'),
    `-1 ${h('a')}`,
    `42 ${h('A')}`,
    `42 ${'a'.repeat(63)}`,
    `42  ${h('a')}`,
    `4x ${h('a')}`,
    `42 ${h('a')} extra`,
    `99999999999999999 ${h('a')}`,
  ])
    assert.equal(parseAuditHead(bad), null, bad);
  assert.throws(() => auditHeadTrailer({ seq: 0, hash: h('a') }));
  assert.throws(() => auditHeadTrailer({ seq: 1, hash: 'x\nForge-Audit-Head: 9 y' }));
});

test('trailers go in the last paragraph, one per line; a multi-line trailer is refused', () => {
  assert.equal(withTrailers('Deploy x\n\nBody\n', ['A: 1', 'B: 2']), 'Deploy x\n\nBody\n\nA: 1\nB: 2\n');
  assert.equal(withTrailers('Deploy x\n', []), 'Deploy x\n');
  assert.throws(() => withTrailers('m', ['A: 1\nB: 2']), /one line/);
});

test('anchors against the log: intact, entries removed from the end, a rewritten entry, none at all', () => {
  const log = new Map([
    [3, h('3')],
    [7, h('7')],
  ]);
  assert.deepEqual(checkAnchors([], new Map(), 0), { ok: true, checked: 0 }, 'no anchor: history before the first stays valid');
  const ok = checkAnchors([anchor(7, h('7')), anchor(3, h('3'))], log, 9);
  assert.equal(ok.ok, true);
  assert.equal(ok.newest?.seq, 7);
  const cut = checkAnchors([anchor(3, h('3')), anchor(7, h('7'))], new Map([[3, h('3')]]), 5);
  assert.equal(cut.ok, false);
  assert.equal(cut.first_broken, 6);
  assert.match(cut.reason!, /entries 6 to 7 were removed/);
  const emptied = checkAnchors([anchor(3, h('3'))], new Map(), 0);
  assert.equal(emptied.first_broken, 1, 'an emptied log is broken from entry 1');
  const rewritten = checkAnchors([anchor(3, h('x')), anchor(7, h('y'))], log, 9);
  assert.equal(rewritten.first_broken, 3, 'the earliest contradicted anchor is named');
  assert.match(rewritten.reason!, /entry 3 is not the entry GitOps commit c{12} anchored/);
  const hole = checkAnchors([anchor(3, h('3')), anchor(7, h('7'))], new Map([[7, h('7')]]), 9);
  assert.equal(hole.first_broken, 3, 'an anchored entry missing in the middle');
});
