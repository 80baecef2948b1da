#!/usr/bin/env node
/** The `forge` command line: every command registers itself here. */
import { Command, type CommanderError } from 'commander';
import { registerApprovals } from './commands/approvals.js';
import { registerApprove } from './commands/approve.js';
import { registerAudit } from './commands/audit.js';
import { registerBreakGlass } from './commands/break-glass.js';
import { registerCmp } from './commands/cmp.js';
import { registerDeploy } from './commands/deploy.js';
import { registerDiff } from './commands/diff.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEnv } from './commands/env.js';
import { registerFreeze } from './commands/freeze.js';
import { registerHistory } from './commands/history.js';
import { registerLogin } from './commands/login.js';
import { registerMetrics } from './commands/metrics.js';
import { registerRelease } from './commands/release.js';
import { registerReleaseCreate } from './commands/release-create.js';
import { registerReleaseVerify } from './commands/release-verify.js';
import { registerRender } from './commands/render.js';
import { registerRollback } from './commands/rollback.js';
import { registerSchema } from './commands/schema.js';
import { registerServe } from './commands/serve.js';
import { registerSigningKey } from './commands/signing-key.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';
import { registerTrain } from './commands/train.js';
import { registerUnpin } from './commands/unpin.js';
import { registerValidate } from './commands/validate.js';
import { registerVersion } from './commands/version.js';
import { registerWhoami } from './commands/whoami.js';

const program = new Command('forge')
  .description('Forge: immutable releases and GitOps deployments')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride((err: CommanderError) => {
    process.exit(['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code) ? 0 : 2);
  });

registerServe(program);
registerToken(program);
registerRelease(program);
registerDiff(program);
registerRender(program);
registerValidate(program);
registerSchema(program);
registerAudit(program);
registerSigningKey(program);
registerLogin(program);
registerWhoami(program);
registerReleaseVerify(program);
registerReleaseCreate(program);
registerCmp(program);
registerDeploy(program);
registerRollback(program);
registerUnpin(program);
registerApprove(program);
registerApprovals(program);
registerFreeze(program);
registerBreakGlass(program);
registerStatus(program);
registerHistory(program);
registerDoctor(program);
registerEnv(program);
registerTrain(program);
registerMetrics(program);
registerVersion(program);

await program.parseAsync(process.argv);
