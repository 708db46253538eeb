/**
 * The packaged CloudFormation templates against the CloudFormation resource specification
 * (test/support/cfn-spec.ts says what is checked and what needs AWS), and every deploy parameter
 * either defaulted or checked with a clear message (lib/deploy/params.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packageService, type Template } from '../lib/deploy/lambda-sandbox.ts';
import { DEPLOY_PARAMS } from '../lib/deploy/params.ts';
import { validateTemplate } from './support/cfn-spec.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('CloudFormation templates against the resource specification', () => {
  let main: Template;
  let layers: Template;
  const exportsOf = (t: Template) =>
    new Set(
      Object.values(t.Outputs ?? {}).flatMap((o: any) => (o.Export ? [String(o.Export.Name)] : [])),
    );

  before(async () => {
    main = (await packageService(mkdtempSync(join(tmpdir(), 'lrs-cfn-')))).template;
    const out = mkdtempSync(join(tmpdir(), 'lrs-cfn-layers-'));
    await run(
      join(ROOT, 'node_modules/.bin/osls'),
      ['package', '--stage', 'ci', '--region', 'eu-west-1', '--package', out],
      {
        cwd: join(ROOT, 'infra/layers'),
        env: {
          PATH: `${process.execPath.replace(/\/node$/, '')}:${process.env.PATH}`,
          HOME: process.env.HOME ?? '/root',
        },
      },
    );
    layers = JSON.parse(
      readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
    );
  });

  it('the layers stack passes and exports what the main stack imports', async () => {
    assert.deepEqual(await validateTemplate(layers), []);
    assert.ok(exportsOf(layers).size > 0);
  });

  it('the main stack passes, its imports resolved by the layers stack', async () => {
    assert.deepEqual(await validateTemplate(main, exportsOf(layers)), []);
  });

  it('the JWT, CORS and reservation variant passes too', async () => {
    const { template } = await packageService(mkdtempSync(join(tmpdir(), 'lrs-cfn-jwt-')), {
      params: [
        '--param=auth=jwt',
        '--param=jwtIssuer=https://issuer.example.com/',
        '--param=jwtAudience=rag-api',
        '--param=corsMode=origins',
        '--param=reserveConcurrency=true',
        '--param=alarmEmail=ops@example.com',
      ],
    });
    assert.deepEqual(await validateTemplate(template, exportsOf(layers)), []);
  });

  it('the LightRAG login and CloudFront WebUI variant passes too', async () => {
    const { template } = await packageService(mkdtempSync(join(tmpdir(), 'lrs-cfn-webui-')), {
      params: ['--param=auth=lightrag', '--param=webui=cloudfront'],
    });
    assert.ok(template.Resources.WebuiDistribution);
    assert.deepEqual(await validateTemplate(template, exportsOf(layers)), []);
  });

  it('finds what AWS would refuse: typos, missing properties, dangling references', async () => {
    const broken = structuredClone(main) as any;
    broken.Resources.IngestQueue.Properties.VisibilityTimout = 30;
    delete broken.Resources.IngestRole.Properties.AssumeRolePolicyDocument;
    broken.Resources.IngestQueue.Properties.MaximumMessageSize = 'large';
    broken.Resources.QueryRole.Properties.Policies[0].PolicyDocument.Statement[0].Resource = {
      'Fn::GetAtt': ['QueryLogGroup', 'Url'],
    };
    broken.Resources.ParseLambdaFunction.Properties.Environment.Variables.X = { Ref: 'Nowhere' };
    broken.Resources.Extra = { Type: 'AWS::SQS::Queues', Properties: {} };
    const problems = await validateTemplate(broken, exportsOf(layers));
    for (const expected of [
      /IngestQueue\(AWS::SQS::Queue\)\.VisibilityTimout: no such property/,
      /IngestRole\(AWS::IAM::Role\): required property AssumeRolePolicyDocument missing/,
      /MaximumMessageSize: expected a number/,
      /GetAtt QueryLogGroup\.Url: AWS::Logs::LogGroup has no attribute Url/,
      /Ref Nowhere names nothing/,
      /Extra: unknown resource type AWS::SQS::Queues/,
    ])
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${expected} in\n${problems.join('\n')}`,
      );
    // Without the layers stack, the import dangles.
    assert.ok(
      (await validateTemplate(main)).some((p) =>
        /ImportValue lightrag-serverless-ci-tiktoken-layer/.test(p),
      ),
    );
  });

  it('every parameter serverless.yml declares has a default and is checked before packaging', () => {
    const yml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
    const block = /params:\n {2}default:\n([\s\S]*?)\n\S/.exec(yml)![1]!;
    const declared = [...block.matchAll(/^ {4}(\w+):/gm)].map((m) => m[1]);
    assert.deepEqual(declared.sort(), Object.keys(DEPLOY_PARAMS).sort());
  });
});
