import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { matchRoute } from '../lib/http/routes.ts';
import { type LocalStack, startLocalStack } from '../lib/local/stack.ts';
import { createTestDatabase, TARGET } from './support/database.ts';

describe('route matching', () => {
  it('prefers literal paths and extracts parameters', () => {
    assert.deepEqual(matchRoute('GET', '/documents/status-counts'), {
      routeKey: 'GET /documents/status-counts',
      fn: 'documents',
    });
    assert.deepEqual(matchRoute('GET', '/documents/doc-1'), {
      routeKey: 'GET /documents/{id}',
      fn: 'documents',
      pathParameters: { id: 'doc-1' },
    });
    assert.equal(matchRoute('PUT', '/documents/doc-1'), undefined);
    assert.equal(matchRoute('GET', '/documents/a/b'), undefined);
  });
});

describe(`local stack (npm start) on ${TARGET}`, () => {
  let stack: LocalStack;
  const savedEnv = { ...process.env };

  before(async () => {
    const target = await createTestDatabase({ LOG_LEVEL: 'silent' });
    Object.assign(process.env, target.env);
    if (target.env.DATABASE_DRIVER === 'pglite') delete process.env.DATABASE_URL;
    stack = await startLocalStack({ dataDir: null, retryDelaySeconds: 0 });
  });
  after(async () => {
    await stack.stop();
    process.env = savedEnv;
  });

  const api = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, json: (await res.json()) as any };
  };

  it('ingests through the queue and answers queries over real HTTP', async () => {
    const submitted = await api('POST', '/documents', {
      documents: [
        {
          content: 'The dead-letter queue keeps messages that failed three times.',
          filePath: 'dlq.md',
        },
        {
          content: 'HNSW builds a layered neighbour graph for fast vector search.',
          filePath: 'hnsw.md',
        },
      ],
    });
    assert.equal(submitted.status, 202);
    const ids = submitted.json.documents.map((d: { docId: string }) => d.docId);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const statuses = await Promise.all(ids.map((id: string) => api('GET', `/documents/${id}`)));
      if (statuses.every((s) => s.json.status === 'processed')) break;
      assert.ok(Date.now() < deadline, 'processed within a minute');
      await new Promise((r) => setTimeout(r, 200));
    }
    const answer = await api('POST', '/query/detailed', {
      query: 'dead-letter queue failed messages',
      top_k: 1,
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.context.chunks[0].file_path, 'dlq.md');
    assert.equal((await api('GET', '/health')).json.status, 'healthy');
  });

  it('behaves like API Gateway for unknown paths and bad bodies', async () => {
    const missing = await api('GET', '/nowhere');
    assert.equal(missing.status, 404);
    const bad = await api('POST', '/query', '{"query":', { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'INVALID_JSON');
    const deleted = await api('DELETE', '/documents/doc-unknown');
    assert.equal(deleted.status, 404);
    // A method no route has for a path that exists: 404 as API Gateway answers, never another
    // method's handler (it listed documents for DELETE /documents, issue 25 #9).
    for (const [method, path] of [
      ['PUT', '/documents'],
      ['POST', '/documents/status_counts'],
      ['PUT', '/query'],
      ['POST', '/health'],
    ] as const) {
      const r = await api(method, path, method === 'POST' ? {} : undefined);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.deepEqual(r.json, { message: 'Not Found' }, `${method} ${path}`);
    }
    const preflight = await fetch(`${stack.apiUrl}/documents/status-counts`, { method: 'OPTIONS' });
    assert.notEqual(preflight.status, 404, 'a preflight reaches a path served by GET only');
  });
});

describe('npm start', () => {
  const bin = fileURLToPath(new URL('../bin/lightrag-serverless.ts', import.meta.url));

  /** `npm start` as a child process, once its banner is out: its API URL and output so far. */
  async function startNpmStack(cwd: string, env: Record<string, string>) {
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--sqs-port', '0'], {
      cwd,
      env,
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 90_000;
    while (!out.includes('Ctrl-C stops everything')) {
      assert.ok(Date.now() < deadline, `no banner: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = /HTTP API\s+(http:\/\/\S+)/.exec(out)?.[1];
    assert.ok(url, out);
    return { child, exited, url, out: () => out };
  }

  it('prints where everything listens and stops cleanly on Ctrl-C', async () => {
    const stack = await startNpmStack(mkdtempSync(join(tmpdir(), 'lrs-start-cwd-')), {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      PGLITE_DATA_DIR: `${process.env.TMPDIR ?? '/tmp'}/lrs-start-${process.pid}`,
    });
    const out = stack.out();
    assert.match(out, /SQS\s+http:\/\/127\.0\.0\.1:\d+ +ingest queue/);
    assert.match(out, /Database\s+PGlite in \S*lrs-start-/);
    assert.doesNotMatch(out, /ExperimentalWarning/, 'the console says only what the user needs');
    const health = await fetch(`${stack.url}/health`);
    assert.equal(health.status, 200);
    stack.child.kill('SIGINT');
    assert.equal(await stack.exited, 0, stack.out());
    assert.match(stack.out(), /Stopping…/);
  });

  it('the CLI works on the running stack, and on the same database once it stops', async () => {
    // A project folder of its own: the stack's database and state file live under its .data/.
    const cwd = mkdtempSync(join(tmpdir(), 'lrs-cli-stack-'));
    writeFileSync(join(cwd, 'notes.md'), 'Redrive moves messages from a dead-letter queue back.');
    const env = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' };
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const c = spawn(process.execPath, [bin, ...args], { cwd, env });
        let out = '';
        let err = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (err += d));
        c.on('close', (code) => resolve({ code, out, err }));
      });
    const { child, exited, url, out } = await startNpmStack(cwd, env);
    try {
      // The CLI finds the stack and ingests through it (issue 25 #3: it used a throwaway database).
      const ingest = await cli(['ingest', 'notes.md']);
      assert.equal(ingest.code, 0, ingest.err + ingest.out);
      assert.match(ingest.err, /through the local stack/);
      assert.match(ingest.out, /^1 processed, 0 failed of 1 documents/m);
      const docId = /^(doc-[0-9a-f]{32}) {2}processed/m.exec(ingest.out)![1]!;
      const seen = (await (await fetch(`${url}/documents/${docId}`)).json()) as { status: string };
      assert.equal(seen.status, 'processed', 'the stack has the document');
      const query = await cli(['query', 'dead-letter queue', '--json']);
      assert.equal(query.code, 0, query.err);
      assert.equal(JSON.parse(query.out).context.chunks[0].file_path, 'notes.md');
      const doctor = await cli(['doctor']);
      assert.equal(doctor.code, 0, doctor.err + doctor.out);
      assert.match(doctor.out, /local stack +running at/);
      const initDb = await cli(['init-db']);
      assert.equal(initDb.code, 2);
      assert.match(initDb.err, /holds .*Stop the stack first/);
      const second = await cli(['start', '--port', '0', '--sqs-port', '0']);
      assert.equal(second.code, 2, 'a second stack in the same folder is refused');
      assert.match(second.err, /already running/);
    } finally {
      child.kill('SIGINT');
      assert.equal(await exited, 0, out());
    }
    // Stopped: the CLI opens the same database the stack used, and finds the document there.
    const again = await cli(['ingest', 'notes.md']);
    assert.equal(again.code, 0, again.err + again.out);
    assert.match(again.err, /using npm start's database in \.data\/pglite/);
    assert.match(again.out, /^0 processed, 1 already processed, 0 failed of 1 documents$/m);
  });

  it('carries on after a restart: documents still queued when it stopped are processed', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lrs-restart-'));
    const env = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' };
    const start = () => startNpmStack(cwd, env);
    const first = await start();
    const submitted = (await (
      await fetch(`${first.url}/documents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          documents: Array.from({ length: 60 }, (_, i) => ({
            content: `Restart note ${i}: queued work survives a restart of the local stack.`,
            filePath: `restart-${i}.md`,
          })),
        }),
      })
    ).json()) as { documents: Array<{ docId: string }> };
    // Stopped at once, with documents still on the queue.
    first.child.kill('SIGINT');
    assert.equal(await first.exited, 0, first.out());
    const second = await start();
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const statuses = await Promise.all(
          submitted.documents.map(async (d) => {
            const res = await fetch(`${second.url}/documents/${d.docId}`);
            return ((await res.json()) as { status: string }).status;
          }),
        );
        if (statuses.every((st) => st === 'processed')) break;
        assert.ok(Date.now() < deadline, `after the restart: ${statuses.join(', ')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      second.child.kill('SIGINT');
      assert.equal(await second.exited, 0, second.out());
    }
  });
});
