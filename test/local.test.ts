import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
    const answer = await api('POST', '/query', {
      query: 'dead-letter queue failed messages',
      top_k: 1,
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.context.chunks[0].file_path, 'dlq.md');
    assert.equal((await api('GET', '/health')).json.status, 'ok');
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
      ['DELETE', '/documents'],
      ['POST', '/documents/clear_cache'],
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
  it('prints where everything listens and stops cleanly on Ctrl-C', async () => {
    const bin = fileURLToPath(new URL('../bin/lightrag-serverless.ts', import.meta.url));
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--sqs-port', '0'], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        PGLITE_DATA_DIR: `${process.env.TMPDIR ?? '/tmp'}/lrs-start-${process.pid}`,
      },
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
    assert.match(out, /SQS\s+http:\/\/127\.0\.0\.1:\d+ +ingest queue/);
    assert.match(out, /Database\s+PGlite in \S*lrs-start-/);
    assert.doesNotMatch(out, /ExperimentalWarning/, 'the console says only what the user needs');
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /Stopping…/);
  });
});
