/** Unit tests of src/core/audit-chain.ts: each audit entry commits to the one before it (DESIGN.md §11). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AuditEntry, CHAIN_START, entryHash, GENESIS_HASH, verifyChain } from '../../src/core/audit-chain.js';

/** A valid chain of n entries. */
function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body = {
      seq,
      at: `2026-01-01T00:00:0${seq}.000Z`,
      actor: 'ci@example.com',
      action: 'release.created',
      subject: `acme/mono/p/${seq}`,
      details: { n: seq },
      prev_hash: prev,
    };
    const hash = entryHash(body);
    out.push({ ...body, hash });
    prev = hash;
  }
  return out;
}

test('the hash covers every field but itself, independent of key order in details', () => {
  const [e] = chain(1);
  assert.match(e.hash, /^[0-9a-f]{64}$/);
  assert.equal(entryHash({ ...e, details: { n: 1 } }), e.hash);
  for (const change of [
    { seq: 2 },
    { at: 'x' },
    { actor: 'x' },
    { action: 'x' },
    { subject: 'x' },
    { details: { n: 2 } },
    { prev_hash: '1'.repeat(64) },
  ]) {
    assert.notEqual(entryHash({ ...e, ...change }), e.hash, JSON.stringify(change));
  }
  const a = entryHash({ ...e, details: { x: 1, y: 2 } });
  assert.equal(entryHash({ ...e, details: { y: 2, x: 1 } }), a);
});

test('an intact chain verifies and says where the next entry must continue', () => {
  const entries = chain(3);
  assert.deepEqual(verifyChain(entries), { ok: true, checked: 3, next: { seq: 4, prev: entries[2].hash } });
  assert.deepEqual(verifyChain([]), { ok: true, checked: 0, next: CHAIN_START });
});

test('a long log is verified page by page', () => {
  const entries = chain(5);
  const first = verifyChain(entries.slice(0, 2));
  assert.deepEqual(verifyChain(entries.slice(2), first.next), verifyChain(entries));
});

test('an edited entry is named', () => {
  const entries = chain(3);
  entries[1] = { ...entries[1], actor: 'mallory@example.com' };
  const r = verifyChain(entries);
  assert.equal(r.ok, false);
  assert.equal(r.checked, 1);
  assert.equal(r.first_broken, 2);
  assert.equal(r.reason, 'entry 2 (release.created acme/mono/p/2) was edited: its content does not match its hash');
});

test('a removed entry is named, at the end of the walk and in the middle', () => {
  const entries = chain(3);
  const r = verifyChain([entries[0], entries[2]]);
  assert.deepEqual([r.ok, r.checked, r.first_broken, r.reason], [false, 1, 2, 'entry 2 is missing: the entry after 1 is 3']);
});

test('a re-numbered entry (removed and the rest renumbered, or moved) breaks the link to its predecessor', () => {
  const entries = chain(3);
  const moved = { ...entries[2], seq: 2 };
  const r = verifyChain([entries[0], moved]);
  assert.deepEqual([r.ok, r.first_broken], [false, 2]);
  assert.match(r.reason!, /^entry 2 \(release.created acme\/mono\/p\/3\) does not follow entry 1: entries were removed or reordered$/);
});
