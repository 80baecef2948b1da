/**
 * `forge doctor`: looks for disagreements between the database, the release store and the
 * GitOps repository of a running installation, and reports each one. It only reads.
 */
import type { DoctorReport, Finding } from '../contract/index.js';
import { imageRepository } from '../core/identity.js';
import { type PointerError, parsePointer, pointerPath } from '../core/pointer.js';
import { parseReleaseManifest } from '../core/release-image.js';
import type { ReleaseStore } from '../registry/index.js';
import { verifyAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import type { DeployContext } from './deployment-context.js';

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
    const active = await db.query<{
      id: string;
      environment: string;
      repository: string;
      project: string;
      commit_sha: string;
      oci_digest: string;
      release_number: number;
    }>(
      `select d.id, d.environment, d.repository, d.project, r.commit_sha, r.oci_digest, r.release_number
       from deployments d join releases r on r.id = d.release_id where d.status = 'active'`,
    );
    activeCount = active.length;
    const { files } = await ctx.deploy.gitops.readPointers();
    pointerCount = files.size;
    for (const d of active) {
      const path = pointerPath(d);
      const subject = `${d.environment}: ${d.repository}/${d.project}`;
      const text = files.get(path);
      files.delete(path);
      if (text === undefined) {
        findings.push({
          check: 'pointers',
          subject,
          problem: `release ${d.release_number} is active in the database but ${path} is missing from the GitOps repository`,
        });
        continue;
      }
      try {
        const p = parsePointer(text);
        if (p.release !== d.commit_sha || p.digest !== d.oci_digest) {
          findings.push({
            check: 'pointers',
            subject,
            problem: `${path} points at ${p.release.slice(0, 12)} (${p.digest}), the database's active release ${d.release_number} is ${d.commit_sha.slice(0, 12)} (${d.oci_digest})`,
          });
        }
      } catch (err) {
        findings.push({ check: 'pointers', subject, problem: `${path} is not a valid pointer: ${(err as PointerError).message}` });
      }
    }
    for (const path of files.keys()) {
      findings.push({ check: 'pointers', subject: path, problem: 'a pointer file with no active deployment in the database' });
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

  const audit = await verifyAudit(db);
  if (!audit.ok)
    findings.push({
      check: 'audit_chain',
      subject: `entry ${audit.first_broken}`,
      problem: 'the audit hash chain is broken here (an entry was edited, removed or reordered)',
    });

  return {
    ok: findings.length === 0,
    checked: { releases: releases.length, active_deployments: activeCount, pointer_files: pointerCount, audit_entries: audit.checked },
    findings,
  };
}
