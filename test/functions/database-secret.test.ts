/**
 * The database URL from Secrets Manager (lib/aws/database-secret.ts): fetched once per container
 * before the first invocation, never again while it works, fetched again after the server refused
 * the credentials (rotation), and every failure a clear error that never shows the value.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { handler as healthHandler } from '../../functions/health.ts';
import { forgetDatabaseSecret, loadDatabaseSecret } from '../../lib/aws/database-secret.ts';
import { resetConfig } from '../../lib/config.ts';
import { closeDatabase } from '../../lib/db/container.ts';
import { DatabaseSecretError } from '../../lib/errors.ts';
import { call, type Handler } from '../support/api-event.ts';
import { createTestDatabase, NEEDS_SERVER, TARGET } from '../support/database.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/secrets-manager.ts';

const SECRET = 'lightrag-serverless/test/database-url';

describe('the database secret', () => {
  let sm: FakeSecretsManager;
  const saved = { ...process.env };

  before(async () => {
    sm = await startFakeSecretsManager();
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.endpoint;
    process.env.AWS_REGION = 'eu-west-1';
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
  });
  after(async () => {
    forgetDatabaseSecret();
    await closeDatabase();
    process.env = saved;
    await sm.close();
  });

  it('puts the URL where the configuration reads it, once, and does nothing without a secret', async () => {
    forgetDatabaseSecret();
    sm.secrets.set(SECRET, ' postgres://u:pw@ep-x-pooler.eu-west-1.aws.neon.tech/db \n');
    const env: NodeJS.ProcessEnv = { DATABASE_SECRET_ID: SECRET, AWS_REGION: 'eu-west-1' };
    const before = sm.requests.length;
    await loadDatabaseSecret(env);
    await loadDatabaseSecret(env);
    assert.equal(env.DATABASE_URL, 'postgres://u:pw@ep-x-pooler.eu-west-1.aws.neon.tech/db');
    assert.deepEqual(sm.requests.slice(before), [SECRET], 'fetched once, then cached');
    const plain: NodeJS.ProcessEnv = { DATABASE_URL: 'postgres://local/db' };
    await loadDatabaseSecret(plain);
    assert.equal(plain.DATABASE_URL, 'postgres://local/db');
    assert.equal(sm.requests.length, before + 1);
  });

  it('names a missing secret and what to check; not retryable', async () => {
    forgetDatabaseSecret();
    const err = await loadDatabaseSecret({ DATABASE_SECRET_ID: 'no/such/secret' }).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DatabaseSecretError);
    assert.equal(err.code, 'DATABASE_SECRET_UNAVAILABLE');
    assert.equal(err.retryable, false);
    assert.match(err.message, /"no\/such\/secret".*ResourceNotFoundException/);
    assert.match(err.message, /secretsmanager:GetSecretValue/);
  });

  it('refuses a secret that is not a postgres URL without showing it', async () => {
    forgetDatabaseSecret();
    sm.secrets.set('json-secret', '{"username":"u","password":"hunter2"}');
    const err = await loadDatabaseSecret({ DATABASE_SECRET_ID: 'json-secret' }).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e as DatabaseSecretError,
    );
    assert.match(err.message, /does not hold a postgres:\/\/.*value not shown/);
    assert.doesNotMatch(err.message, /hunter2/);
  });

  it('calls an unreachable Secrets Manager retryable', async () => {
    forgetDatabaseSecret();
    const env: NodeJS.ProcessEnv = { DATABASE_SECRET_ID: SECRET };
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = 'http://127.0.0.1:9';
    try {
      const err = await loadDatabaseSecret(env).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e as DatabaseSecretError,
      );
      assert.equal(err.retryable, true);
    } finally {
      process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.endpoint;
    }
  });

  it(`follows a rotation: refused credentials make the next invocation fetch again (${TARGET})`, {
    skip: NEEDS_SERVER,
  }, async () => {
    forgetDatabaseSecret();
    const target = await createTestDatabase({
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_MODEL: 'm',
      EMBEDDING_API_KEY: 'k',
    });
    const good = target.env.DATABASE_URL!;
    const stale = new URL(good);
    stale.username = 'rotated_away_role';
    for (const [k, v] of Object.entries(target.env)) if (k !== 'DATABASE_URL') process.env[k] = v;
    delete process.env.DATABASE_URL;
    process.env.DATABASE_SECRET_ID = SECRET;
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'health';
    resetConfig();
    sm.secrets.set(SECRET, stale.toString());
    const fetchesBefore = sm.requests.length;
    const health = () => call(healthHandler as Handler, 'GET /health');

    const refused = await health();
    assert.equal(refused.statusCode, 503, refused.body);
    assert.doesNotMatch(String(refused.body), /rotated_away_role|postgres:/);
    // The operator rotates the secret to the working credentials.
    sm.secrets.set(SECRET, good);
    const ok = await health();
    assert.equal(ok.statusCode, 200, ok.body);
    const warm = await health();
    assert.equal(warm.statusCode, 200);
    assert.equal(sm.requests.length - fetchesBefore, 2, 'cold start, then once after the refusal');
  });

  it('answers 503 with a stable code when the secret cannot be read', async () => {
    forgetDatabaseSecret();
    process.env.DATABASE_SECRET_ID = 'deleted/secret';
    delete process.env.DATABASE_URL;
    resetConfig();
    await closeDatabase();
    const res = await call(healthHandler as Handler, 'GET /health');
    assert.equal(res.statusCode, 503, res.body);
    const body = JSON.parse(String(res.body));
    assert.equal(body.error.code, 'DATABASE_SECRET_UNAVAILABLE');
    assert.doesNotMatch(String(res.body), /deleted\/secret/, 'details stay in the log');
  });
});
