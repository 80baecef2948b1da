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

export interface ChainCheck {
  ok: boolean;
  /** Entries found intact, from the first. */
  checked: number;
  /** The seq of the first entry that was edited, removed or moved. */
  first_broken?: number;
  /** What is wrong there, for a person. */
  reason?: string;
}

/** Where a walk along the chain stands: the seq and prev_hash the next entry must have. */
export interface ChainPosition {
  seq: number;
  prev: string;
}

export const CHAIN_START: ChainPosition = { seq: 1, prev: GENESIS_HASH };

/**
 * Walks entries in seq order from `from` (pages of a long log are walked one after another);
 * names the first entry that was edited, removed or reordered, or answers where the walk ends.
 */
export function verifyChain(entries: AuditEntry[], from: ChainPosition = CHAIN_START): ChainCheck & { next: ChainPosition } {
  let { seq, prev } = from;
  for (const e of entries) {
    const broken = (reason: string) => ({ ok: false, checked: seq - 1, first_broken: seq, reason, next: { seq, prev } });
    if (e.seq !== seq) return broken(`entry ${seq} is missing: the entry after ${seq - 1} is ${e.seq}`);
    if (e.prev_hash !== prev)
      return broken(`entry ${seq} (${e.action} ${e.subject}) does not follow entry ${seq - 1}: entries were removed or reordered`);
    if (entryHash(e) !== e.hash) return broken(`entry ${seq} (${e.action} ${e.subject}) was edited: its content does not match its hash`);
    prev = e.hash;
    seq++;
  }
  return { ok: true, checked: seq - 1, next: { seq, prev } };
}
