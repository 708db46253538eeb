import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, NEEDS_SERVER, quietLogger, TARGET } from './support/database.ts';
import { makeDocx, makePdf, makePptx } from './support/files.ts';
import { startTestQueues } from './support/queue.ts';

const BIN = fileURLToPath(new URL('../bin/lightrag-serverless.ts', import.meta.url));

/** Runs the CLI asynchronously: the test process may be serving the WebSocket bridge it uses. */
function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe(`lightrag-serverless CLI on ${TARGET}`, () => {
  it('init-db creates the schema, then verifies it, exiting 0 both times', async () => {
    const target = await createTestDatabase();
    const env = { ...target.env };
    if (env.DATABASE_DRIVER === 'pglite') {
      // A data folder, so the second run sees what the first one wrote.
      const { mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      env.PGLITE_DATA_DIR = mkdtempSync(`${tmpdir()}/lrs-cli-`);
    }
    const first = await run(['init-db'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Schema created/);
    assert.match(first.stdout, /lightrag_vdb_chunks/);
    const second = await run(['init-db', '--json'], env);
    assert.equal(second.code, 0, second.stderr);
    const summary = JSON.parse(second.stdout);
    assert.equal(summary.status, 'verified');
    assert.equal(summary.config.vector.dimension, 32);
  });

  it('answers --help for every command with its own usage', async () => {
    for (const command of ['query', 'ingest', 'enqueue', 'doctor', 'upkeep', 'usage']) {
      const result = await run([command, '--help'], { LOG_LEVEL: 'silent' });
      assert.equal(result.code, 0, `${command}: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`^Usage: lightrag-serverless ${command}`));
      assert.match(result.stdout, new RegExp(`\\n  ${command} `));
    }
  });

  it('exits 2 with every configuration problem listed and no secret shown', async () => {
    const result = await run(['init-db'], {
      DATABASE_URL: 'mysql://admin:very-secret-pw@db/app',
      EMBEDDING_DIM: 'many',
      LOG_LEVEL: 'silent',
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /DATABASE_URL: is not a postgres:\/\//);
    assert.match(result.stderr, /EMBEDDING_DIM: "many" is not a whole number/);
    assert.doesNotMatch(result.stderr + result.stdout, /very-secret-pw/);
  });

  it('exits 1 with a retryable message when the database is down', async () => {
    const result = await run(['init-db'], {
      DATABASE_URL: 'postgres://u:pw-hidden@127.0.0.1:1/db',
      DATABASE_DRIVER: 'pg',
      POSTGRES_CONNECT_TIMEOUT_MS: '500',
      LOG_LEVEL: 'silent',
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /DATABASE_UNAVAILABLE/);
    assert.doesNotMatch(result.stderr, /pw-hidden/);
  });

  it('rejects unknown commands and options with usage', async () => {
    const unknown = await run(['frobnicate'], {});
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "frobnicate"/);
    const badOption = await run(['init-db', '--nope'], { LOG_LEVEL: 'silent' });
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /Usage: lightrag-serverless/);
    assert.equal((await run(['help'], {})).code, 0);
  });
});

describe(`lightrag-serverless ingest and enqueue on ${TARGET}`, () => {
  const SAMPLES = fileURLToPath(new URL('../samples/', import.meta.url));

  it('ingest processes the sample corpus and prints ids, statuses and throughput', async () => {
    const target = await createTestDatabase();
    const result = await run(
      ['ingest', `${SAMPLES}*.md`, `${SAMPLES}knowledge-graphs.jsonl`, '--workspace', 'cli_ws'],
      target.env,
    );
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.filter((l) => /^doc-[0-9a-f]{32} {2}processed/.test(l)).length, 5);
    // Each line of the .jsonl is its own document, named after the file and the line (issue 25 #1).
    assert.ok(lines.some((l) => l.endsWith('knowledge-graphs.jsonl#1')));
    assert.ok(lines.some((l) => l.endsWith('knowledge-graphs.jsonl#2')));
    assert.equal(new Set(lines.slice(0, 5).map((l) => l.split(' ')[0])).size, 5, 'five ids');
    assert.match(
      lines.at(-1)!,
      /^5 processed, 0 failed of 5 documents, \d+ chunks .* chunks\/s, [\d.]+ database round trips per document/,
    );
  });

  it('ingesting the same files again finds the same documents, and the summary says so', {
    skip: NEEDS_SERVER,
  }, async () => {
    const target = await createTestDatabase();
    const inputs = ['ingest', `${SAMPLES}knowledge-graphs.jsonl`, '--workspace', 'again'];
    assert.equal((await run(inputs, target.env)).code, 0);
    const again = await run(inputs, target.env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout.trim().split('\n').at(-1)!,
      /^0 processed, 2 already processed, 0 failed of 2 documents$/,
    );
  });

  it('ingest parses PDF, DOCX and PPTX files locally; a bad file is reported, not ingested', async () => {
    const { mkdtempSync, writeFileSync, copyFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/lrs-cli-files-`);
    writeFileSync(
      `${dir}/report.pdf`,
      makePdf([['Argon is a noble gas.'], ['It is used in welding.']]),
    );
    writeFileSync(`${dir}/memo.docx`, makeDocx(['Krypton glows white.']));
    writeFileSync(`${dir}/deck.pptx`, makePptx([['Xenon lamps'], ['are bright.']]));
    copyFileSync(new URL('./fixtures/files/encrypted.pdf', import.meta.url), `${dir}/secret.pdf`);
    const target = await createTestDatabase();
    const result = await run(['ingest', `${dir}/*`, '--json'], target.env);
    assert.equal(result.code, 1, 'one file could not be read');
    assert.match(result.stderr, /secret\.pdf: The PDF is password-protected/);
    const { results } = JSON.parse(result.stdout);
    assert.deepEqual(
      results.map((r: { status: string }) => r.status),
      ['processed', 'processed', 'processed'],
    );
  });

  it('ingest reports unreadable inputs and exits 1, and exits 2 without inputs', async () => {
    const target = await createTestDatabase();
    const bad = await run(
      ['ingest', `${SAMPLES}missing.md`, `${SAMPLES}../package.json`],
      target.env,
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /missing\.md: no such file/);
    assert.match(
      bad.stderr,
      /package\.json: expected a string or an object with a "content" string/,
    );
    assert.equal((await run(['ingest'], target.env)).code, 2);
    // An empty text file is refused at once, as an empty PDF is, with an honest summary.
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const empty = `${mkdtempSync(`${tmpdir()}/lrs-empty-`)}/empty.txt`;
    writeFileSync(empty, '  \n');
    const started = Date.now();
    const refused = await run(['ingest', empty], target.env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /empty\.txt: the file is empty/);
    assert.match(refused.stdout, /^0 processed, 1 failed of 1 documents$/m);
    assert.ok(Date.now() - started < 10_000, 'refused before any database work');
    // --upload with no API running says what to do, not "fetch failed".
    const noApi = await run(
      ['ingest', empty, '--upload', '--api-url', 'http://127.0.0.1:9'],
      target.env,
    );
    assert.equal(noApi.code, 1);
    assert.match(
      noApi.stdout + noApi.stderr,
      /No API answers at http:\/\/127\.0\.0\.1:9.*npm start/,
    );
  });

  it('enqueue sends files to the queue; the ingest function processes them', async () => {
    const target = await createTestDatabase();
    const queues = await startTestQueues();
    try {
      const result = await run(
        [
          'enqueue',
          `${SAMPLES}*.md`,
          '--queue-url',
          queues.queueUrl,
          '--endpoint',
          queues.endpoint,
          '--json',
        ],
        { ...target.env, AWS_REGION: 'us-east-1' },
      );
      assert.equal(result.code, 0, result.stderr);
      const { results } = JSON.parse(result.stdout);
      assert.equal(results.length, 3);
      assert.ok(
        results.every(
          (r: { status: string; docId: string }) => r.status === 'queued' && /^doc-/.test(r.docId),
        ),
      );
      assert.equal(await queues.depth(queues.queueUrl), 3);
      const missingQueue = await run(['enqueue', `${SAMPLES}*.md`], target.env);
      assert.equal(missingQueue.code, 2);
      assert.match(missingQueue.stderr, /No queue URL/);
      // --wait without a database to follow: refused before anything is sent (issue 25 #4).
      const noDatabase = await run(
        [
          'enqueue',
          `${SAMPLES}*.md`,
          '--queue-url',
          queues.queueUrl,
          '--endpoint',
          queues.endpoint,
          '--wait',
        ],
        {
          AWS_REGION: 'us-east-1',
          LOG_LEVEL: 'silent',
          EMBEDDING_DIM: '32',
          PGLITE_DATA_DIR: 'memory://',
        },
      );
      assert.equal(noDatabase.code, 2);
      assert.match(noDatabase.stderr, /--wait needs the database .* nothing was sent/);
      assert.equal(await queues.depth(queues.queueUrl), 3, 'nothing more was sent');
    } finally {
      await queues.stop();
    }
  });

  it('enqueue --wait follows documents until the ingest function has processed them', {
    skip: NEEDS_SERVER,
  }, async () => {
    const target = await createTestDatabase();
    const queues = await startTestQueues();
    const { IngestPipeline } = await import('../lib/pipeline/ingest.ts');
    const { HashEmbedder } = await import('../lib/embedding/hash.ts');
    const { loadConfig } = await import('../lib/config.ts');
    const { LocalSqsPoller } = await import('../lib/queue/poller.ts');
    const { decodeIngestMessage: parseIngestMessage } = await import('../lib/queue/messages.ts');
    // The "Lambda": a poller in this process running the pipeline on the same database.
    const config = loadConfig(target.env);
    const pipeline = new IngestPipeline(
      target.open(),
      config,
      new HashEmbedder(config.vector.dimension),
      quietLogger,
    );
    const poller = new LocalSqsPoller({
      sqs: queues.sqs,
      queueUrl: queues.queueUrl,
      handler: async (event) => {
        for (const r of event.Records)
          await pipeline.ingest(parseIngestMessage(r.body, config.ingest));
        return { batchItemFailures: [] };
      },
    });
    poller.start();
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const large = `${mkdtempSync(`${tmpdir()}/lrs-enqueue-`)}/large.md`;
    writeFileSync(large, 'A document larger than one queue message. '.repeat(60));
    try {
      const result = await run(
        [
          'enqueue',
          large,
          '--queue-url',
          queues.queueUrl,
          '--endpoint',
          queues.endpoint,
          '--wait',
          '--timeout',
          '60',
        ],
        { ...target.env, AWS_REGION: 'us-east-1', SQS_MAX_MESSAGE_BYTES: '1024' },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /queued \(by reference\) {2}→ processed/);
      assert.match(result.stdout, /1 queued \(1 by reference\), 0 already processed, 0 failed/);
    } finally {
      await poller.stop();
      await queues.stop();
    }
  });
});

describe(`lightrag-serverless query on ${TARGET}`, () => {
  const SAMPLES = fileURLToPath(new URL('../samples/', import.meta.url));

  it('retrieves context for a question from ingested documents', async () => {
    const target = await createTestDatabase();
    const env = { ...target.env };
    if (env.DATABASE_DRIVER === 'pglite') {
      const { mkdtempSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      env.PGLITE_DATA_DIR = mkdtempSync(`${tmpdir()}/lrs-query-`);
    }
    assert.equal((await run(['ingest', `${SAMPLES}*.md`], env)).code, 0);
    const result = await run(
      ['query', 'How does an HNSW index trade build time for recall?', '--top-k', '2', '--json'],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    const response = JSON.parse(result.stdout);
    assert.equal(response.mode, 'mix', 'the default mode');
    assert.deepEqual(response.keywords.low_level, [
      'How does an HNSW index trade build time for recall?',
    ]);
    assert.equal(response.answer, null, 'no LLM configured');
    assert.match(response.context.chunks[0].file_path, /pgvector-indexes\.md$/);
    const text = await run(['query', 'dead-letter queue', '--top-k', '1'], env);
    assert.match(text.stdout, /\[1\] [\d.]+ {2}.*sqs-redrive\.md/);
    assert.match(text.stdout, /No LLM configured/);
    const graph = await run(['query', 'dead-letter queue', '--mode', 'local'], env);
    assert.equal(graph.code, 0, graph.stderr);
    assert.match(
      graph.stdout,
      /0 entities, 0 relations, 0 chunks/,
      'no graph without an LLM at ingest',
    );
    const naive = await run(['query', 'dead-letter queue', '--mode', 'naive', '--top-k', '1'], env);
    assert.match(naive.stdout, /sqs-redrive\.md/);
    const badTopK = await run(['query', 'x', '--top-k', 'lots'], env);
    assert.equal(badTopK.code, 1);
    assert.match(badTopK.stderr, /"top_k" must be an integer/);
    assert.equal((await run(['query'], env)).code, 2);
  });
});
