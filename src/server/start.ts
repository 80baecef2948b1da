/** Starts `forge serve`: database, release store, token key, HTTP app; stops cleanly on SIGINT/SIGTERM. */
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { openReleaseStore } from '../registry/index.js';
import { startArgocdLoop } from '../services/argocd-poller.js';
import { type OpenDeployContext, openServerDeployments } from '../services/deployment-runtime.js';
import { releaseCache } from '../services/release-cache.js';
import { ensureInstallationKey } from '../services/signing-keys.js';
import { revocationList } from '../services/token-revocations.js';
import { startWebhookDispatcher, subscribeReceivers } from '../services/webhooks.js';
import { loadOrCreateSigningKey } from '../signing/index.js';
import { type Db, openPglite, openPostgres } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { buildApp } from './app.js';
import { serverAuthenticator } from './auth.js';
import { lockDataDir, restrictDataDir } from './data-dir-lock.js';
import type { Settings } from './settings.js';
import { loadOrCreateTokenKey, tokenKeyPath } from './tokens.js';

export async function startServer(settings: Settings, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
  // V8 reads this flag each time it sets the heap's next limit, so it holds from the next full
  // collection on (settings.ts heapGrowthPercent; issue #18 acceptance 7). 0 keeps V8's own rule.
  if (settings.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${settings.heapGrowthPercent}`);
  // With PostgreSQL the data directory still holds keys and the OCI layout: restrict it too.
  if (settings.databaseUrl) restrictDataDir(settings.dataDir);
  const unlock = settings.databaseUrl ? () => {} : lockDataDir(settings.dataDir);
  let db: Db | undefined;
  let deploy: OpenDeployContext | undefined;
  try {
    db = settings.databaseUrl
      ? await openPostgres(settings.databaseUrl, 20, {
          lockWaitMs: settings.databaseLockWaitMs,
          idleInTransactionMs: settings.databaseIdleTransactionMs,
        })
      : await openPglite(join(settings.dataDir, 'db'));
    await migrate(db);
    // the release resolution cache starts watching for changes now, so that it is usable by the first reads
    releaseCache(db, settings.releaseCacheMib * 1024 * 1024);
    const store = openReleaseStore({
      registry: settings.registry,
      dataDir: settings.dataDir,
      username: settings.registryUsername,
      password: settings.registryPassword,
      insecure: settings.registryInsecure,
      timeoutMs: settings.registryTimeoutMs,
      tokenRealmHosts: settings.registryTokenRealmHosts,
    });
    const key = loadOrCreateTokenKey(settings.tokenKeyFile ?? tokenKeyPath(settings.dataDir));
    const revocations = revocationList(db);
    if (settings.legacyTokensUntil && settings.legacyTokensUntil.getTime() > Date.now())
      log(
        `warning: tokens issued before tokens had an id (no jti or exp) are accepted until ${settings.legacyTokensUntil.toISOString()} (FORGE_LEGACY_TOKENS_UNTIL); replace them with "forge token create"`,
      );
    // The installation's key set decides which keys may sign (issue 13 item 5): on PostgreSQL a
    // replica with a key the installation does not know refuses to start.
    const signingKeyFile = settings.signingKeyFile ?? join(settings.dataDir, 'signing-key.pem');
    const signingKey = loadOrCreateSigningKey(signingKeyFile);
    await ensureInstallationKey(db, signingKey, { shared: !!settings.databaseUrl, keyFile: signingKeyFile });
    deploy = await openServerDeployments(settings, db);
    // Webhook receivers are subscribed before the server answers (issue #13 item 9): each gets
    // the events from now on, never the history, and none of the first requests' events is lost.
    // Webhooks off: every subscription is marked absent (review F7), so re-enabling starts from then.
    await subscribeReceivers(db, settings.webhooks);
    const app = await buildApp(
      {
        settings,
        db,
        store,
        auth: serverAuthenticator(key, settings.oidc, {
          maxLifetimeSeconds: settings.tokenMaxLifetimeSeconds,
          legacyUntil: settings.legacyTokensUntil,
          revocations,
          warn: (message) => log(`warning: ${message}`),
        }),
        revocations,
        deploy,
        signingKey,
      },
      { logger: settings.log },
    );
    const address = await app.listen({ host: settings.host, port: settings.port });
    log(
      `forge listening on ${address} (database: ${settings.databaseUrl ? 'PostgreSQL' : `PGlite in ${settings.dataDir}`}, registry: ${store.registry})`,
    );
    const webhooks = settings.webhooks ? startWebhookDispatcher(db, settings.webhooks, log) : undefined;
    const stopArgocd = deploy ? startArgocdLoop(deploy, settings.argocd, log) : undefined;
    log(`create a token: forge token create --subject you@example.com --role operator --data-dir ${settings.dataDir}`);
    const stop = async () => {
      await app.close();
      await stopArgocd?.();
      await webhooks?.stop();
      await deploy!.close();
      await db!.close();
      unlock();
    };
    return { app, address, stop };
  } catch (err) {
    await deploy?.close().catch(() => {});
    await db?.close().catch(() => {});
    unlock();
    throw err;
  }
}
