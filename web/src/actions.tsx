/**
 * The page's write actions: approve (showing what is approved), revoke, deploy (production asks
 * for confirmation and a reason), roll back, grant a break-glass. Each shows the server's answer.
 * Also the semantic diff view the release and approval pages share.
 */
import { useState } from 'preact/hooks';
import {
  ApiError,
  type Approval,
  type ApprovalContext,
  type BreakGlass,
  type Deployment,
  get,
  type PolicyCheck,
  post,
  q,
  type SemanticDiff,
} from './api.js';
import { useData } from './data.js';
import { Empty, ErrorBox, Loading } from './ui.js';

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

/** `apps/Deployment shop/web`. */
const objectName = (k: { group: string; kind: string; namespace: string | null; name: string }) =>
  `${k.group ? `${k.group}/` : ''}${k.kind} ${k.namespace ? `${k.namespace}/` : ''}${k.name}`;
const valueText = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? 'null'));

/** Long values are cut in the middle, saying how much; the whole value is one click away (never cut silently). */
function Value({ v, kind }: { v: unknown; kind: 'old' | 'new' }) {
  const text = valueText(v);
  const [whole, setWhole] = useState(false);
  const MAX = 160;
  if (text.length <= MAX || whole) return <code class={`value ${kind}`}>{text}</code>;
  const keep = MAX / 2;
  return (
    <code class={`value ${kind}`}>
      {text.slice(0, keep)}
      <button type="button" class="link cut" onClick={() => setWhole(true)} title="Show the whole value">
        …{text.length - MAX} characters cut…
      </button>
      {text.slice(text.length - keep)}
    </code>
  );
}

/** The semantic diff: objects added, removed and changed, with each field's path, old and new value (Secret values hidden by the server). */
export function SemanticDiffView({ diff }: { diff: SemanticDiff }) {
  if (!diff.added.length && !diff.removed.length && !diff.changed.length) return <Empty>No object differs.</Empty>;
  return (
    <div class="semantic-diff" aria-label="Semantic diff">
      <p class="meta">
        {diff.added.length} added, {diff.removed.length} removed, {diff.changed.length} changed, {diff.unchanged} unchanged
      </p>
      <ul class="objects">
        {diff.added.map((k) => (
          <li class="add">
            <span class="sr">added: </span>+ {objectName(k)}
          </li>
        ))}
        {diff.removed.map((k) => (
          <li class="del">
            <span class="sr">removed: </span>− {objectName(k)}
          </li>
        ))}
        {diff.changed.map((c) => (
          <li class="changed">
            <span class="sr">changed: </span>~ {objectName(c)}
            <ul class="fields">
              {c.changes.map((f) => (
                <li>
                  <code class="path">{f.path}</code>{' '}
                  {'old' in f && (
                    <span class="del">
                      <span class="sr">old </span>
                      <Value v={f.old} kind="old" />
                    </span>
                  )}
                  {'old' in f && 'new' in f && ' → '}
                  {'new' in f && (
                    <span class="add">
                      <span class="sr">new </span>
                      <Value v={f.new} kind="new" />
                    </span>
                  )}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The aliases other than the number itself. */
const named = (c: ApprovalContext) => c.aliases.filter((a) => a !== String(c.release_number));

/** What an approval approves (issue #16): number, aliases, triggers, branches, commit, artifacts, and the diff against what runs. */
export function ApprovalContextView({ context, environment }: { context: ApprovalContext; environment: string }) {
  return (
    <div class="approval-context" aria-label={`What approving #${context.release_number} approves`}>
      <dl class="facts">
        <dt>Release</dt>
        <dd>
          #{context.release_number}
          {named(context).length > 0 && ` (${named(context).join(', ')})`} <code class="digest">{context.digest}</code>
        </dd>
        <dt>Trigger</dt>
        <dd>{context.triggers.map((t) => [t.type, t.tag ?? t.branch].filter(Boolean).join(' ')).join('; ') || 'none'}</dd>
        <dt>Branches with the commit</dt>
        <dd>{context.branches.join(', ') || 'none known'}</dd>
        <dt>Commit</dt>
        <dd>
          <code>{context.commit.sha.slice(0, 12)}</code> by {context.commit.author ?? 'unknown author'}
          <pre class="commit-message">{context.commit.message ?? '(no message)'}</pre>
        </dd>
        <dt>Artifacts</dt>
        <dd>
          {context.artifacts.length === 0
            ? 'none'
            : context.artifacts.map((a) => (
                <div>
                  {a.name} <code class="digest">{a.digest ?? 'no digest'}</code>
                </div>
              ))}
        </dd>
      </dl>
      <h4>
        {context.running
          ? `Changes from #${context.running.release_number} (runs in ${environment} now)`
          : `Nothing runs in ${environment} yet`}
      </h4>
      {context.diff && <SemanticDiffView diff={context.diff} />}
      {context.diff_unavailable && <p class="fail-text">The diff could not be computed: {context.diff_unavailable}</p>}
    </div>
  );
}

/**
 * Approve one release the approver chose for an environment (never "the latest"): what it
 * approves is shown first, the approval carries the release's digest (refused if the reference
 * now names another release), and a justification is required (DESIGN.md §7).
 */
export function ApproveForm({ target, release, onDone }: { target: Target; release: number; onDone: (a: Approval) => void }) {
  const [justification, setJustification] = useState('');
  const [id] = useState(() => `justification-${++nextId}`);
  const context = useData(
    () => get<ApprovalContext>(`/approval-context${q({ ...target, release: String(release) })}`),
    [target.repository, target.project, target.environment, release],
  );
  const action = useAction(
    () =>
      post<Approval>('/approvals', {
        ...target,
        release: String(release),
        justification: justification.trim(),
        ...(context.data ? { digest: context.data.digest } : {}),
      }),
    (a) => {
      setJustification('');
      onDone(a);
    },
  );
  return (
    <form class="action approve" onSubmit={action.go}>
      {context.error && <ErrorBox error={context.error} retry={context.reload} />}
      {!context.data && context.loading && <Loading what="what this approval approves" />}
      {context.data && <ApprovalContextView context={context.data} environment={target.environment} />}
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
      <button type="submit" disabled={action.busy || !justification.trim() || !context.data}>
        {action.busy ? 'Approving…' : `Approve #${release} for ${target.environment}`}
      </button>
    </form>
  );
}

/** Grant a break-glass request (approvers of its environment; never the requester: the server refuses that). */
export function GrantBreakGlass({ request, onDone }: { request: BreakGlass; onDone: (b: BreakGlass) => void }) {
  const [justification, setJustification] = useState('');
  const [id] = useState(() => `break-glass-${++nextId}`);
  const action = useAction(
    () => post<BreakGlass>(`/break-glass/${encodeURIComponent(request.id)}/approve`, { justification: justification.trim() }),
    onDone,
  );
  return (
    <form class="action grant" onSubmit={action.go}>
      <label for={id}>
        Why may #{request.release_number} pass the freeze of {request.environment}?
      </label>
      <input id={id} type="text" value={justification} onInput={(e) => setJustification((e.target as HTMLInputElement).value)} />
      {action.error && <Failure error={action.error} />}
      <button type="submit" class="danger" disabled={action.busy || !justification.trim()}>
        {action.busy ? 'Granting…' : `Grant break-glass for #${request.release_number}`}
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

/** Environments whose deployments from the dashboard ask for confirmation and a reason. */
export const confirmsDeployments = (environment: string, requiresApproval = false) => environment === 'production' || requiresApproval;

/**
 * Deploy a release. To production (or any environment that requires approval) it asks first:
 * a confirmation naming the release and the environment, and a reason, which the deployment
 * record keeps.
 */
export function DeployButton({
  target,
  release,
  confirm = confirmsDeployments(target.environment),
  onDone,
}: {
  target: Target;
  release: number;
  confirm?: boolean;
  onDone: (d: Deployment) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const [id] = useState(() => `deploy-reason-${++nextId}`);
  const action = useAction(
    () => post<Deployment>('/deployments', { ...target, release: String(release), ...(reason.trim() ? { reason: reason.trim() } : {}) }),
    (d) => {
      setConfirming(false);
      setReason('');
      onDone(d);
    },
  );
  if (confirm && confirming)
    return (
      <form
        class="action deploy confirm"
        aria-label={`Confirm the deployment of #${release} to ${target.environment}`}
        onSubmit={action.go}
      >
        <p>
          <strong>
            Deploy #{release} of {target.project} to {target.environment}?
          </strong>{' '}
          It replaces what runs there now.
        </p>
        <label for={id}>Reason for deploying to {target.environment} (required)</label>
        <input id={id} type="text" required value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        {action.error && <Failure error={action.error} />}
        <div class="buttons">
          <button type="submit" class="danger" disabled={action.busy || !reason.trim()}>
            {action.busy ? `Deploying to ${target.environment}…` : `Confirm: deploy #${release} to ${target.environment}`}
          </button>
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      </form>
    );
  return (
    <div class="action deploy">
      <button type="button" onClick={() => (confirm ? setConfirming(true) : action.go())} disabled={action.busy}>
        {action.busy ? `Deploying to ${target.environment}…` : `Deploy #${release} to ${target.environment}${confirm ? '…' : ''}`}
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
