/**
 * `--param auth=lightrag` packaged offline and run from its zips: API Gateway lets requests
 * through (no authorizer) and the streaming URL is open, so every API function must check
 * LightRAG's tokens itself, reading the login settings from their own Secrets Manager secret.
 * Proven with the health, documents and queryStream zips as deployed (secrets double, database
 * URL also only in a secret), and the roles checked against the calls those zips make.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../lib/auth/passwords.ts';
import {
  type Container,
  deployedFunctions,
  packageService,
  resourcesOfType,
  startContainer,
  type Template,
} from '../lib/deploy/lambda-sandbox.ts';
import { splitPrelude } from '../lib/http/streaming.ts';
import { apiEvent, type EventOptions } from './support/api-event.ts';
import { createTestDatabase, ZIPS_SKIP } from './support/database.ts';
import { compareGrants, needsFromCalls, withoutAction } from './support/iam-needs.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from './support/secrets-manager.ts';

const API_FUNCTIONS = ['health', 'documents', 'queryStream'] as const;
const SECRET = 'packaged-login-token-secret-of-40-chars-0';

const ofType = resourcesOfType;

describe('auth=lightrag (and webui=cloudfront) packaged offline with osls', () => {
  let outDir: string;
  let template: Template;

  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'lrs-package-login-'));
    ({ template } = await packageService(outDir, {
      params: ['--param=auth=lightrag', '--param=webui=cloudfront'],
    }));
  });

  it('puts no authorizer on any route and opens the streaming URL: the functions check', () => {
    const routes = ofType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    assert.ok(routes.length > 30);
    for (const route of routes) {
      assert.equal(route.AuthorizationType, undefined, route.RouteKey);
      assert.equal(route.AuthorizerId, undefined, route.RouteKey);
    }
    assert.deepEqual(ofType(template, 'AWS::ApiGatewayV2::Authorizer'), []);
    const [[, url]] = ofType(template, 'AWS::Lambda::Url') as [
      [string, Template['Resources'][string]],
    ];
    assert.equal(url.Properties.AuthType, 'NONE');
    // Only the API functions read the login secret, and must find a login in it.
    for (const [id, fn] of ofType(template, 'AWS::Lambda::Function')) {
      const vars = fn.Properties.Environment.Variables;
      const api = /^(Query|QueryStream|Documents|Health)LambdaFunction$/.test(id);
      assert.equal(vars.AUTH_SECRET_ID, api ? 'lightrag-serverless/ci/auth' : undefined, id);
      assert.equal(vars.REQUIRE_LOGIN, api ? 'true' : undefined, id);
    }
  });

  it('puts the WebUI, the API and the stream on one CloudFront origin, the bucket private', () => {
    const d = template.Resources.WebuiDistribution!.Properties.DistributionConfig;
    const origins = Object.fromEntries(d.Origins.map((o: { Id: string }) => [o.Id, o]));
    assert.deepEqual(Object.keys(origins).sort(), ['api', 'stream', 'webui']);
    assert.ok(
      origins.webui.OriginAccessControlId,
      'the bucket is read through origin access control',
    );
    assert.deepEqual(origins.stream.DomainName, {
      'Fn::Select': [
        2,
        { 'Fn::Split': ['/', { 'Fn::GetAtt': ['QueryStreamLambdaFunctionUrl', 'FunctionUrl'] }] },
      ],
    });
    const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
    // API paths uncached, every method, Authorization passed through.
    assert.equal(d.DefaultCacheBehavior.TargetOriginId, 'api');
    assert.equal(d.DefaultCacheBehavior.CachePolicyId, CACHING_DISABLED);
    assert.ok(d.DefaultCacheBehavior.AllowedMethods.includes('DELETE'));
    const byPath = Object.fromEntries(
      d.CacheBehaviors.map((b: { PathPattern: string }) => [b.PathPattern, b]),
    );
    assert.equal(byPath['/query/stream'].TargetOriginId, 'stream');
    assert.equal(byPath['/query/stream'].CachePolicyId, CACHING_DISABLED);
    assert.equal(byPath['/webui/*'].TargetOriginId, 'webui');
    assert.deepEqual(byPath['/webui/*'].AllowedMethods, ['GET', 'HEAD']);
    const bucket = template.Resources.WebuiBucket!.Properties;
    assert.deepEqual(Object.values(bucket.PublicAccessBlockConfiguration), [
      true,
      true,
      true,
      true,
    ]);
    const [read] = template.Resources.WebuiBucketPolicy!.Properties.PolicyDocument.Statement;
    assert.deepEqual(read.Principal, { Service: 'cloudfront.amazonaws.com' });
    assert.equal(read.Action, 's3:GetObject');
    assert.ok(read.Condition.StringEquals['AWS:SourceArn'], 'only this distribution');
    // The paths function: LightRAG's redirect, and the index under /webui/.
    const code = template.Resources.WebuiPaths!.Properties.FunctionCode as string;
    const handler = new Function(`${code}; return handler;`)() as (e: unknown) => any;
    assert.equal(handler({ request: { uri: '/' } }).headers.location.value, '/webui/');
    assert.equal(handler({ request: { uri: '/webui/' } }).uri, '/webui/index.html');
    assert.equal(handler({ request: { uri: '/query' } }).uri, '/query');
    assert.equal(handler({ request: { uri: '/redoc' } }).headers.location.value, '/docs');
    for (const [id, fn] of ofType(template, 'AWS::Lambda::Function'))
      assert.equal(fn.Properties.Environment.Variables.WEBUI_HOSTED, 'true', id);
  });

  describe('from the zips, as deployed', () => {
    let secrets: FakeSecretsManager;
    const containers: Partial<Record<(typeof API_FUNCTIONS)[number], Container>> = {};
    const skip = ZIPS_SKIP;

    before(async () => {
      if (skip) return;
      const deployed = template.Resources.HealthLambdaFunction!.Properties.Environment.Variables;
      const target = await createTestDatabase({
        AWS_REGION: 'us-east-1',
        EMBEDDING_DIM: deployed.EMBEDDING_DIM,
      });
      const { DATABASE_URL, ...rest } = target.env;
      secrets = await startFakeSecretsManager({
        [deployed.DATABASE_SECRET_ID]: DATABASE_URL!,
        [deployed.AUTH_SECRET_ID]: JSON.stringify({
          TOKEN_SECRET: SECRET,
          AUTH_ACCOUNTS: `alice:${await hashPassword('alice-password')}`,
        }),
      });
      // The template's own settings (providers, limits), then the test's endpoints.
      const fromTemplate = Object.fromEntries(
        Object.entries(deployed).filter(([, v]) => typeof v === 'string'),
      ) as Record<string, string>;
      const env = {
        ...fromTemplate,
        ...rest,
        DATABASE_SECRET_ID: deployed.DATABASE_SECRET_ID,
        AUTH_SECRET_ID: deployed.AUTH_SECRET_ID,
        REQUIRE_LOGIN: 'true',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        // What Lambda gives every function: the role's credentials (the double takes any).
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'example',
        LOG_LEVEL: 'warn',
      };
      const functions = deployedFunctions(template, outDir);
      for (const name of API_FUNCTIONS)
        containers[name] = await startContainer(functions[name]!, { env, recordAwsCalls: true });
    });
    after(async () => {
      for (const c of Object.values(containers)) await c?.close();
      await secrets?.close();
    });

    async function http(fn: (typeof API_FUNCTIONS)[number], routeKey: string, o?: EventOptions) {
      const out = await containers[fn]!.invoke(apiEvent(routeKey, o));
      assert.ok(out.ok, `${fn} threw: ${out.error?.message}\n${containers[fn]!.logs()}`);
      const res = out.result as { statusCode: number; body: string };
      return { ...res, json: res.body ? JSON.parse(res.body) : undefined };
    }

    let token = '';
    it('logs in from the secret and refuses what comes without a token', { skip }, async () => {
      const status = await http('health', 'GET /auth-status');
      assert.equal(status.statusCode, 200, status.body);
      assert.equal(status.json.auth_configured, true);
      const login = await http('health', 'POST /login', {
        rawBody: 'username=alice&password=alice-password&grant_type=password',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(login.statusCode, 200, `${login.body}\n${containers.health!.logs()}`);
      token = login.json.access_token;
      const refused = await http('documents', 'GET /documents/status_counts');
      assert.equal(refused.statusCode, 401, `${refused.body}\n${containers.documents!.logs()}`);
      const counts = await http('documents', 'GET /documents/status_counts', {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(counts.statusCode, 200, counts.body);
    });

    it('the open streaming URL refuses a request without a token before anything runs', {
      skip,
    }, async () => {
      const event = apiEvent('POST /query/stream', { body: { query: 'anything at all' } });
      const out = await containers.queryStream!.invoke({ ...event, routeKey: '$default' });
      assert.ok(out.ok, out.error?.message);
      const split = splitPrelude(Buffer.concat(out.streamed!.map((c) => c.data)))!;
      assert.equal(split.prelude.statusCode, 401);
      assert.match(split.body.toString(), /Not authenticated/);
    });

    it('grants the login secret to the roles whose zips read it, and they need it', {
      skip,
    }, () => {
      const calls = API_FUNCTIONS.flatMap((name) => containers[name]!.awsCalls());
      const reads = calls.filter((c) => c.command === 'GetSecretValueCommand');
      // Each container: the database URL and the login settings, once each (cold start).
      assert.equal(reads.length, API_FUNCTIONS.length * 2);
      const needs = needsFromCalls(template, calls, { queues: {}, buckets: {} });
      assert.deepEqual(compareGrants(template, needs).missing, []);
      for (const role of ['HealthRole', 'DocumentsRole', 'QueryRole']) {
        const { missing } = compareGrants(
          withoutAction(template, role, 'secretsmanager:GetSecretValue'),
          needs,
        );
        assert.ok(missing.length > 0, role);
      }
    });
  });
});
