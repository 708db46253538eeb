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
import { checkConnectionBudget } from '../lib/deploy/connection-budget.ts';
import {
  type Container,
  deployedFunctions,
  packageService,
  sqsRecord,
  startContainer,
  type Template,
} from '../lib/deploy/lambda-sandbox.ts';
import { API_ROUTES } from '../lib/http/routes.ts';
import { apiEvent, type EventOptions } from './support/api-event.ts';
import { createTestDatabase, ON_SERVER, TARGET } from './support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from './support/scripted-llm.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Each function's zip must stay within this (issue budget). */
const ZIP_BUDGET_BYTES = 250 * 1024;
const FUNCTIONS = ['ingest', 'query', 'documents', 'health'];

const ofType = (t: Template, type: string) =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);

describe('serverless.yml packaged offline with osls', () => {
  let outDir: string;
  let template: Template;

  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'lrs-package-'));
    ({ template } = await packageService(outDir));
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
    const tokenizerLayer = [{ 'Fn::ImportValue': 'lightrag-serverless-ci-tiktoken-layer' }];
    for (const fn of ['Ingest', 'Query', 'Documents'])
      assert.deepEqual(
        template.Resources[`${fn}LambdaFunction`]!.Properties.Layers,
        tokenizerLayer,
      );
    assert.equal(template.Resources.HealthLambdaFunction!.Properties.Layers, undefined);
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
    const { template: jwt } = await packageService(jwtDir, {
      params: [
        '--param=auth=jwt',
        '--param=jwtIssuer=https://issuer.example.com/',
        '--param=jwtAudience=rag-api',
        '--param=corsMode=origins',
        '--param=corsOrigins=https://app.example.com',
      ],
    });
    const [[, authorizer]] = ofType(jwt, 'AWS::ApiGatewayV2::Authorizer') as [[string, any]];
    assert.equal(authorizer.Properties.AuthorizerType, 'JWT');
    assert.deepEqual(authorizer.Properties.JwtConfiguration, {
      Issuer: 'https://issuer.example.com/',
      Audience: ['rag-api'],
    });
    // Scopes per route family: read, write, delete.
    const family = (key: string) =>
      key.startsWith('DELETE ')
        ? 'lightrag/delete'
        : key === 'POST /documents' || key === 'POST /documents/reprocess'
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
  });

  describe(`every function from its own zip, as deployed, on ${TARGET}`, () => {
    // Each function runs as Lambda runs it (lib/deploy/lambda-sandbox.ts): its zip alone, with
    // only the layers the packaged template attaches to it mounted at /opt, one container per
    // function serving all its invocations (cold, then warm).
    let llm: ScriptedLlm;
    let env: Record<string, string>;
    const containers: Record<string, Container> = {};
    const skip =
      (process.env.TEST_DATABASE_DRIVER ?? 'neon') !== 'neon' || !ON_SERVER
        ? 'the bundles carry only the Neon driver (PGlite and pg are excluded by design)'
        : false;

    before(async () => {
      if (skip) return;
      llm = await startScriptedLlm();
      const target = await createTestDatabase({
        EMBEDDING_PROVIDER: 'hash',
        ...scriptedLlmEnv(llm),
        FORCE_LLM_SUMMARY_ON_MERGE: '2',
      });
      env = { ...target.env, LOG_LEVEL: 'warn' };
      const functions = deployedFunctions(template, outDir);
      for (const name of FUNCTIONS)
        containers[name] = await startContainer(functions[name]!, { env });
    });
    after(async () => {
      for (const c of Object.values(containers)) await c.close();
      await llm?.close();
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

    it('only the token-counting functions get the tokenizer layer', { skip }, (t) => {
      const functions = deployedFunctions(template, outDir);
      for (const name of ['ingest', 'query', 'documents'])
        assert.equal(functions[name]!.layerDirs.length, 1, name);
      assert.deepEqual(functions.health!.layerDirs, []);
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
      ] as const) {
        const out = await containers.ingest!.invoke({
          Records: [record(id, { content, filePath })],
        });
        assert.ok(out.ok, out.error?.message);
        assert.deepEqual(out.result, { batchItemFailures: [] }, containers.ingest!.logs());
      }
      assert.ok(llm.count('extract') >= 2);
      assert.ok(llm.count('summary') >= 1, 'Marie Curie has two fragments: summarised');
    });

    it('documents lists and gets from its zip', { skip }, async () => {
      const list = await http('documents', 'GET /documents');
      assert.equal(list.statusCode, 200, list.body);
      const docs = list.json.documents as Array<{ id: string; status: string; file_path: string }>;
      assert.deepEqual(
        docs.map((d) => d.status),
        ['processed', 'processed'],
      );
      const a = docs.find((d) => d.file_path === 'a.md')!;
      const one = await http('documents', 'GET /documents/{id}', { pathParameters: { id: a.id } });
      assert.equal(one.statusCode, 200, one.body);
      assert.equal(one.json.id, a.id);
    });

    it('query answers naive and mix mode, and serves the graph routes, from its zip', {
      skip,
    }, async () => {
      const naive = await http('query', 'POST /query', {
        body: { query: 'Who discovered radium?', mode: 'naive' },
      });
      assert.equal(naive.statusCode, 200, naive.body);
      assert.match(naive.json.answer, /^ANSWER with 0 entities, 0 relations, [1-9] chunks/);
      llm.keywords.set('Who married Marie Curie?', {
        high_level_keywords: ['marriage'],
        low_level_keywords: ['Marie Curie'],
      });
      const mix = await http('query', 'POST /query', {
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
      const list = await http('documents', 'GET /documents');
      const a = list.json.documents.find((d: { file_path: string }) => d.file_path === 'a.md');
      const deleted = await http('documents', 'DELETE /documents/{id}', {
        pathParameters: { id: a.id },
      });
      assert.equal(deleted.statusCode, 200, deleted.body);
      assert.equal(deleted.json.graph.entitiesDeleted, 1, 'Radium was only in A');
      assert.equal(deleted.json.graph.entitiesRebuilt, 1, 'Marie Curie rebuilt from B');
      const gone = await http('documents', 'GET /documents/{id}', { pathParameters: { id: a.id } });
      assert.equal(gone.statusCode, 404);
      const after = await http('query', 'GET /graph', { query: { label: '*' } });
      assert.deepEqual(after.json.nodes.map((n: { id: string }) => n.id).sort(), [
        'Marie Curie',
        'Pierre Curie',
      ]);
    });
  });
});
