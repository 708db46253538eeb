/**
 * Packaging verified: `osls package` runs offline (no AWS credentials), and the generated
 * CloudFormation template and zips are checked against what the README promises. Then the
 * bundles themselves run in fresh processes against the real database.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkConnectionBudget } from '../lib/deploy/connection-budget.ts';
import { API_ROUTES } from '../lib/http/routes.ts';
import { createTestDatabase, TARGET } from './support/database.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
/** Each function's zip must stay within this (issue budget). */
const ZIP_BUDGET_BYTES = 250 * 1024;
const FUNCTIONS = ['ingest', 'query', 'documents', 'health'];

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

async function osls(outDir: string, params: string[] = []): Promise<Template> {
  await run(
    join(BIN, 'osls'),
    ['package', '--region', 'eu-west-1', '--stage', 'ci', '--package', outDir, ...params],
    {
      cwd: ROOT,
      env: {
        PATH: `${process.execPath.replace(/\/node$/, '')}:${process.env.PATH}`,
        HOME: process.env.HOME ?? '/root',
      },
      timeout: 180_000,
    },
  );
  return JSON.parse(
    readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
}

const ofType = (t: Template, type: string) =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);

describe('serverless.yml packaged offline with osls', () => {
  let outDir: string;
  let template: Template;

  before(async () => {
    await run('bash', [join(ROOT, 'scripts/build-layers.sh')], { cwd: ROOT });
    outDir = mkdtempSync(join(tmpdir(), 'lrs-package-'));
    template = await osls(outDir);
  });

  it('builds every function as ESM for nodejs22.x on arm64 with its own role', () => {
    const functions = ofType(template, 'AWS::Lambda::Function');
    assert.equal(functions.length, 4);
    for (const [, fn] of functions) {
      assert.equal(fn.Properties.Runtime, 'nodejs22.x');
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.ok(fn.Properties.Role['Fn::GetAtt'], 'a dedicated role, not the shared default');
    }
    const roles = ofType(template, 'AWS::IAM::Role')
      .map(([name]) => name)
      .sort();
    assert.deepEqual(roles, ['DocumentsRole', 'HealthRole', 'IngestRole', 'QueryRole']);
  });

  it('keeps each zip within the 250 KB budget', () => {
    for (const name of FUNCTIONS) {
      const size = statSync(join(outDir, `${name}.zip`)).size;
      assert.ok(size <= ZIP_BUDGET_BYTES, `${name}.zip is ${size} bytes`);
    }
  });

  it('wires the SQS event source: batch, window, partial responses, maximum concurrency', () => {
    const [[, mapping]] = ofType(template, 'AWS::Lambda::EventSourceMapping') as [[string, any]];
    assert.equal(mapping.Properties.BatchSize, 10);
    assert.equal(mapping.Properties.MaximumBatchingWindowInSeconds, 5);
    assert.deepEqual(mapping.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.equal(mapping.Properties.ScalingConfig.MaximumConcurrency, 5);
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
    assert.deepEqual(ingest.Layers, [
      { 'Fn::ImportValue': 'lightrag-serverless-ci-tiktoken-layer' },
    ]);
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
    assert.equal(budget.budget, 100);
    assert.equal(budget.worstCase, (5 + 20 + 20 + 2) * 2);
    assert.equal(budget.withinBudget, true);
    const tight = checkConnectionBudget({
      ...template,
      Outputs: { DatabaseConnectionBudget: { Value: '50' } },
    });
    assert.equal(tight.withinBudget, false);
    const script = await run(process.execPath, [
      join(ROOT, 'scripts/check-connection-budget.ts'),
      join(outDir, 'cloudformation-template-update-stack.json'),
    ]);
    assert.match(script.stdout, /Connection budget 100; worst case 94/);
  });

  it('protects every route with IAM by default', () => {
    const routes = ofType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    assert.deepEqual(routes.map((r) => r.RouteKey).sort(), [
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
      'POST /query',
    ]);
    for (const route of routes) assert.equal(route.AuthorizationType, 'AWS_IAM', route.RouteKey);
  });

  it('keeps the database URL out of the template and grants least privilege', () => {
    const text = JSON.stringify(template);
    for (const name of FUNCTIONS) {
      const env =
        template.Resources[`${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`]!.Properties
          .Environment.Variables;
      assert.equal(
        env.DATABASE_URL,
        '{{resolve:secretsmanager:lightrag-serverless/ci/database-url}}',
      );
    }
    assert.doesNotMatch(text, /postgres(ql)?:\/\//);
    const statements = (role: string) =>
      (template.Resources[role]!.Properties.Policies ?? []).flatMap(
        (p: any) => p.PolicyDocument.Statement,
      );
    const actions = (role: string) =>
      statements(role)
        .flatMap((s: any) => [s.Action].flat())
        .sort();
    assert.deepEqual(actions('IngestRole'), [
      'bedrock:InvokeModel',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ]);
    assert.deepEqual(actions('QueryRole'), ['bedrock:InvokeModel']);
    assert.deepEqual(actions('DocumentsRole'), ['bedrock:InvokeModel', 'sqs:SendMessage']);
    assert.deepEqual(actions('HealthRole'), []);
  });

  it('switches to a JWT authorizer and API Gateway CORS by parameter', async () => {
    const jwtDir = mkdtempSync(join(tmpdir(), 'lrs-package-jwt-'));
    const jwt = await osls(jwtDir, [
      '--param=auth=jwt',
      '--param=jwtIssuer=https://issuer.example.com/',
      '--param=jwtAudience=rag-api',
      '--param=corsMode=origins',
      '--param=corsOrigins=https://app.example.com',
    ]);
    const [[, authorizer]] = ofType(jwt, 'AWS::ApiGatewayV2::Authorizer') as [[string, any]];
    assert.equal(authorizer.Properties.AuthorizerType, 'JWT');
    assert.deepEqual(authorizer.Properties.JwtConfiguration, {
      Issuer: 'https://issuer.example.com/',
      Audience: ['rag-api'],
    });
    for (const [, route] of ofType(jwt, 'AWS::ApiGatewayV2::Route'))
      assert.equal(route.Properties.AuthorizationType, 'JWT');
    assert.deepEqual(jwt.Resources.HttpApi!.Properties.CorsConfiguration.AllowOrigins, [
      'https://app.example.com',
    ]);
  });

  describe(`the bundles run in fresh processes on ${TARGET}`, () => {
    /** Unzips a function and runs a script against its handler in a new Node process. */
    async function runBundle(
      name: string,
      env: Record<string, string>,
      script: string,
    ): Promise<string> {
      const dir = mkdtempSync(join(tmpdir(), `lrs-bundle-${name}-`));
      await run('unzip', ['-q', join(outDir, `${name}.zip`), '-d', dir]);
      // What Lambda provides: the runtime's AWS SDK v3 and the tiktoken layer.
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(join(ROOT, 'node_modules/@aws-sdk'), join(dir, 'node_modules/@aws-sdk'));
      symlinkSync(
        join(ROOT, '.build/layers/tiktoken/nodejs/node_modules/js-tiktoken'),
        join(dir, 'node_modules/js-tiktoken'),
      );
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
          cwd: dir,
          env: {
            PATH: process.env.PATH ?? '',
            LOG_LEVEL: 'warn',
            ...env,
            AWS_LAMBDA_FUNCTION_NAME: name,
          },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) =>
          code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`)),
        );
      });
    }

    it('health and ingest handlers work from their zips (module init timed)', async (t) => {
      const target = await createTestDatabase({ EMBEDDING_PROVIDER: 'hash' });
      const env: Record<string, string> = { ...target.env };
      if (env.DATABASE_DRIVER !== 'neon') {
        t.skip('the bundles carry only the Neon driver (PGlite and pg are excluded by design)');
        return;
      }
      const health = await runBundle(
        'health',
        env,
        `const t = performance.now(); const { handler } = await import('./functions/health.mjs');
         const init = performance.now() - t;
         const res = await handler({ routeKey: 'GET /health', headers: {}, requestContext: { http: { method: 'GET' } } }, { awsRequestId: 'x' });
         console.log(JSON.stringify({ init, status: res.statusCode, body: JSON.parse(res.body) })); process.exit(0);`,
      );
      const parsed = JSON.parse(health);
      t.diagnostic(`health bundle module initialisation: ${parsed.init.toFixed(1)} ms`);
      assert.equal(parsed.status, 200, health);
      assert.equal(parsed.body.database.reachable, true);
      const ingest = await runBundle(
        'ingest',
        env,
        `const { handler } = await import('./functions/ingest.mjs');
         const record = { messageId: 'm1', receiptHandle: 'r', body: JSON.stringify({ content: 'Bundled ingest works. '.repeat(20) }),
           attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs',
           eventSourceARN: 'arn:aws:sqs:eu-west-1:1:q', awsRegion: 'eu-west-1' };
         const res = await handler({ Records: [record] }, { awsRequestId: 'x', getRemainingTimeInMillis: () => 60000 });
         console.log(JSON.stringify(res)); process.exit(0);`,
      );
      assert.deepEqual(JSON.parse(ingest), { batchItemFailures: [] });
    });
  });
});
