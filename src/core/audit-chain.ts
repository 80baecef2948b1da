/** The audit log's hash chain (DESIGN.md §11): each entry commits to the one before it. */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

export interface AuditEntry {
  seq: number;
  at: string; // ISO time, millisecond precision
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, subject, details, prev_hash } = entry;
  return createHash('sha256').update(canonicalJson({ seq, at, actor, action, subject, details, prev_hash })).digest('hex');
}

/** Walks entries in seq order; returns the first one that was edited, removed or reordered. */
export function verifyChain(entries: AuditEntry[]): { ok: boolean; checked: number; first_broken?: number } {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const e of entries) {
    if (e.seq !== expectedSeq || e.prev_hash !== prev || entryHash(e) !== e.hash) {
      return { ok: false, checked: expectedSeq - 1, first_broken: e.seq === expectedSeq ? e.seq : expectedSeq };
    }
    prev = e.hash;
    expectedSeq++;
  }
  return { ok: true, checked: entries.length };
}
