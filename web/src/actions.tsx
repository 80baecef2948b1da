/** The page's write actions: approve, revoke, deploy, roll back. Each shows the server's answer. */
import { useState } from 'preact/hooks';
import { ApiError, type Approval, type Deployment, type PolicyCheck, post } from './api.js';

function Failure({ error }: { error: Error }) {
  const checks = error instanceof ApiError ? (error.details?.checks as PolicyCheck[] | undefined) : undefined;
  return (
    <div class="field-error" role="alert">
      {error.message}
      {checks && <ChecksList checks={checks} />}
    </div>
  );
}

export function ChecksList({ checks }: { checks: PolicyCheck[] }) {
  return (
    <ul class="checks">
      {checks.map((c) => (
        <li class={c.ok ? 'ok' : 'fail'}>
          <span class="mark" aria-hidden="true">
            {c.ok ? '✓' : '✗'}
          </span>
          <span class="sr">{c.ok ? 'passes' : 'fails'}: </span>
          <strong>{c.name}</strong> {c.ok ? <span class="muted">{describe(c)}</span> : <span>{c.reason ?? describe(c)}</span>}
        </li>
      ))}
    </ul>
  );
}

function describe(c: PolicyCheck): string {
  const show = (v: unknown) => (Array.isArray(v) ? v.join(', ') || 'none' : String(v));
  return `required ${show(c.required)}, actual ${show(c.actual)}`;
}

function useAction<T>(run: () => Promise<T>, onDone: (t: T) => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const go = async (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onDone(await run());
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, go };
}

let nextId = 0;

export interface Target {
  repository: string;
  project: string;
  environment: string;
}

/** Approve a release for an environment; a justification is required (DESIGN.md §7). */
export function ApproveForm({ target, release, onDone }: { target: Target; release: number; onDone: (a: Approval) => void }) {
  const [justification, setJustification] = useState('');
  const [id] = useState(() => `justification-${++nextId}`);
  const action = useAction(
    () => post<Approval>('/approvals', { ...target, release: String(release), justification: justification.trim() }),
    (a) => {
      setJustification('');
      onDone(a);
    },
  );
  return (
    <form class="action approve" onSubmit={action.go}>
      <label for={id}>
        Why may release #{release} go to {target.environment}?
      </label>
      <textarea
        id={id}
        rows={2}
        required
        minLength={1}
        value={justification}
        onInput={(e) => setJustification((e.target as HTMLTextAreaElement).value)}
        placeholder="Justification (required)"
      />
      {action.error && <Failure error={action.error} />}
      <button type="submit" disabled={action.busy || !justification.trim()}>
        {action.busy ? 'Approving…' : `Approve #${release} for ${target.environment}`}
      </button>
    </form>
  );
}

/** Revoke, after a confirmation step: the approval stops counting at once. */
export function RevokeButton({ approval, onDone }: { approval: Approval; onDone: (a: Approval) => void }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction(() => post<Approval>(`/approvals/${encodeURIComponent(approval.id)}/revoke`, {}), onDone);
  if (!confirming)
    return (
      <button type="button" class="secondary" onClick={() => setConfirming(true)}>
        Revoke…
      </button>
    );
  return (
    <div class="action revoke" role="group" aria-label={`Revoke ${approval.approver}'s approval`}>
      <span>
        Revoke {approval.approver}'s approval of #{approval.release_number} for {approval.environment}? It stops counting at once.
      </span>
      {action.error && <Failure error={action.error} />}
      <div class="buttons">
        <button type="button" class="danger" disabled={action.busy} onClick={() => action.go()}>
          {action.busy ? 'Revoking…' : 'Revoke approval'}
        </button>
        <button type="button" class="secondary" onClick={() => setConfirming(false)}>
          Cancel
        </button>
      </div>
    </div>
  );
}

export function DeployButton({ target, release, onDone }: { target: Target; release: number; onDone: (d: Deployment) => void }) {
  const action = useAction(() => post<Deployment>('/deployments', { ...target, release: String(release) }), onDone);
  return (
    <div class="action deploy">
      <button type="button" onClick={() => action.go()} disabled={action.busy}>
        {action.busy ? `Deploying to ${target.environment}…` : `Deploy #${release} to ${target.environment}`}
      </button>
      {action.error && <Failure error={action.error} />}
    </div>
  );
}

export function RollbackForm({ target, onDone }: { target: Target; onDone: (d: Deployment) => void }) {
  const [reason, setReason] = useState('');
  const [id] = useState(() => `rollback-${++nextId}`);
  const action = useAction(
    () => post<Deployment>('/deployments/rollback', { ...target, ...(reason.trim() ? { reason: reason.trim() } : {}) }),
    (d) => {
      setReason('');
      onDone(d);
    },
  );
  return (
    <form class="action rollback" onSubmit={action.go}>
      <label for={id}>Reason for the rollback (optional)</label>
      <input id={id} type="text" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
      {action.error && <Failure error={action.error} />}
      <button type="submit" class="danger" disabled={action.busy}>
        {action.busy ? 'Rolling back…' : `Roll back ${target.project} in ${target.environment}`}
      </button>
    </form>
  );
}
