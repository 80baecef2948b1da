/**
 * The audit chain's head anchored in git (issue 13 item 8, DESIGN.md §11): every GitOps commit
 * Forge makes carries the trailer `Forge-Audit-Head: <seq> <hash>` — the newest audit entry
 * when the commit was built. `forge audit verify` then checks the database's chain against the
 * anchors, so removing the newest entries (which leaves a shorter chain that is still intact)
 * is found as long as a commit anchored one of them. Pure: formatting and parsing only.
 */

export const AUDIT_HEAD_TRAILER = 'Forge-Audit-Head';

/** One anchor: the audit entry `seq` whose hash was `hash` when GitOps commit `commit` was made. */
export interface AuditAnchor {
  commit: string;
  seq: number;
  hash: string;
}

/** `Forge-Audit-Head: 42 <64 hex>`; `seq` ≥ 1, `hash` the entry's sha256 (hex). */
export function auditHeadTrailer(head: { seq: number; hash: string }): string {
  if (!Number.isSafeInteger(head.seq) || head.seq < 1 || !/^[0-9a-f]{64}$/.test(head.hash))
    throw new Error(`not an audit head: ${head.seq} ${head.hash}`);
  return `${AUDIT_HEAD_TRAILER}: ${head.seq} ${head.hash}`;
}

/** Parses a trailer's value (`<seq> <hash>`); null when it is not one Forge wrote. */
export function parseAuditHead(value: string): { seq: number; hash: string } | null {
  const m = /^\s*([1-9][0-9]{0,15}) ([0-9a-f]{64})\s*$/.exec(value);
  if (!m || !Number.isSafeInteger(Number(m[1]))) return null;
  return { seq: Number(m[1]), hash: m[2] };
}

/**
 * A commit message with trailers appended as git reads them: the message's own text, one blank
 * line, then one trailer per line (the last paragraph). No trailers: the message unchanged.
 */
export function withTrailers(message: string, trailers: string[]): string {
  if (!trailers.length) return message;
  for (const t of trailers) if (/[\r\n]/.test(t)) throw new Error(`a trailer must be one line: ${JSON.stringify(t)}`);
  return `${message.trimEnd()}\n\n${trailers.join('\n')}\n`;
}

export interface AnchorCheck {
  ok: boolean;
  /** The seq of the first entry the anchors show was removed or rewritten. */
  first_broken?: number;
  reason?: string;
  /** The newest anchor found in git, if any. */
  newest?: AuditAnchor;
  /** How many anchors were compared. */
  checked: number;
}

/**
 * Compares anchors (any order) with the entries the database holds at those seqs (`found`:
 * seq → hash) and the newest seq it holds (`latest`, 0 when empty). An anchor beyond `latest`
 * means entries were removed from the end; a hash that differs means the log was rewritten.
 * No anchors: nothing to compare, which is how history before the first anchored commit reads.
 */
export function checkAnchors(anchors: AuditAnchor[], found: Map<number, string>, latest: number): AnchorCheck {
  if (!anchors.length) return { ok: true, checked: 0 };
  const sorted = [...anchors].sort((a, b) => b.seq - a.seq);
  const newest = sorted[0];
  if (newest.seq > latest) {
    return {
      ok: false,
      first_broken: latest + 1,
      newest,
      checked: anchors.length,
      reason: `entries ${latest + 1} to ${newest.seq} were removed: GitOps commit ${newest.commit.slice(0, 12)} anchors entry ${newest.seq}, but the log ends at ${latest}`,
    };
  }
  // Oldest first, so the earliest rewritten entry is the one named.
  for (const a of [...sorted].reverse()) {
    const hash = found.get(a.seq);
    if (hash !== a.hash) {
      return {
        ok: false,
        first_broken: a.seq,
        newest,
        checked: anchors.length,
        reason: `entry ${a.seq} is not the entry GitOps commit ${a.commit.slice(0, 12)} anchored (hash ${a.hash.slice(0, 12)}…, the log has ${hash ? `${hash.slice(0, 12)}…` : 'none'}): the log was rewritten at or before it`,
      };
    }
  }
  return { ok: true, newest, checked: anchors.length };
}
