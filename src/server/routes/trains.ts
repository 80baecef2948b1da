/** Release train routes (issue #17, DESIGN.md §10): create, read, list, deploy, roll back, approve, dry-run and compare trains. */
import {
  CreateTrainBody,
  errorResponses,
  ListOf,
  Train,
  TrainApprovals,
  TrainApproveBody,
  TrainDeployBody,
  TrainDeployment,
  TrainDeploymentsQuery,
  TrainDiff,
  TrainDiffParams,
  TrainParams,
  TrainPolicyResult,
  TrainsQuery,
} from '../../contract/index.js';
import {
  approveTrain,
  checkTrain,
  createTrain,
  diffTrains,
  getTrain,
  listTrainDeployments,
  listTrains,
  requireTrainCreator,
} from '../../services/train.js';
import { deployTrain, rollbackTrain } from '../../services/train-deploy.js';
import { authorize, principalOf } from '../auth.js';
import type { App, AppContext } from '../context.js';
import { callerOf, deployContext, permissionFirst } from './deployments.js';

const tags = ['trains'];

export async function trainRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.addSchema(Train);
  app.addSchema(TrainDeployment);

  app.post(
    '/trains',
    {
      preValidation: async (req) => requireTrainCreator(principalOf(req)),
      schema: {
        hide,
        tags,
        summary: 'Register a release train: named, immutable members, each resolved now to a release id and digest',
        body: CreateTrainBody,
        response: { 201: Train, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createTrain(deployContext(ctx), principalOf(req), req.body)),
  );

  app.get(
    '/trains',
    {
      schema: {
        hide,
        tags,
        summary: 'Every release train, newest first',
        querystring: TrainsQuery,
        response: { 200: ListOf(Train), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return listTrains(ctx, req.query);
    },
  );

  app.get(
    '/trains/:train',
    { schema: { hide, tags, summary: 'A release train, by name or id', params: TrainParams, response: { 200: Train, ...errorResponses } } },
    async (req) => {
      authorize(req, { kind: 'read' });
      return getTrain(ctx, req.params.train);
    },
  );

  app.post(
    '/trains/:train/deployments',
    {
      preValidation: permissionFirst('deploy'),
      schema: {
        hide,
        tags,
        summary: 'Deploy every member of the train to an environment in one GitOps commit; refused whole when the policy refuses a member',
        params: TrainParams,
        body: TrainDeployBody,
        response: { 201: TrainDeployment, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await deployTrain(deployContext(ctx), callerOf(req), req.params.train, req.body)),
  );

  app.get(
    '/trains/:train/deployments',
    {
      schema: {
        hide,
        tags,
        summary: "The train's deployments and rollbacks, newest first",
        params: TrainParams,
        querystring: TrainDeploymentsQuery,
        response: { 200: ListOf(TrainDeployment), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return listTrainDeployments(ctx, req.params.train, req.query);
    },
  );

  app.post(
    '/trains/:train/rollbacks',
    {
      preValidation: permissionFirst('deploy'),
      schema: {
        hide,
        tags,
        summary:
          "Roll every member of the train's newest deployment to an environment back to the release it ran before, in one commit, and pin each",
        params: TrainParams,
        body: TrainDeployBody,
        response: { 201: TrainDeployment, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await rollbackTrain(deployContext(ctx), callerOf(req), req.params.train, req.body)),
  );

  app.post(
    '/trains/:train/policy-checks',
    {
      schema: {
        hide,
        tags,
        summary: 'Dry run: would the train pass the environment policy, member by member, and why not',
        params: TrainParams,
        body: TrainDeployBody,
        response: { 200: TrainPolicyResult, ...errorResponses },
      },
    },
    async (req) => checkTrain(deployContext(ctx), authorize(req, { kind: 'read' }), req.params.train, req.body.environment),
  );

  app.post(
    '/trains/:train/approvals',
    {
      preValidation: permissionFirst('approve'),
      schema: {
        hide,
        tags,
        summary: "Approve exactly the train's member releases for an environment (one approval per release)",
        params: TrainParams,
        body: TrainApproveBody,
        response: { 201: TrainApprovals, ...errorResponses },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await approveTrain({ ...deployContext(ctx), store: ctx.store }, callerOf(req), req.params.train, req.body)),
  );

  app.get(
    '/trains/:train/diff/:other',
    {
      schema: {
        hide,
        tags,
        summary: 'Which members differ between two trains, with the semantic manifest diff of each changed member',
        params: TrainDiffParams,
        response: { 200: TrainDiff, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return diffTrains(ctx, req.params.train, req.params.other);
    },
  );
}
