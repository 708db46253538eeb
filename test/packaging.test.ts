/**
 * Packaging verified: `osls package` runs offline (no AWS credentials), and the generated
 * CloudFormation template and zips are checked against what docs/deployment.md promises. Then every
 * function runs from its own zip as deployed (lib/deploy/lambda-sandbox.ts) against the real database.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Database } from '../lib/db/database.ts';
import { checkConnectionBudget } from '../lib/deploy/connection-budget.ts';
import {
  type AwsCall,
  type Container,
  deployedFunctions,
  packageService,
  resourcesOfType,
  sqsRecord,
  startContainer,
  type Template,
} from '../lib/deploy/lambda-sandbox.ts';
import { API_ROUTES } from '../lib/http/routes.ts';
import { splitPrelude } from '../lib/http/streaming.ts';
import { apiEvent, type EventOptions } from './support/api-event.ts';
import type { FakeBedrock } from './support/bedrock-server.ts';
import { createTestDatabase, TARGET, ZIPS_SKIP } from './support/database.ts';
import { makePdf } from './support/files.ts';
import {
  ACCOUNT,
  COMMAND_ACTIONS,
  compareGrants,
  functionRoles,
  needsFromCalls,
  needsFromTemplate,
  REGION,
  resolver,
  roleStatements,
  withoutAction,
} from './support/iam-needs.ts';
import { startTestQueues, type TestQueues } from './support/queue.ts';
import { bedrockEnv, startScriptedBedrock } from './support/scripted-bedrock.ts';
import { type ScriptedLlm, startScriptedLlm } from './support/scripted-llm.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from './support/secrets-manager.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Each function's zip must stay within this (issue budget)… */
const ZIP_BUDGET_BYTES = 250 * 1024;
/** …but the parse function's, which carries pdf.js (unpdf) and runs from a queue, not per request. */
const PARSE_ZIP_BUDGET_BYTES = 1024 * 1024;
const FUNCTIONS = ['ingest', 'extract', 'parse', 'query', 'queryStream', 'documents', 'health'];

const ofType = resourcesOfType;

describe('serverless.yml packaged offline with osls', () => {
  let outDir: string;
  let template: Template;

  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'lrs-package-'));
    ({ template } = await packageService(outDir));
  });

  it('builds every function as ESM for nodejs22.x on arm64 with its own role', () => {
    const functions = ofType(template, 'AWS::Lambda::Function');
    assert.equal(functions.length, 7);
    for (const [, fn] of functions) {
      assert.equal(fn.Properties.Runtime, 'nodejs22.x');
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.ok(fn.Properties.Role['Fn::GetAtt'], 'a dedicated role, not the shared default');
    }
    const roles = ofType(template, 'AWS::IAM::Role')
      .map(([name]) => name)
      .sort();
    assert.deepEqual(roles, [
      'DocumentsRole',
      'HealthRole',
      'IngestRole',
      'ParseRole',
      'QueryRole',
    ]);
  });

  it('keeps each zip within the 250 KB budget (parse: 1 MiB)', () => {
    for (const name of FUNCTIONS) {
      const size = statSync(join(outDir, `${name}.zip`)).size;
      const budget = name === 'parse' ? PARSE_ZIP_BUDGET_BYTES : ZIP_BUDGET_BYTES;
      assert.ok(size <= budget, `${name}.zip is ${size} bytes`);
    }
  });

  it('builds into each function only what its routes use', async () => {
    const unzip = promisify(execFile);
    const source = async (name: string) =>
      (await unzip('unzip', ['-p', join(outDir, `${name}.zip`)], { maxBuffer: 64 << 20 })).stdout;
    // Bundles keep names (esbuild keepNames): a class appears as its name in a string.
    const has = (code: string, cls: string) => code.includes(`"${cls}"`);
    const health = await source('health');
    const query = await source('query');
    const documents = await source('documents');
    for (const cls of ['QueryEngine', 'IngestPipeline', 'IngestQueueClient', 'DocumentService']) {
      assert.ok(!has(health, cls), `health.zip carries ${cls}`);
    }
    assert.ok(has(query, 'QueryEngine') && !has(query, 'DocumentService'));
    assert.ok(has(documents, 'DocumentService') && !has(documents, 'QueryEngine'));
    // The parsers (pdf.js among them) live in the parse function alone.
    const parse = await source('parse');
    assert.ok(has(parse, 'UploadParser') && parse.includes('PDFDocumentProxy'));
    for (const name of ['ingest', 'extract', 'query', 'documents', 'health']) {
      const code = await source(name);
      assert.ok(
        !has(code, 'UploadParser') && !code.includes('PDFDocumentProxy'),
        `${name}.zip carries the parsers`,
      );
    }
    assert.ok(has(documents, 'UploadRequests'));
  });

  it('wires the SQS event sources: batch, window, partial responses, maximum concurrency', () => {
    const mappings = ofType(template, 'AWS::Lambda::EventSourceMapping') as Array<[string, any]>;
    const of = (queue: string) =>
      mappings.find(([, m]) =>
        JSON.stringify(m.Properties.EventSourceArn).includes(`"${queue}"`),
      )![1];
    for (const [queue, fn, concurrency] of [
      ['ExtractionQueue', 'ExtractLambdaFunction', 16],
      ['UploadsQueue', 'ParseLambdaFunction', 2],
    ] as const) {
      const m = of(queue);
      assert.match(JSON.stringify(m.Properties.FunctionName), new RegExp(fn));
      assert.equal(m.Properties.BatchSize, 1);
      assert.deepEqual(m.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
      assert.equal(m.Properties.ScalingConfig.MaximumConcurrency, concurrency);
      const q = template.Resources[queue]!.Properties;
      const timeout = template.Resources[fn]!.Properties.Timeout;
      assert.ok(q.VisibilityTimeout >= 6 * timeout, `${queue} visibility`);
      assert.equal(q.RedrivePolicy.maxReceiveCount, 3);
    }
    const mapping = of('IngestQueue');
    assert.equal(mapping.Properties.BatchSize, 10);
    assert.equal(mapping.Properties.MaximumBatchingWindowInSeconds, 5);
    assert.deepEqual(mapping.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.equal(mapping.Properties.ScalingConfig.MaximumConcurrency, 16);
    assert.deepEqual(mapping.Properties.EventSourceArn, { 'Fn::GetAtt': ['IngestQueue', 'Arn'] });
  });

  it('gives the queue a DLQ after 3 receives, 1 MiB messages and 6x the function timeout', () => {
    const queue = template.Resources.IngestQueue!.Properties;
    const ingest = template.Resources.IngestLambdaFunction!.Properties;
    assert.ok(
      queue.VisibilityTimeout >= 6 * ingest.Timeout,
      `${queue.VisibilityTimeout} vs ${ingest.Timeout}`,
    );
    assert.equal(queue.MaximumMessageSize, 1048576);
    assert.deepEqual(queue.RedrivePolicy, {
      deadLetterTargetArn: { 'Fn::GetAtt': ['IngestDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 3,
    });
    assert.equal(
      ingest.Environment.Variables.INGEST_MAX_RECEIVE_COUNT,
      '3',
      'the function knows its last delivery',
    );
    const alarm = template.Resources.IngestDeadLetterQueueAlarm!.Properties;
    assert.equal(alarm.MetricName, 'ApproximateNumberOfMessagesVisible');
    assert.equal(alarm.Threshold, 0);
    const tokenizerLayer = [{ 'Fn::ImportValue': 'lightrag-serverless-ci-tiktoken-layer' }];
    for (const fn of ['Ingest', 'Extract', 'Query', 'QueryStream', 'Documents'])
      assert.deepEqual(
        template.Resources[`${fn}LambdaFunction`]!.Properties.Layers,
        tokenizerLayer,
      );
    assert.equal(template.Resources.HealthLambdaFunction!.Properties.Layers, undefined);
    assert.equal(template.Resources.ParseLambdaFunction!.Properties.Layers, undefined);
    for (const dlq of ['ExtractionDeadLetterQueueAlarm', 'UploadsDeadLetterQueueAlarm'])
      assert.equal(template.Resources[dlq]!.Properties.Threshold, 0);
  });

  it('serves POST /query/stream from a function URL that streams, behind IAM', () => {
    const url = template.Resources.QueryStreamLambdaFunctionUrl!.Properties;
    assert.equal(url.InvokeMode, 'RESPONSE_STREAM');
    assert.equal(url.AuthType, 'AWS_IAM');
    assert.deepEqual(url.TargetFunctionArn, { 'Fn::GetAtt': ['QueryStreamLambdaFunction', 'Arn'] });
    const fn = template.Resources.QueryStreamLambdaFunction!.Properties;
    assert.equal(fn.Handler, 'functions/query-stream.handler');
    assert.equal(fn.Timeout, 900, "15 minutes, past API Gateway's 30 s");
    assert.equal(
      fn.ReservedConcurrentExecutions,
      undefined,
      'reserved only with reserveConcurrency=true',
    );
    assert.deepEqual(fn.Role, { 'Fn::GetAtt': ['QueryRole', 'Arn'] });
    assert.equal(fn.Environment.Variables.JWT_ISSUER, '', 'IAM: the URL checks the signature');
    // No public invoke permission under IAM.
    const open = ofType(template, 'AWS::Lambda::Permission').filter(([, p]) =>
      JSON.stringify(p.Properties.FunctionName).includes('QueryStream'),
    );
    assert.deepEqual(open, []);
  });

  it('alarms beyond the DLQs, to a topic the alarmEmail parameter subscribes, and a dashboard', async () => {
    const alarms = ofType(template, 'AWS::CloudWatch::Alarm')
      .map(([id]) => id)
      .sort();
    assert.deepEqual(alarms, [
      'ApiErrorRateAlarm',
      'ApiLatencyAlarm',
      'ExtractionDeadLetterQueueAlarm',
      'IngestDeadLetterQueueAlarm',
      'IngestErrorsAlarm',
      'ThrottlesAlarm',
      'UploadsDeadLetterQueueAlarm',
    ]);
    for (const [, alarm] of ofType(template, 'AWS::CloudWatch::Alarm'))
      assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: 'IngestAlarmTopic' }]);
    const latency = template.Resources.ApiLatencyAlarm!.Properties;
    assert.deepEqual([latency.ExtendedStatistic, latency.Threshold], ['p95', 10000]);
    const rate = template.Resources.ApiErrorRateAlarm!.Properties;
    assert.match(rate.Metrics[0].Expression, /100 \* errors \/ requests/);
    // No subscription unless asked for; with the parameter, one to that address.
    assert.deepEqual(template.Conditions?.HasAlarmEmail, {
      'Fn::Not': [{ 'Fn::Equals': ['', ''] }],
    });
    const withEmail = mkdtempSync(join(tmpdir(), 'lrs-package-email-'));
    const { template: mailed } = await packageService(withEmail, {
      params: ['--param=alarmEmail=ops@example.com'],
    });
    const subscription = mailed.Resources.AlarmEmailSubscription as unknown as {
      Condition: string;
      Properties: { Endpoint: string; Protocol: string };
    };
    assert.equal(subscription.Condition, 'HasAlarmEmail');
    assert.deepEqual(
      [subscription.Properties.Protocol, subscription.Properties.Endpoint],
      ['email', 'ops@example.com'],
    );
    // The dashboard body is valid JSON once CloudFormation substitutes the names.
    const [body, names] =
      template.Resources.OperationsDashboard!.Properties.DashboardBody['Fn::Sub'];
    const substituted = (body as string).replace(/\$\{[^}]+\}/g, 'x');
    const widgets = JSON.parse(substituted).widgets as Array<{ properties: { title: string } }>;
    assert.deepEqual(
      widgets.map((w) => w.properties.title),
      [
        'Queue depth (waiting)',
        'Dead-letter queues',
        'Oldest message age (s)',
        'Function errors and throttles',
        'Function duration p95 (ms)',
        'API requests, 5xx, p95 latency',
        'Documents and chunks',
        'Ingest duration and queue age p95 (ms)',
        'LLM: calls, cache hits, tokens, latency',
        'Query latency p95 by mode; database connections and reconnects',
      ],
    );
    // The functions' own metrics, as lib/ops/metrics.ts names them.
    for (const metric of [
      'DocumentsProcessed',
      'DocumentsFailed',
      'Chunks',
      'IngestDuration',
      'QueueAge',
      'LlmCacheHits',
      'LlmPromptTokens',
      'LlmLatency',
      'QueryLatency',
      'DbReconnects',
    ])
      assert.ok((body as string).includes(metric), metric);
    assert.ok((body as string).includes('LightragServerless'));
    for (const ref of (body as string).match(/\$\{(\w+)\.QueueName\}/g) ?? []) {
      const id = ref.slice(2, -'.QueueName}'.length);
      assert.equal(template.Resources[id]?.Type, 'AWS::SQS::Queue', id);
    }
    assert.equal(Object.keys(names).length, 6);
  });

  it('keeps uploads in a private, encrypted bucket that reports them to the uploads queue', () => {
    const bucket = template.Resources.UploadBucket!;
    const p = bucket.Properties;
    assert.deepEqual(p.BucketEncryption.ServerSideEncryptionConfiguration, [
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    assert.deepEqual(p.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const [rule] = p.LifecycleConfiguration.Rules;
    assert.equal(rule.Status, 'Enabled');
    assert.equal(rule.Prefix, 'uploads/');
    assert.equal(rule.ExpirationInDays, 30);
    const [notification] = p.NotificationConfiguration.QueueConfigurations;
    assert.equal(notification.Event, 's3:ObjectCreated:*');
    assert.deepEqual(notification.Queue, { 'Fn::GetAtt': ['UploadsQueue', 'Arn'] });
    assert.deepEqual(notification.Filter.S3Key.Rules, [{ Name: 'prefix', Value: 'uploads/' }]);
    assert.deepEqual((bucket as { DependsOn?: unknown }).DependsOn, ['UploadsQueuePolicy']);
    const policy = template.Resources.UploadsQueuePolicy!.Properties.PolicyDocument.Statement[0];
    assert.deepEqual(policy.Principal, { Service: 's3.amazonaws.com' });
    assert.equal(policy.Action, 'sqs:SendMessage');
    const tls = template.Resources.UploadBucketPolicy!.Properties.PolicyDocument.Statement[0];
    assert.deepEqual(
      [tls.Effect, tls.Condition],
      ['Deny', { Bool: { 'aws:SecureTransport': 'false' } }],
    );
    const env = (fn: string) =>
      template.Resources[`${fn}LambdaFunction`]!.Properties.Environment.Variables;
    assert.deepEqual(env('Documents').UPLOAD_BUCKET, { Ref: 'UploadBucket' });
    assert.deepEqual(env('Parse').UPLOAD_BUCKET, { Ref: 'UploadBucket' });
    for (const fn of ['Ingest', 'Extract'])
      assert.deepEqual(env(fn).EXTRACTION_QUEUE_URL, { Ref: 'ExtractionQueue' });
  });

  it('serves the same routes as the local server (lib/http/routes.ts)', () => {
    const deployed = ofType(template, 'AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties.RouteKey)
      .sort();
    assert.deepEqual(deployed, API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of API_ROUTES) {
      const integration = ofType(template, 'AWS::ApiGatewayV2::Route').find(
        ([, r]) => r.Properties.RouteKey === `${route.method} ${route.path}`,
      )![1];
      assert.match(
        JSON.stringify(integration.Properties.Target),
        new RegExp(`HttpApiIntegration${route.fn[0]!.toUpperCase()}${route.fn.slice(1)}`),
      );
    }
  });

  it('keeps the worst-case connection count within the declared budget', async () => {
    const budget = checkConnectionBudget(template);
    assert.deepEqual(budget.unbounded, []);
    assert.equal(budget.budget, 93, "Neon's pooler on a 0.25 CU compute");
    // query, query stream, documents, health at 2 connections; ingest, extract and parse at 1.
    assert.equal(budget.worstCase, (10 + 4 + 10 + 2) * 2 + 16 + 16 + 2);
    assert.equal(budget.connectionsPerContainer.Ingest, 1);
    assert.equal(budget.withinBudget, true);
    // Nothing is reserved by default (a new account's low quota deploys); the API functions'
    // planned containers still count.
    for (const [, fn] of ofType(template, 'AWS::Lambda::Function'))
      assert.equal(fn.Properties.ReservedConcurrentExecutions, undefined);
    assert.equal(budget.boundBy.Query, 'planned');
    assert.equal(budget.boundBy.Ingest, 'maximumConcurrency');
    const tight = checkConnectionBudget({
      ...template,
      Outputs: { ...template.Outputs, DatabaseConnectionBudget: { Value: '50' } },
    });
    assert.equal(tight.withinBudget, false);
    const script = await run(process.execPath, [
      join(ROOT, 'scripts/check-connection-budget.ts'),
      join(outDir, 'cloudformation-template-update-stack.json'),
    ]);
    assert.match(script.stdout, /Connection budget 93; worst case 86/);
  });

  it('protects every route with IAM by default', () => {
    const routes = ofType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    assert.deepEqual(
      routes.map((r) => r.RouteKey).sort(),
      [
        'DELETE /documents/{id}',
        'GET /documents',
        'GET /documents/status-counts',
        'GET /documents/{id}',
        'GET /graph',
        'GET /graph/labels/popular',
        'GET /graph/labels/search',
        'GET /health',
        'POST /documents',
        'POST /documents/reprocess',
        'POST /documents/upload',
        'POST /query',
        'POST /query/data',
        'POST /query/detailed',
        'GET /auth-status',
        'POST /login',
        'GET /openapi.json',
        'GET /docs',
        'GET /documents/pipeline_status',
        'POST /documents/cancel_pipeline',
        'DELETE /documents/delete_document',
        'DELETE /documents',
        'GET /usage',
        // LightRAG Server's paths.
        'GET /graphs',
        'GET /graph/label/list',
        'GET /graph/label/popular',
        'GET /graph/label/search',
        'GET /graph/entity/exists',
        'POST /documents/paginated',
        'GET /documents/status_counts',
        'GET /documents/supported_file_types',
        'GET /documents/track_status/{track_id}',
        'POST /documents/text',
        'POST /documents/texts',
        'POST /documents/reprocess_failed',
        'POST /documents/scan',
        'POST /documents/clear_cache',
      ].sort(),
    );
    // The same list as the local server's (lib/http/routes.ts).
    assert.deepEqual(
      routes.map((r) => r.RouteKey).sort(),
      API_ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
    );
    for (const route of routes) assert.equal(route.AuthorizationType, 'AWS_IAM', route.RouteKey);
  });

  it("keeps the database URL out of the template and the functions' configuration", () => {
    const text = JSON.stringify(template);
    for (const name of FUNCTIONS) {
      const env =
        template.Resources[`${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`]!.Properties
          .Environment.Variables;
      // Only the secret's name: the URL is fetched at cold start (lib/aws/database-secret.ts).
      assert.equal(env.DATABASE_SECRET_ID, 'lightrag-serverless/ci/database-url');
      assert.equal(env.DATABASE_URL, undefined);
    }
    assert.doesNotMatch(text, /postgres(ql)?:\/\/|resolve:secretsmanager/);
  });

  it("defaults to a current Bedrock model through the region's inference profile", () => {
    const env = template.Resources.QueryLambdaFunction!.Properties.Environment.Variables;
    assert.equal(env.LLM_PROVIDER, 'bedrock');
    assert.equal(env.LLM_MODEL, 'eu.anthropic.claude-haiku-4-5-20251001-v1:0');
    assert.equal(env.EMBEDDING_MODEL, 'amazon.titan-embed-text-v2:0');
  });

  it('gives API Gateway, S3 and function URL callers exactly the resource permissions they need', () => {
    const resolve = resolver(template);
    const permissions = ofType(template, 'AWS::Lambda::Permission').map(
      ([, r]) => resolve(r.Properties) as Record<string, string>,
    );
    // Every function behind a route may be invoked by this API's routes, and nothing else is
    // open to API Gateway.
    const integrated = new Set(
      ofType(template, 'AWS::ApiGatewayV2::Integration').map(([, r]) =>
        String(resolve(r.Properties.IntegrationUri)),
      ),
    );
    const api = permissions.filter((p) => p.Principal === 'apigateway.amazonaws.com');
    assert.deepEqual(new Set(api.map((p) => p.FunctionName)), integrated);
    for (const p of api) {
      assert.equal(p.Action, 'lambda:InvokeFunction');
      assert.equal(p.SourceArn, `arn:aws:execute-api:${REGION}:${ACCOUNT}:HttpApi-physical-id/*`);
    }
    // Under IAM the stream URL needs no resource policy: callers' own policies grant
    // lambda:InvokeFunctionUrl and lambda:InvokeFunction (docs/http-api.md). Nothing is public.
    assert.equal(permissions.filter((p) => p.Principal === '*').length, 0);
    // S3 reports uploads to the uploads queue: the queue lets exactly this bucket send.
    const notifications = template.Resources.UploadBucket!.Properties.NotificationConfiguration
      .QueueConfigurations as Array<{ Queue: unknown }>;
    for (const n of notifications) {
      const queueArn = String(resolve(n.Queue));
      const policy = ofType(template, 'AWS::SQS::QueuePolicy')
        .map(([, r]) => resolve(r.Properties) as any)
        .find((p) => p.Queues.some((q: string) => q.endsWith(queueArn.split(':').at(-1)!)));
      assert.ok(policy, `a queue policy for ${queueArn}`);
      const statements = [policy.PolicyDocument.Statement].flat();
      assert.deepEqual(
        statements.map((st: any) => [st.Effect, st.Principal, st.Action, st.Resource]),
        [['Allow', { Service: 's3.amazonaws.com' }, 'sqs:SendMessage', queueArn]],
      );
      assert.equal(
        statements[0].Condition.ArnEquals['aws:SourceArn'],
        resolve({ 'Fn::GetAtt': ['UploadBucket', 'Arn'] }),
      );
    }
  });

  it('switches to a JWT authorizer and API Gateway CORS by parameter', async () => {
    const jwtDir = mkdtempSync(join(tmpdir(), 'lrs-package-jwt-'));
    const { template: jwt } = await packageService(jwtDir, {
      params: [
        '--param=auth=jwt',
        '--param=jwtIssuer=https://issuer.example.com/',
        '--param=jwtAudience=rag-api',
        '--param=corsMode=origins',
        '--param=corsOrigins=https://app.example.com',
        '--param=reserveConcurrency=true',
      ],
    });
    // Reservations on request, counted as such.
    const reserved = Object.fromEntries(
      ofType(jwt, 'AWS::Lambda::Function').map(([id, r]) => [
        id,
        r.Properties.ReservedConcurrentExecutions,
      ]),
    );
    assert.deepEqual(reserved, {
      IngestLambdaFunction: undefined,
      ExtractLambdaFunction: undefined,
      ParseLambdaFunction: undefined,
      QueryLambdaFunction: 10,
      QueryStreamLambdaFunction: 4,
      DocumentsLambdaFunction: 10,
      HealthLambdaFunction: 2,
    });
    assert.equal(checkConnectionBudget(jwt).boundBy.Query, 'reservedConcurrency');
    const [[, authorizer]] = ofType(jwt, 'AWS::ApiGatewayV2::Authorizer') as [[string, any]];
    assert.equal(authorizer.Properties.AuthorizerType, 'JWT');
    assert.deepEqual(authorizer.Properties.JwtConfiguration, {
      Issuer: 'https://issuer.example.com/',
      Audience: ['rag-api'],
    });
    // Scopes per route family: read, write, delete.
    const family = (key: string) =>
      key.startsWith('DELETE ') || key === 'POST /documents/clear_cache'
        ? 'lightrag/delete'
        : [
              'POST /documents',
              'POST /documents/reprocess',
              'POST /documents/upload',
              'POST /documents/text',
              'POST /documents/texts',
              'POST /documents/reprocess_failed',
              'POST /documents/scan',
              'POST /documents/cancel_pipeline',
            ].includes(key)
          ? 'lightrag/write'
          : 'lightrag/read';
    const routes = ofType(jwt, 'AWS::ApiGatewayV2::Route');
    assert.equal(routes.length, API_ROUTES.length);
    for (const [, route] of routes) {
      assert.equal(route.Properties.AuthorizationType, 'JWT');
      assert.deepEqual(
        route.Properties.AuthorizationScopes,
        [family(route.Properties.RouteKey)],
        route.Properties.RouteKey,
      );
    }
    assert.deepEqual(jwt.Resources.HttpApi!.Properties.CorsConfiguration.AllowOrigins, [
      'https://app.example.com',
    ]);
    // The streaming URL cannot check JWTs: it is open, and the function verifies the token.
    const url = jwt.Resources.QueryStreamLambdaFunctionUrl!.Properties;
    assert.deepEqual([url.AuthType, url.InvokeMode], ['NONE', 'RESPONSE_STREAM']);
    // Since October 2025 a public function URL needs both permissions: InvokeFunctionUrl for
    // NONE auth, and InvokeFunction limited to calls through the URL. Nothing else is public.
    const open = ofType(jwt, 'AWS::Lambda::Permission')
      .map(([, r]) => r.Properties)
      .filter((p) => p.Principal === '*');
    assert.deepEqual(
      open.map((p) => [p.FunctionName, p.Action, p.FunctionUrlAuthType, p.InvokedViaFunctionUrl]),
      [
        [
          { 'Fn::GetAtt': ['QueryStreamLambdaFunction', 'Arn'] },
          'lambda:InvokeFunctionUrl',
          'NONE',
          undefined,
        ],
        [
          { 'Fn::GetAtt': ['QueryStreamLambdaFunction', 'Arn'] },
          'lambda:InvokeFunction',
          undefined,
          true,
        ],
      ],
    );
    const env = jwt.Resources.QueryStreamLambdaFunction!.Properties.Environment.Variables;
    assert.equal(env.JWT_ISSUER, 'https://issuer.example.com/');
    assert.ok(env.JWT_AUDIENCE);
  });

  describe(`every function from its own zip, as deployed, on ${TARGET}`, () => {
    // Each function runs as Lambda runs it (lib/deploy/lambda-sandbox.ts): its zip alone, with
    // only the layers the packaged template attaches to it mounted at /opt, one container per
    // function serving all its invocations (cold, then warm).
    let llm: ScriptedLlm;
    let bedrock: FakeBedrock;
    let secrets: FakeSecretsManager;
    let env: Record<string, string>;
    let queues: TestQueues;
    let extractionUrl: string;
    let uploadsUrl: string;
    let database: Database;
    const containers: Record<string, Container> = {};
    const skip = ZIPS_SKIP;

    before(async () => {
      if (skip) return;
      llm = await startScriptedLlm();
      // Bedrock, the deployed default, with the packaged template's own model ids.
      bedrock = await startScriptedBedrock(llm);
      // fauxqs: the ingest and extraction queues and the uploads bucket.
      queues = await startTestQueues();
      extractionUrl = (await queues.sqs.send(new CreateQueueCommand({ QueueName: 'extraction' })))
        .QueueUrl!;
      uploadsUrl = (await queues.sqs.send(new CreateQueueCommand({ QueueName: 'uploads' })))
        .QueueUrl!;
      const s3 = new S3Client({
        endpoint: queues.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      await s3.send(new CreateBucketCommand({ Bucket: 'uploads-ci' }));
      s3.destroy();
      const deployed = template.Resources.IngestLambdaFunction!.Properties.Environment.Variables;
      const target = await createTestDatabase({
        ...bedrockEnv(bedrock, { llm: deployed.LLM_MODEL, embedding: deployed.EMBEDDING_MODEL }),
        EMBEDDING_DIM: deployed.EMBEDDING_DIM,
        FORCE_LLM_SUMMARY_ON_MERGE: '2',
        INGEST_QUEUE_URL: queues.queueUrl,
        EXTRACTION_QUEUE_URL: extractionUrl,
        SQS_ENDPOINT: queues.endpoint,
        UPLOAD_BUCKET: 'uploads-ci',
        S3_ENDPOINT: queues.endpoint,
        AWS_REGION: 'us-east-1',
        FANOUT_MIN_CHUNKS: '3',
        EXTRACTION_BATCH_CHUNKS: '2',
        CHUNK_SPLIT_BY_CHARACTER: '\\n\\n',
      });
      // The database URL only in Secrets Manager, under the secret the template names.
      const { DATABASE_URL, ...rest } = target.env;
      secrets = await startFakeSecretsManager({ [deployed.DATABASE_SECRET_ID]: DATABASE_URL! });
      database = target.open();
      env = {
        ...rest,
        DATABASE_SECRET_ID: deployed.DATABASE_SECRET_ID,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        UPLOADS_QUEUE_URL: uploadsUrl,
        LOG_LEVEL: 'warn',
      };
      const functions = deployedFunctions(template, outDir);
      for (const name of FUNCTIONS)
        containers[name] = await startContainer(functions[name]!, { env, recordAwsCalls: true });
    });
    after(async () => {
      for (const c of Object.values(containers)) await c.close();
      await llm?.close();
      await bedrock?.close();
      await secrets?.close();
      await queues?.stop();
    });

    /** Invokes an API function with a real HTTP API (payload v2) event. */
    async function http(fn: string, routeKey: string, options?: EventOptions) {
      const out = await containers[fn]!.invoke(apiEvent(routeKey, options));
      assert.ok(out.ok, `${fn} threw: ${out.error?.message}\n${containers[fn]!.logs()}`);
      const res = out.result as { statusCode: number; body: string };
      return { ...res, json: res.body ? JSON.parse(res.body) : undefined };
    }

    const docA = [
      'Document A: Marie Curie and radium.',
      '[[E:Marie Curie|Person|Marie Curie as document A tells it.]]',
      '[[E:Radium|Concept|Radium, element 88, fragment A.]]',
      '[[R:Marie Curie|Radium|discovery|Marie Curie discovered radium (A).]]',
    ].join('\n');
    const docB = [
      'Document B: the Curies.',
      '[[E:Marie Curie|Person|Marie Curie as document B tells it.]]',
      '[[E:Pierre Curie|Person|Pierre Curie, physicist.]]',
      '[[R:Marie Curie|Pierre Curie|marriage|Marie married Pierre (B).]]',
    ].join('\n');
    // A third telling of Marie Curie: deleting A leaves two fragments to summarise again.
    const docC = [
      'Document C: Marie Curie in Paris.',
      '[[E:Marie Curie|Person|Marie Curie as document C tells it.]]',
    ].join('\n');

    it('only the token-counting functions get the tokenizer layer', { skip }, (t) => {
      const functions = deployedFunctions(template, outDir);
      for (const name of ['ingest', 'extract', 'query', 'queryStream', 'documents'])
        assert.equal(functions[name]!.layerDirs.length, 1, name);
      assert.deepEqual(functions.health!.layerDirs, []);
      assert.deepEqual(functions.parse!.layerDirs, []);
      for (const name of FUNCTIONS) {
        const init = containers[name]!.init;
        t.diagnostic(
          `${name}: module init ${init.ms.toFixed(1)} ms, ${(init.rss / 2 ** 20).toFixed(0)} MB RSS`,
        );
      }
    });

    it('health answers from its zip with no layer', { skip }, async () => {
      const res = await http('health', 'GET /health');
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json.database.reachable, true);
    });

    it('ingest builds the graph from its zip (chunking, extraction, merge summaries)', {
      skip,
    }, async () => {
      const record = (id: string, body: unknown) => sqsRecord(id, JSON.stringify(body));
      for (const [id, content, filePath] of [
        ['m1', docA, 'a.md'],
        ['m2', docB, 'b.md'],
        ['m3', docC, 'c.md'],
      ] as const) {
        const out = await containers.ingest!.invoke({
          Records: [record(id, { content, filePath })],
        });
        assert.ok(out.ok, out.error?.message);
        assert.deepEqual(out.result, { batchItemFailures: [] }, containers.ingest!.logs());
      }
      assert.ok(llm.count('extract') >= 2);
      assert.ok(llm.count('summary') >= 1, 'Marie Curie has two fragments: summarised');
      // Metrics in the embedded metric format on stdout, one line per invocation.
      const emf = containers
        .ingest!.logs()
        .split('\n')
        .filter((l) => l.includes('"CloudWatchMetrics"'))
        .map((l) => JSON.parse(l));
      assert.equal(emf.length, 3, 'one metrics line per invocation');
      const names = emf[0]._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
      assert.equal(emf[0]._aws.CloudWatchMetrics[0].Namespace, 'LightragServerless');
      for (const name of [
        'DocumentsProcessed',
        'Chunks',
        'IngestDuration',
        'QueueAge',
        'LlmLatency',
        'LlmPromptTokens',
      ])
        assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
      assert.equal(emf[0].DocumentsProcessed, 1);
    });

    it('documents lists and gets from its zip', { skip }, async () => {
      const list = await http('documents', 'GET /documents', { query: { page: '1' } });
      assert.equal(list.statusCode, 200, list.body);
      const docs = list.json.documents as Array<{ id: string; status: string; file_path: string }>;
      assert.deepEqual(
        docs.map((d) => d.status),
        ['processed', 'processed', 'processed'],
      );
      const a = docs.find((d) => d.file_path === 'a.md')!;
      const one = await http('documents', 'GET /documents/{id}', { pathParameters: { id: a.id } });
      assert.equal(one.statusCode, 200, one.body);
      assert.equal(one.json.id, a.id);
    });

    it('query answers naive and mix mode, and serves the graph routes, from its zip', {
      skip,
    }, async () => {
      const naive = await http('query', 'POST /query/detailed', {
        body: { query: 'Who discovered radium?', mode: 'naive' },
      });
      assert.equal(naive.statusCode, 200, naive.body);
      assert.match(naive.json.answer, /^ANSWER with 0 entities, 0 relations, [1-9] chunks/);
      llm.keywords.set('Who married Marie Curie?', {
        high_level_keywords: ['marriage'],
        low_level_keywords: ['Marie Curie'],
      });
      const mix = await http('query', 'POST /query/detailed', {
        body: { query: 'Who married Marie Curie?', mode: 'mix' },
      });
      assert.equal(mix.statusCode, 200, mix.body);
      assert.ok(mix.json.context.entities.length > 0, mix.body);
      assert.match(mix.json.answer, /^ANSWER with [1-9]/);
      const graph = await http('query', 'GET /graph', { query: { label: 'Marie Curie' } });
      assert.equal(graph.statusCode, 200, graph.body);
      assert.deepEqual(graph.json.nodes.map((n: { id: string }) => n.id).sort(), [
        'Marie Curie',
        'Pierre Curie',
        'Radium',
      ]);
      const popular = await http('query', 'GET /graph/labels/popular');
      assert.equal(popular.json[0], 'Marie Curie');
      const search = await http('query', 'GET /graph/labels/search', { query: { q: 'curie' } });
      assert.deepEqual(search.json.sort(), ['Marie Curie', 'Pierre Curie']);
    });

    it('documents deletes with a graph rebuild from its zip', { skip }, async () => {
      const list = await http('documents', 'GET /documents', { query: { page: '1' } });
      const a = list.json.documents.find((d: { file_path: string }) => d.file_path === 'a.md');
      const deleted = await http('documents', 'DELETE /documents/{id}', {
        pathParameters: { id: a.id },
      });
      assert.equal(deleted.statusCode, 200, deleted.body);
      assert.equal(deleted.json.graph.entitiesDeleted, 1, 'Radium was only in A');
      assert.equal(deleted.json.graph.entitiesRebuilt, 1, 'Marie Curie rebuilt from B and C');
      assert.ok(
        containers.documents!.awsCalls().some((c) => c.command === 'ConverseCommand'),
        'the rebuild summarised Marie Curie with the LLM',
      );
      const gone = await http('documents', 'GET /documents/{id}', { pathParameters: { id: a.id } });
      assert.equal(gone.statusCode, 404);
      const after = await http('query', 'GET /graph', { query: { label: '*' } });
      assert.deepEqual(after.json.nodes.map((n: { id: string }) => n.id).sort(), [
        'Marie Curie',
        'Pierre Curie',
      ]);
    });

    /** Takes every message off a queue (deleting them), as its event source would. */
    async function take(url: string): Promise<Array<{ id: string; body: string }>> {
      const out: Array<{ id: string; body: string }> = [];
      for (;;) {
        const { Messages } = await queues.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (!Messages?.length) return out;
        for (const m of Messages) {
          out.push({ id: m.MessageId!, body: m.Body! });
          await queues.sqs.send(
            new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }),
          );
        }
      }
    }

    async function runRecords(fn: string, messages: Array<{ id: string; body: string }>) {
      for (const m of messages) {
        const out = await containers[fn]!.invoke({ Records: [sqsRecord(m.id, m.body)] });
        assert.ok(out.ok, `${fn}: ${out.error?.message}\n${containers[fn]!.logs()}`);
        assert.deepEqual(out.result, { batchItemFailures: [] }, containers[fn]!.logs());
      }
    }

    it('an uploaded PDF goes through the documents, parse and ingest zips to an answer', {
      skip,
    }, async () => {
      const pdf = makePdf([
        [
          'Helium was found in the Sun first.',
          '[[E:Helium|Element|Helium, found in the solar spectrum.]]',
        ],
      ]);
      const ticket = await http('documents', 'POST /documents/upload', {
        body: { fileName: 'Helium Report.pdf', size: pdf.length, contentType: 'application/pdf' },
      });
      assert.equal(ticket.statusCode, 201, ticket.body);
      const put = await fetch(ticket.json.upload.url, {
        method: 'PUT',
        headers: ticket.json.upload.headers,
        body: pdf,
      });
      assert.equal(put.status, 200);
      // What S3 sends to the uploads queue for this object.
      const key = encodeURIComponent(ticket.json.upload.key)
        .replace(/%2F/g, '/')
        .replace(/%20/g, '+');
      const event = {
        Records: [
          {
            eventSource: 'aws:s3',
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: 'uploads-ci' }, object: { key, size: pdf.length } },
          },
        ],
      };
      await runRecords('parse', [{ id: 'u1', body: JSON.stringify(event) }]);
      const parsed = await http('documents', 'GET /documents/{id}', {
        pathParameters: { id: ticket.json.docId },
      });
      assert.equal(parsed.json.status, 'analyzing', parsed.body);
      assert.equal(parsed.json.metadata.parse_engine, 'unpdf');
      await runRecords('ingest', await take(queues.queueUrl));
      const done = await http('documents', 'GET /documents/{id}', {
        pathParameters: { id: ticket.json.docId },
      });
      assert.equal(done.json.status, 'processed', done.body);
      const answer = await http('query', 'POST /query/detailed', {
        body: { query: 'Where was helium found?', mode: 'naive' },
      });
      assert.equal(answer.json.context.chunks[0].file_path, 'Helium Report.pdf');
    });

    it('documents submits text and parses a cut-off upload again from its zip', {
      skip,
    }, async () => {
      const submitted = await http('documents', 'POST /documents', {
        body: {
          content: 'Document D: argon. [[E:Argon|Element|Argon, a noble gas.]]',
          filePath: 'd.md',
        },
      });
      assert.equal(submitted.statusCode, 202, submitted.body);
      await runRecords('ingest', await take(queues.queueUrl));
      // An upload whose parse was cut off (the container died): parsed again on reprocess.
      const text = Buffer.from('Neon glows red. [[E:Neon Light|Concept|Neon light, red.]]');
      const ticket = await http('documents', 'POST /documents/upload', {
        body: { fileName: 'neon-light.txt', size: text.length, contentType: 'text/plain' },
      });
      const put = await fetch(ticket.json.upload.url, {
        method: 'PUT',
        headers: ticket.json.upload.headers,
        body: text,
      });
      assert.equal(put.status, 200);
      await database.query(
        `UPDATE lightrag_doc_status SET status = 'parsing', updated_at = now() - interval '1 day'
          WHERE workspace = 'default' AND id = $1`,
        [ticket.json.docId],
      );
      const again = await http('documents', 'POST /documents/reprocess', {
        body: { docIds: [ticket.json.docId] },
      });
      assert.equal(again.statusCode, 202, again.body);
      await runRecords('parse', await take(uploadsUrl));
      await runRecords('ingest', await take(queues.queueUrl));
      const done = await http('documents', 'GET /documents/{id}', {
        pathParameters: { id: ticket.json.docId },
      });
      assert.equal(done.json.status, 'processed', done.body);
    });

    it('a large document fans out from the ingest zip to the extract zip and merges once', {
      skip,
    }, async () => {
      const content = Array.from(
        { length: 7 },
        (_, i) =>
          `Part ${i}. [[E:Neon Part ${i}|Concept|Neon part ${i}.]] [[R:Neon Part ${i}|Neon|part of|Part ${i} of neon.]]`,
      ).join('\n\n');
      await runRecords('ingest', [
        { id: 'big', body: JSON.stringify({ content, filePath: 'neon.md' }) },
      ]);
      const batches = await take(extractionUrl);
      assert.equal(batches.length, 4);
      // One batch delivered twice: counted once.
      await runRecords('extract', [...batches, batches[0]!]);
      const merges = await take(queues.queueUrl);
      assert.equal(merges.length, 1);
      await runRecords('ingest', merges);
      const list = await http('documents', 'GET /documents', { query: { page: '1' } });
      const doc = list.json.documents.find((d: { file_path: string }) => d.file_path === 'neon.md');
      assert.equal(doc.status, 'processed');
      assert.equal(doc.chunks_count, 7);
      const graph = await http('query', 'GET /graph', { query: { label: 'Neon' } });
      assert.equal(graph.json.nodes.length, 8);
    });

    it('query stream answers from its zip over the Lambda streaming contract, piece by piece', {
      skip,
    }, async () => {
      llm.streamText = Array.from({ length: 12 }, (_, i) => `piece${i}`).join(' ');
      llm.streamDelayMs = 100;
      try {
        const event = apiEvent('POST /query/stream', {
          body: { query: 'Who married Marie Curie?', mode: 'mix' },
        });
        const out = await containers.queryStream!.invoke({ ...event, routeKey: '$default' });
        assert.ok(out.ok, `${out.error?.message}\n${containers.queryStream!.logs()}`);
        const streamed = out.streamed!;
        const bytes = Buffer.concat(streamed.map((c) => c.data));
        const split = splitPrelude(bytes)!;
        assert.equal(split.prelude.statusCode, 200);
        assert.equal(split.prelude.headers?.['content-type'], 'application/x-ndjson');
        const lines = split.body
          .toString()
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        assert.deepEqual(Object.keys(lines[0]), ['references']);
        assert.equal(
          lines
            .slice(1)
            .map((l: { response: string }) => l.response)
            .join(''),
          llm.streamText,
        );
        // Written as generated: the first text well before the last.
        const textChunks = streamed.filter((c) => c.data.includes('"response"'));
        assert.ok(textChunks.length >= 12);
        assert.ok(textChunks.at(-1)!.ms - textChunks[0]!.ms > 800, 'pieces spread over the answer');
      } finally {
        llm.streamText = undefined;
        llm.streamDelayMs = 0;
      }
    });

    /** What the zips' recorded calls and the template's event sources need from IAM. */
    const iamNeeds = (calls: AwsCall[]) => [
      ...needsFromTemplate(template),
      ...needsFromCalls(template, calls, {
        queues: {
          [queues.queueUrl]: 'IngestQueue',
          [extractionUrl]: 'ExtractionQueue',
          [uploadsUrl]: 'UploadsQueue',
        },
        buckets: { 'uploads-ci': 'UploadBucket' },
      }),
    ];

    it('grants each role every AWS call its zips made, and nothing they did not', { skip }, () => {
      const calls = FUNCTIONS.flatMap((name) => containers[name]!.awsCalls());
      const made = new Set(calls.map((c) => `${c.function} ${c.command}`));
      // The paths above exercise every SDK command in the code (COMMAND_ACTIONS lists them).
      for (const expected of [
        'ingest SendMessageBatchCommand',
        'ingest InvokeModelCommand',
        'ingest ConverseCommand',
        'extract ConverseCommand',
        'extract SendMessageBatchCommand',
        'parse GetObjectCommand',
        'parse SendMessageBatchCommand',
        'documents SendMessageBatchCommand',
        'documents PutObjectCommand',
        'documents ConverseCommand',
        'query ConverseCommand',
        'queryStream ConverseStreamCommand',
        'health GetSecretValueCommand',
      ])
        assert.ok(made.has(expected), `${expected} in ${[...made].sort().join(', ')}`);
      // Each container fetched the secret once (cold start) and used it for every invocation.
      for (const name of FUNCTIONS)
        assert.equal(
          containers[name]!.awsCalls().filter((c) => c.command === 'GetSecretValueCommand').length,
          1,
          name,
        );
      const needs = iamNeeds(calls);
      const report = compareGrants(template, needs);
      assert.deepEqual(report.missing, [], 'every call is allowed');
      assert.deepEqual(report.unused, [], 'no grant is unused');
    });

    it('fails the comparison when any action is taken out of a role', { skip }, () => {
      const calls = FUNCTIONS.flatMap((name) => containers[name]!.awsCalls());
      const needs = iamNeeds(calls);
      let mutants = 0;
      for (const role of new Set(Object.values(functionRoles(template)))) {
        const actions = new Set(
          roleStatements(template, role)
            .filter((st) => st.effect === 'Allow')
            .flatMap((st) => st.actions),
        );
        for (const action of actions) {
          const { missing } = compareGrants(withoutAction(template, role, action), needs);
          assert.ok(
            missing.some((n) => n.action === action),
            `${role} without ${action} must leave a need unmet`,
          );
          mutants += 1;
        }
      }
      // ConverseStream on the query role is the one the stream function needs (issue 27 #1).
      const noStream = compareGrants(
        withoutAction(template, 'QueryRole', 'bedrock:InvokeModelWithResponseStream'),
        needs,
      );
      assert.ok(noStream.missing.some((n) => n.why === 'queryStream: ConverseStreamCommand'));
      assert.ok(mutants >= 15, `${mutants} mutants`);
      assert.ok(Object.keys(COMMAND_ACTIONS).length >= 8);
    });
  });
});
