/**
 * `forge doctor`: looks for disagreements between the database, the release store and the
 * GitOps repository of a running installation, and reports each one (`runDoctor`, which only
 * reads). `repairDoctor` (`forge doctor --repair`) adopts what the GitOps branch tip holds into
 * the database, audited, then checks again.
 */
import type { DoctorRepair, DoctorReport, Finding } from '../contract/index.js';
import { ForgeError } from '../core/errors.js';
import { imageRepository } from '../core/identity.js';
import { parseReleaseManifest } from '../core/release-image.js';
import type { ReleaseStore } from '../registry/index.js';
import { verifyAudit } from '../store/audit.js';
import { driftedSlots } from '../store/cluster-outcomes.js';
import type { Db } from '../store/db.js';
import type { DeployContext } from './deployment-context.js';
import { adoptGitTruth, compareWithGit } from './gitops-truth.js';
import { signatureFindings } from './signing-keys.js';

export async function runDoctor(ctx: { db: Db; store: ReleaseStore; deploy?: DeployContext }): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const { db, store } = ctx;

  const gaps = await db.query<{ repository: string; project: string; max: number; count: number }>(
    `select repository, project, max(release_number)::int as max, count(*)::int as count from releases
     group by repository, project having max(release_number) <> count(*)`,
  );
  for (const g of gaps) {
    findings.push({
      check: 'release_numbers',
      subject: `${g.repository}/${g.project}`,
      problem: `numbers run to ${g.max} but there are ${g.count} releases: a gap or a duplicate`,
    });
  }

  const releases = await db.query<{
    repository: string;
    project: string;
    commit_sha: string;
    release_number: number;
    oci_digest: string;
    resources_digest: string;
  }>(
    'select repository, project, commit_sha, release_number, oci_digest, resources_digest from releases order by repository, project, release_number',
  );
  for (const r of releases) {
    const subject = `${r.repository}/${r.project} release ${r.release_number}`;
    try {
      const manifest = await store.getManifest(imageRepository(r), r.oci_digest);
      const { resources } = parseReleaseManifest(manifest.bytes);
      if (resources.digest !== r.resources_digest) {
        findings.push({
          check: 'release_images',
          subject,
          problem: `the image's resources layer is ${resources.digest}, the database says ${r.resources_digest}`,
        });
      }
    } catch (err) {
      findings.push({
        check: 'release_images',
        subject,
        problem: `image ${r.oci_digest} cannot be read from ${store.registry}: ${(err as Error).message}`,
      });
    }
  }

  let activeCount = 0;
  let pointerCount = 0;
  if (ctx.deploy) {
    // Git's truth against the database's, slot by slot (gitops-truth.ts): outside rewrites,
    // reverts, hand edits, deleted pointers, live pointers of deployments recorded failed, and
    // pointers of environments the platform config no longer has.
    activeCount = (await db.query<{ n: number }>(`select count(*)::int as n from deployments where status = 'active'`))[0].n;
    const { pointers, disagreements } = await compareWithGit(ctx.deploy);
    pointerCount = pointers;
    for (const d of disagreements) {
      findings.push({
        check: d.orphaned ? 'environments' : 'pointers',
        subject: `${d.environment}: ${d.repository}/${d.project}`,
        problem: `${d.problem}${d.adoptable ? ' (forge doctor --repair adopts what git holds)' : ''}`,
      });
    }
    const stuck = await db.query<{ id: string; environment: string; repository: string; project: string }>(
      `select id, environment, repository, project from deployments where status = 'pending' and (lease_expires_at is null or lease_expires_at < now())`,
    );
    for (const s of stuck) {
      findings.push({
        check: 'pending_deployments',
        subject: `${s.environment}: ${s.repository}/${s.project}`,
        problem: `deployment ${s.id} is pending with an expired lease; a replica's recovery sweep should complete or fail it`,
      });
    }
  }

  // What Argo CD last reported against what the database records (issue 15).
  for (const d of await driftedSlots(db)) {
    findings.push({
      check: 'argocd_drift',
      subject: `${d.environment}: ${d.repository}/${d.project}`,
      problem: `Argo CD reported revision ${d.revision} at ${d.observed_at}; the active deployment's commit is ${d.gitops_commit_sha ?? 'none'} (not synced yet, or the cluster runs something else)`,
    });
  }

  const audit = await verifyAudit(db);
  if (!audit.ok)
    findings.push({
      check: 'audit_chain',
      subject: `entry ${audit.first_broken}`,
      problem: 'the audit hash chain is broken here (an entry was edited, removed or reordered)',
    });

  // Every release's signature against the installation's key set (issue 13 item 5, signing-keys.ts).
  findings.push(...(await signatureFindings(ctx)));

  return {
    ok: findings.length === 0,
    checked: { releases: releases.length, active_deployments: activeCount, pointer_files: pointerCount, audit_entries: audit.checked },
    findings,
  };
}

/**
 * POST /doctor/repair: makes the database follow the GitOps branch tip wherever they disagree
 * and git's side can be adopted (gitops-truth.ts `adoptGitTruth`, one `deployment.adopted` audit
 * entry by `actor` per slot), then runs the doctor again. 409 `conflict` without a GitOps repository.
 */
export async function repairDoctor(ctx: { db: Db; store: ReleaseStore; deploy?: DeployContext }, actor: string): Promise<DoctorRepair> {
  if (!ctx.deploy) throw new ForgeError('conflict', 'this server has no GitOps repository: nothing to repair from');
  const { adopted } = await adoptGitTruth(ctx.deploy, actor);
  return { adopted, report: await runDoctor(ctx) };
}
