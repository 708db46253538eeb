/**
 * `lightrag-serverless doctor` against a healthy stack (a database with the schema, the scripted
 * LLM, the hash embedder, real SQS queues with a DLQ) and against each failure it reports.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { loadConfig } from '../../lib/config.ts';
import { Database } from '../../lib/db/database.ts';
import { type Finding, pgvectorFinding, runDoctor } from '../../lib/ops/doctor.ts';
import { applySchema } from '../../lib/storage/schema.ts';
import { createTestDatabase, ON_SERVER, quietLogger, TARGET } from '../support/database.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const verdicts = (findings: Finding[]) =>
  Object.fromEntries(findings.map((f) => [f.check, f.verdict]));
const finding = (findings: Finding[], check: string) => findings.find((f) => f.check === check)!;

describe(`doctor on ${TARGET}`, () => {
  let llm: ScriptedLlm;
  let queues: TestQueues;
  let env: Record<string, string>;

  before(async () => {
    llm = await startScriptedLlm();
    queues = await startTestQueues();
    const target = await createTestDatabase({ ...scriptedLlmEnv(llm), EMBEDDING_DIM: '32' });
    env = {
      ...target.env,
      INGEST_QUEUE_URL: queues.queueUrl,
      SQS_ENDPOINT: queues.endpoint,
      AWS_REGION: 'us-east-1',
    };
    // A database that outlives one connection (PGlite: a data folder).
    if (!ON_SERVER) env.PGLITE_DATA_DIR = mkdtempSync(`${tmpdir()}/lrs-doctor-`);
    const db = new Database(loadConfig(env).database, quietLogger);
    await applySchema(db, loadConfig(env).vector);
    await db.end();
  });
  after(async () => {
    await queues.stop();
    await llm.close();
  });

  it('finds nothing wrong with a healthy stack', async () => {
    const findings = await runDoctor(env);
    assert.deepEqual(verdicts(findings), {
      configuration: 'ok',
      database: 'ok',
      pgvector: 'ok',
      schema: 'ok',
      'graph upkeep': 'ok',
      embedding: 'ok',
      llm: 'ok',
      queue: 'ok',
      dlq: 'ok',
    });
    assert.match(
      finding(findings, 'database').detail,
      /PostgreSQL \d+ reachable through the (neon|pg|pglite) driver, round trip [\d.]+ ms/,
    );
    assert.match(finding(findings, 'embedding').detail, /returned 32 dimensions/);
  });

  it('lists every configuration problem at once, and checks nothing else', async () => {
    const findings = await runDoctor({ ...env, EMBEDDING_DIM: 'many', LLM_PROVIDER: 'nope' });
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.verdict, 'fail');
    assert.match(findings[0]!.detail, /EMBEDDING_DIM.*LLM_PROVIDER|LLM_PROVIDER.*EMBEDDING_DIM/);
  });

  it('a database that is down', async () => {
    const { NEON_WS_PROXY: _bridge, PGLITE_DATA_DIR: _dir, ...rest } = env;
    const findings = await runDoctor({
      ...rest,
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nowhere',
      DATABASE_DRIVER: 'pg',
    });
    const db = finding(findings, 'database');
    assert.equal(db.verdict, 'fail');
    assert.match(db.fix ?? '', /DATABASE_URL/);
    assert.equal(
      findings.find((f) => f.check === 'schema'),
      undefined,
      'no schema check without a database',
    );
  });

  it('the WebSocket driver forced onto a server that speaks only TCP: names the driver and the fix', async () => {
    const { NEON_WS_PROXY: _bridge, PGLITE_DATA_DIR: _dir, ...rest } = env;
    const findings = await runDoctor(
      {
        ...rest,
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nowhere',
        DATABASE_DRIVER: 'neon',
        POSTGRES_CONNECT_TIMEOUT_MS: '2000',
      },
      { skipProviders: true },
    );
    const db = finding(findings, 'database');
    assert.equal(db.verdict, 'fail');
    assert.match(db.detail, /through the neon driver/);
    assert.match(db.fix ?? '', /DATABASE_DRIVER=pg/);
  });

  it('a configuration whose dimension does not match the tables', async () => {
    const findings = await runDoctor({ ...env, EMBEDDING_DIM: '64' });
    const schema = finding(findings, 'schema');
    assert.equal(schema.verdict, 'fail');
    assert.match(schema.detail, /stores 32-dimension vectors but EMBEDDING_DIM is 64/);
  });

  it('checks the extraction and uploads queues and the uploads bucket too', async () => {
    const extraction = (
      await queues.sqs.send(new CreateQueueCommand({ QueueName: 'doctor-extraction' }))
    ).QueueUrl!;
    const uploadsDlq = (
      await queues.sqs.send(new CreateQueueCommand({ QueueName: 'doctor-uploads-dlq' }))
    ).QueueUrl!;
    const uploads = (
      await queues.sqs.send(
        new CreateQueueCommand({
          QueueName: 'doctor-uploads',
          Attributes: {
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:doctor-uploads-dlq',
              maxReceiveCount: 3,
            }),
          },
        }),
      )
    ).QueueUrl!;
    const s3 = new S3Client({
      endpoint: queues.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'doctor-uploads' }));
    s3.destroy();
    {
      await queues.sqs.send(new SendMessageCommand({ QueueUrl: uploadsDlq, MessageBody: '{}' }));
      const findings = await runDoctor(
        {
          ...env,
          EXTRACTION_QUEUE_URL: extraction,
          UPLOADS_QUEUE_URL: uploads,
          UPLOAD_BUCKET: 'doctor-uploads',
          S3_ENDPOINT: queues.endpoint,
        },
        { skipProviders: true, sqs: undefined },
      );
      const v = verdicts(findings);
      assert.equal(v['queue:extraction'], 'ok');
      assert.equal(v['dlq:extraction'], 'warn', 'the extraction queue here has no redrive policy');
      assert.equal(v['queue:uploads'], 'ok');
      assert.equal(v['dlq:uploads'], 'warn');
      assert.match(finding(findings, 'dlq:uploads').fix ?? '', /redrive to the uploads queue/);
      assert.equal(v.bucket, 'ok');
      const missing = await runDoctor(
        { ...env, UPLOAD_BUCKET: 'no-such-bucket', S3_ENDPOINT: queues.endpoint },
        { skipProviders: true },
      );
      assert.equal(verdicts(missing).bucket, 'fail');
      assert.match(finding(missing, 'bucket').fix ?? '', /UPLOAD_BUCKET/);
      const unreachable = await runDoctor(
        { ...env, EXTRACTION_QUEUE_URL: `${queues.endpoint}/000000000000/no-such-queue` },
        { skipProviders: true },
      );
      assert.equal(verdicts(unreachable)['queue:extraction'], 'fail');
      assert.match(finding(unreachable, 'queue:extraction').fix ?? '', /EXTRACTION_QUEUE_URL/);
    }
  });

  it('an old pgvector (simulated), a missing one, a current one', () => {
    const old = pgvectorFinding('0.7.4');
    assert.equal(old.verdict, 'warn');
    assert.match(old.detail, /no iterative index scans/);
    assert.match(old.fix ?? '', /pgvector ≥ 0\.8/);
    assert.equal(pgvectorFinding(null).verdict, 'fail');
    assert.equal(pgvectorFinding('0.8.0').verdict, 'ok');
    assert.equal(pgvectorFinding('1.0.0').verdict, 'ok');
  });

  it('a provider refusing, and messages in the DLQ, through the CLI with exit 1', async () => {
    llm.faults.push({ kind: 'answer', status: 401 });
    await queues.sqs.send(new SendMessageCommand({ QueueUrl: queues.dlqUrl, MessageBody: '{}' }));
    const { runCli } = await import('../../lib/cli/main.ts');
    const out: string[] = [];
    const code = await runCli(['doctor', '--json'], {
      env,
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    assert.equal(code, 1);
    const { ok, findings } = JSON.parse(out.join('\n'));
    assert.equal(ok, false);
    const llmFinding = finding(findings, 'llm');
    assert.equal(llmFinding.verdict, 'fail');
    assert.match(llmFinding.detail, /401/);
    assert.match(llmFinding.fix ?? '', /LLM_API_KEY/);
    assert.equal(finding(findings, 'dlq').verdict, 'warn');
    await queues.purge();
  });
});
