import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, TARGET } from './support/database.ts';

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
