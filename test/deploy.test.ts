/**
 * What `npm run deploy` checks before AWS sees the stack: the parameters (every problem named,
 * with the parameter's name), the account's concurrency when reserving (against a Lambda API on
 * loopback), and that the layers stack packages offline like the main one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  checkAccountConcurrency,
  plannedReservations,
  UNRESERVED_MINIMUM,
} from '../lib/deploy/account-concurrency.ts';
import { checkDeployParams, checkStage } from '../lib/deploy/params.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('deploy parameters', () => {
  it('accepts the defaults and the README examples', () => {
    assert.deepEqual(checkDeployParams([]).problems, []);
    assert.deepEqual(
      checkDeployParams([
        '--param=auth=jwt',
        '--param',
        'jwtIssuer=https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
        '--param=jwtAudience=client-id',
        '--param=corsMode=origins',
        '--param=corsOrigins=https://app.example.com',
        '--param=connectionBudget=377',
        '--param=ingestConcurrency=96',
        '--param=apiConcurrency=50',
        '--param=reserveConcurrency=true',
      ]).problems,
      [],
    );
  });

  it('names the missing JWT parameters instead of a CloudFormation property', () => {
    const { problems } = checkDeployParams(['--param=auth=jwt']);
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^jwtIssuer: auth=jwt needs the issuer URL/);
    assert.match(problems[1]!, /^jwtAudience: auth=jwt needs the audience/);
  });

  it('takes auth=lightrag with its secret by name', () => {
    assert.deepEqual(checkDeployParams(['--param=auth=lightrag']).problems, []);
    assert.deepEqual(
      checkDeployParams(['--param=auth=lightrag', '--param=authSecret=team/rag-auth']).problems,
      [],
    );
    const { problems } = checkDeployParams([
      '--param=auth=oidc',
      '--param=authSecret=arn:aws:secretsmanager:eu-west-1:1:secret:x',
    ]);
    assert.match(problems[0]!, /^auth: "oidc" is not iam, jwt or lightrag/);
    assert.match(problems[1]!, /^authSecret: .* must be the secret's name/);
  });

  it('puts the WebUI on CloudFront only with LightRAG login', () => {
    assert.deepEqual(
      checkDeployParams(['--param=auth=lightrag', '--param=webui=cloudfront']).problems,
      [],
    );
    assert.match(
      checkDeployParams(['--param=webui=cloudfront']).problems[0]!,
      /^webui: cloudfront needs --param="auth=lightrag"/,
    );
    assert.match(checkDeployParams(['--param=webui=s3']).problems[0]!, /^webui: "s3" is not none/);
  });

  it('reports every problem at once, typos included', () => {
    const { problems } = checkDeployParams([
      '--param=auth=jwt',
      '--param=jwtIssuer=http://insecure.example.com',
      '--param=jwtAudience=a',
      '--param=ingestConcurency=5',
      '--param=ingestConcurrency=1',
      '--param=databaseSecret=arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf',
      '--param=reserveConcurrency=yes',
      '--param=alarmEmail=ops',
    ]);
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      [
        'ingestConcurency',
        'jwtIssuer',
        'databaseSecret',
        'ingestConcurrency',
        'reserveConcurrency',
        'alarmEmail',
      ],
    );
  });

  it('accepts only stages that make valid bucket and function names', () => {
    for (const ok of ['dev', 'prod', 'eu-1', 'a'.repeat(22)])
      assert.deepEqual(checkStage(ok), [], ok);
    for (const bad of ['Prod', 'my_stage', '', '-x', 'a'.repeat(23)])
      assert.match(checkStage(bad)[0] ?? '', /^stage: /, bad);
  });

  it('npm run package stops on them before packaging, naming the parameter', async () => {
    const err = await run(
      process.execPath,
      [join(ROOT, 'scripts/deploy.ts'), 'package', '--param=auth=jwt'],
      {
        cwd: ROOT,
      },
    ).then(
      () => assert.fail('expected exit 1'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(err.stderr, /jwtIssuer: auth=jwt needs the issuer URL/);
    assert.doesNotMatch(err.stderr, /issuerUrl/);
  });
});

describe('reserved concurrency against the account', () => {
  const planned = { 'svc-query': 10, 'svc-documents': 10, 'svc-queryStream': 4, 'svc-health': 2 };

  it('passes when the account keeps its unreserved minimum', () => {
    const v = checkAccountConcurrency({
      accountLimit: 1000,
      unreserved: 1000,
      current: {},
      planned,
    });
    assert.equal(v.ok, true);
    assert.equal(v.unreservedAfter, 974);
  });

  it('refuses a new account with a low quota, saying what to do', () => {
    const v = checkAccountConcurrency({ accountLimit: 10, unreserved: 10, current: {}, planned });
    assert.equal(v.ok, false);
    assert.match(v.message, /would leave -16 unreserved, but Lambda keeps at least 100/);
    assert.match(v.message, /reserveConcurrency=false/);
  });

  it("counts this stack's own reservations as returned on update", () => {
    const v = checkAccountConcurrency({
      accountLimit: 150,
      unreserved: UNRESERVED_MINIMUM,
      current: planned,
      planned,
    });
    assert.equal(v.ok, true, v.message);
  });

  it('the script asks Lambda for the account and the functions, and fails before deploy', async () => {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url!);
      res.setHeader('content-type', 'application/json');
      if (req.url === '/2016-08-19/account-settings') {
        res.end(
          JSON.stringify({
            AccountLimit: { ConcurrentExecutions: 50, UnreservedConcurrentExecutions: 50 },
            AccountUsage: {},
          }),
        );
      } else if (req.url?.includes('svc-query/concurrency')) {
        res.end(JSON.stringify({ ReservedConcurrentExecutions: 5 }));
      } else {
        res.statusCode = 404;
        res.setHeader('x-amzn-errortype', 'ResourceNotFoundException');
        res.end(JSON.stringify({ Type: 'User', Message: 'Function not found' }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'lrs-concurrency-'));
    const template = join(dir, 'template.json');
    const resources = Object.fromEntries(
      Object.entries(planned).map(([name, n]) => [
        name,
        {
          Type: 'AWS::Lambda::Function',
          Properties: { FunctionName: name, ReservedConcurrentExecutions: n },
        },
      ]),
    );
    writeFileSync(template, JSON.stringify({ Resources: resources }));
    assert.deepEqual(plannedReservations({ Resources: resources }), planned);
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-west-1',
    };
    try {
      const err = await run(
        process.execPath,
        [join(ROOT, 'scripts/check-account-concurrency.ts'), template],
        { env },
      ).then(
        () => assert.fail('expected exit 1'),
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal(err.code, 1);
      // 50 unreserved + 5 returned by svc-query - 26 planned = 29.
      assert.match(err.stderr, /would leave 29 unreserved/);
      assert.ok(asked.includes('/2016-08-19/account-settings'));
      assert.equal(asked.filter((u) => u.endsWith('/concurrency')).length, 4);
    } finally {
      server.close();
    }
    // A template reserving nothing is not checked (and needs no credentials).
    writeFileSync(template, JSON.stringify({ Resources: {} }));
    const none = await run(process.execPath, [
      join(ROOT, 'scripts/check-account-concurrency.ts'),
      template,
    ]);
    assert.match(none.stdout, /nothing to check/);
  });
});

describe('the layers stack', () => {
  it('packages offline, without AWS credentials', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'lrs-layers-'));
    await run('bash', [join(ROOT, 'scripts/build-layers.sh')], { cwd: ROOT });
    const env: Record<string, string> = {
      PATH: `${process.execPath.replace(/\/node$/, '')}:${process.env.PATH}`,
      HOME: process.env.HOME ?? '/root',
    };
    await run(
      join(ROOT, 'node_modules/.bin/osls'),
      ['package', '--stage', 'ci', '--region', 'eu-west-1', '--package', out],
      {
        cwd: join(ROOT, 'infra/layers'),
        env,
      },
    );
    assert.ok(existsSync(join(out, 'tiktoken.zip')));
    assert.ok(existsSync(join(out, 'cloudformation-template-update-stack.json')));
  });
});
