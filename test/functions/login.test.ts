/**
 * LightRAG Server's login through the real handlers (fact sheet §2–§3): `/auth-status` and
 * `/login` shapes, tokens whose middle segment the WebUI reads, every route but the public ones
 * refused without a credential (401, or 403 "API Key required" when keys are the only one), API
 * keys, workspace grants, guest mode only when turned on, failed logins counted across calls and
 * refused with 429, and configuration that never echoes a password or secret.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { handler as documentsHandler } from '../../functions/documents.ts';
import { handler as healthHandler } from '../../functions/health.ts';
import { handler as queryHandler } from '../../functions/query.ts';
import { hashPassword, verifyPassword } from '../../lib/auth/passwords.ts';
import { runCli } from '../../lib/cli/main.ts';
import { loadConfig, resetConfig } from '../../lib/config.ts';
import { closeDatabase } from '../../lib/db/container.ts';
import { ConfigError } from '../../lib/errors.ts';
import { call, type EventOptions, type Handler } from '../support/api-event.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';

const SECRET = 'a-token-secret-of-forty-characters-000000';
const API_KEY = 'key-0123456789abcdef';

const health = (routeKey: string, options?: EventOptions) =>
  call(healthHandler as Handler, routeKey, options);
const docs = (routeKey: string, options?: EventOptions) =>
  call(documentsHandler as Handler, routeKey, options);
const form = (username: string, password: string) => ({
  rawBody: new URLSearchParams({ username, password, grant_type: 'password' }).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});
const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe(`LightRAG's login on ${TARGET}`, () => {
  const savedEnv = { ...process.env };
  let baseEnv: Record<string, string>;

  /** The functions' configuration from `env` over the base (a new container). */
  async function configure(env: Record<string, string | undefined>) {
    await closeDatabase();
    process.env = { ...savedEnv, ...baseEnv } as NodeJS.ProcessEnv;
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetConfig();
  }

  before(async () => {
    const target = await createTestDatabase({
      ALLOWED_WORKSPACES: 'default,tenant_a',
      LOG_LEVEL: 'silent',
    });
    baseEnv = target.env as Record<string, string>;
    const aliceHash = await hashPassword('alice-password');
    await configure({
      AUTH_ACCOUNTS: `alice:${aliceHash},bob:bob-plain-password`,
      TOKEN_SECRET: SECRET,
      LIGHTRAG_API_KEY: API_KEY,
      AUTH_WORKSPACES: JSON.stringify({
        alice: ['default'],
        bob: ['tenant_a'],
        'api-key': ['tenant_a'],
      }),
      LOGIN_MAX_FAILURES: '3',
    });
  });
  after(async () => {
    await closeDatabase();
    process.env = savedEnv;
    resetConfig();
  });

  it('/auth-status says login is required and hands out nothing', async () => {
    const res = await health('GET /auth-status');
    assert.equal(res.statusCode, 200);
    assert.equal(res.json.auth_configured, true);
    assert.equal(res.json.auth_mode, 'enabled');
    assert.equal(res.json.access_token, undefined);
    assert.equal(res.json.core_version, '1.5.6');
    assert.equal(typeof res.json.api_version, 'string');
  });

  it('refuses every route but the public ones without a credential', async () => {
    const open = await health('GET /health');
    assert.equal(open.statusCode, 200, '/health is open, as LightRAG whitelists it');
    assert.equal(open.json.auth_mode, 'enabled');
    // LightRAG's configuration block only to a caller with a credential.
    assert.equal(open.json.configuration, undefined);
    const keyed = await health('GET /health', { headers: { 'x-api-key': API_KEY } });
    assert.equal(typeof keyed.json.configuration.force_llm_summary_on_merge, 'number');
    const none = await docs('GET /documents/status_counts');
    assert.equal(none.statusCode, 401);
    assert.equal(none.json.detail, 'Not authenticated');
    const queried = await call(queryHandler as Handler, 'GET /graph/label/list');
    assert.equal(queried.statusCode, 401);
    const bad = await docs('GET /documents/status_counts', bearer('not.a.token'));
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json.error.code, 'INVALID_TOKEN');
  });

  it('serves /openapi.json and /docs without a credential, as FastAPI serves LightRAG’s', async () => {
    const spec = await health('GET /openapi.json');
    assert.equal(spec.statusCode, 200);
    assert.equal(spec.json.openapi, '3.1.0');
    assert.ok(spec.json.paths['/query'].post.security, 'the login is required there');
    assert.equal(spec.json.paths['/login'].post.security, undefined);
    const docs = await health('GET /docs');
    assert.equal(docs.statusCode, 200);
    assert.match(docs.headers['content-type']!, /^text\/html/);
    assert.match(docs.body!, /\/openapi\.json/);
  });

  it('logs in with the form LightRAG takes; a wrong password or user reveals nothing', async () => {
    const wrong = await health('POST /login', form('alice', 'nope'));
    const unknown = await health('POST /login', form('mallory', 'alice-password'));
    assert.equal(wrong.statusCode, 401);
    assert.deepEqual(
      [wrong.json.detail, unknown.json.detail],
      ['Incorrect credentials', 'Incorrect credentials'],
    );
    assert.equal(unknown.statusCode, 401);
    const ok = await health('POST /login', form('alice', 'alice-password'));
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json.token_type, 'bearer');
    assert.equal(ok.json.auth_mode, 'enabled');
    const c = claims(ok.json.access_token);
    assert.equal(c.sub, 'alice');
    assert.equal(c.role, 'user');
    assert.ok(
      Math.abs(c.exp - (Date.now() / 1000 + 48 * 3600)) < 60,
      'TOKEN_EXPIRE_HOURS default 48',
    );
    assert.deepEqual(c.workspaces, ['default']);
    // The token opens the routes, within the account's workspaces.
    const counts = await docs('GET /documents/status_counts', bearer(ok.json.access_token));
    assert.equal(counts.statusCode, 200, counts.body);
    const other = await docs('GET /documents/status_counts', {
      headers: {
        authorization: `Bearer ${ok.json.access_token}`,
        'lightrag-workspace': 'tenant_a',
      },
    });
    assert.equal(other.statusCode, 403);
    assert.equal(other.json.error.code, 'WORKSPACE_FORBIDDEN');
    // A plain password (allowed outside Lambda) works the same; JSON bodies are taken too.
    const bob = await health('POST /login', {
      body: { username: 'bob', password: 'bob-plain-password' },
    });
    assert.equal(bob.statusCode, 200, bob.body);
    assert.deepEqual(claims(bob.json.access_token).workspaces, ['tenant_a']);
  });

  it('refuses a token with a changed payload, another signature or past its expiry', async () => {
    const { SignJWT } = await import('jose');
    const ok = (await health('POST /login', form('alice', 'alice-password'))).json
      .access_token as string;
    const [head, , sig] = ok.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...claims(ok), workspaces: ['tenant_a'] }),
    ).toString('base64url');
    const sign = (secret: string, exp: number) =>
      new SignJWT({ role: 'user', workspaces: ['default'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const now = Math.floor(Date.now() / 1000);
    for (const token of [
      `${head}.${forged}.${sig}`,
      await sign('another-secret-of-forty-characters-00000', now + 600),
      await sign(SECRET, now - 10),
    ]) {
      const res = await docs('GET /documents/status_counts', bearer(token));
      assert.equal(res.statusCode, 401, token);
    }
    // Past half its lifetime, a good token comes back renewed in X-New-Token (LightRAG's renewal).
    const old = await docs('GET /documents/status_counts', bearer(await sign(SECRET, now + 600)));
    assert.equal(old.statusCode, 200);
    const renewed = old.headers['x-new-token']!;
    assert.ok(renewed, 'renewed');
    assert.equal(claims(renewed).sub, 'alice');
    assert.ok(claims(renewed).exp > now + 47 * 3600);
    assert.equal((await docs('GET /documents/status_counts', bearer(renewed))).statusCode, 200);
    const fresh = (await health('POST /login', form('alice', 'alice-password'))).json.access_token;
    const same = await docs('GET /documents/status_counts', bearer(fresh));
    assert.equal(same.headers['x-new-token'], undefined, 'a fresh token is not renewed');
  });

  it('takes X-API-Key, bound to the api-key grant; a wrong key is 403 "Invalid API Key"', async () => {
    const key = { headers: { 'x-api-key': API_KEY, 'lightrag-workspace': 'tenant_a' } };
    assert.equal((await docs('GET /documents/status_counts', key)).statusCode, 200);
    const wrongWs = await docs('GET /documents/status_counts', {
      headers: { 'x-api-key': API_KEY, 'lightrag-workspace': 'default' },
    });
    assert.equal(wrongWs.statusCode, 403);
    const wrong = await docs('GET /documents/status_counts', {
      headers: { 'x-api-key': `${API_KEY}x` },
    });
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json.detail, 'Invalid API Key');
  });

  it('counts failed logins across calls and refuses with 429 past the limit', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await health('POST /login', form('alice', `wrong-${i}`))).statusCode, 401);
    }
    const limited = await health('POST /login', form('alice', 'alice-password'));
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json.error.code, 'TOO_MANY_LOGIN_ATTEMPTS');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    // Another user from the same address is not locked out by alice's failures.
    assert.equal((await health('POST /login', form('bob', 'bob-plain-password'))).statusCode, 200);
    // A new container (the count is in the database, not in memory) still refuses. On PGlite a
    // new container is a new embedded database, so only a server can show it.
    if (TARGET === 'pglite') return;
    await configure({
      AUTH_ACCOUNTS: `alice:${await hashPassword('alice-password')}`,
      TOKEN_SECRET: SECRET,
      LOGIN_MAX_FAILURES: '3',
    });
    assert.equal((await health('POST /login', form('alice', 'alice-password'))).statusCode, 429);
  });

  it('behind CloudFront, counts failures by the viewer address CloudFront appends', async () => {
    await configure({
      AUTH_ACCOUNTS: 'erin:erin-password',
      TOKEN_SECRET: SECRET,
      LOGIN_MAX_FAILURES: '1',
      WEBUI_HOSTED: 'true',
    });
    const from = (forwarded: string) => ({
      ...form('erin', 'wrong'),
      headers: { ...form('erin', 'wrong').headers, 'x-forwarded-for': forwarded },
    });
    // A client's own X-Forwarded-For comes first; CloudFront's entry for the viewer is last.
    assert.equal((await health('POST /login', from('6.6.6.6, 203.0.113.7'))).statusCode, 401);
    assert.equal(
      (await health('POST /login', from('203.0.113.8'))).statusCode,
      401,
      'another viewer',
    );
    assert.equal((await health('POST /login', from('7.7.7.7, 203.0.113.7'))).statusCode, 429);
  });

  it('hands out guest tokens only when AUTH_GUEST=true, and refuses them once it is off', async () => {
    await configure({
      AUTH_GUEST: 'true',
      TOKEN_SECRET: SECRET,
      AUTH_WORKSPACES: JSON.stringify({ guest: ['tenant_a'] }),
    });
    const status = await health('GET /auth-status');
    assert.equal(status.json.auth_configured, false);
    assert.equal(status.json.auth_mode, 'disabled');
    const token = status.json.access_token as string;
    assert.equal(claims(token).role, 'guest');
    assert.ok(Math.abs(claims(token).exp - (Date.now() / 1000 + 24 * 3600)) < 60);
    const asGuest = {
      headers: { authorization: `Bearer ${token}`, 'lightrag-workspace': 'tenant_a' },
    };
    assert.equal((await docs('GET /documents/status_counts', asGuest)).statusCode, 200);
    await configure({ AUTH_ACCOUNTS: 'carol:carol-password', TOKEN_SECRET: SECRET });
    assert.equal((await docs('GET /documents/status_counts', asGuest)).statusCode, 401);
    assert.equal((await health('GET /auth-status')).json.access_token, undefined);
  });

  it('with nothing configured: open, as LightRAG without accounts, and /login says so', async () => {
    await configure({});
    const status = await health('GET /auth-status');
    assert.equal(status.json.auth_configured, false);
    assert.equal(claims(status.json.access_token).role, 'guest');
    assert.equal((await docs('GET /documents/status_counts')).statusCode, 200);
    const login = await health('POST /login', form('alice', 'x'));
    assert.equal(login.statusCode, 400);
    assert.equal(login.json.error.code, 'LOGIN_NOT_CONFIGURED');
  });

  it('reports configuration problems at once, never echoing a password or secret', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...baseEnv, ...env });
        return '';
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.message;
      }
    };
    const text = problems({
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      AUTH_ACCOUNTS: 'alice:hunter2-plain,bad-entry',
      TOKEN_SECRET: 'short-secret-value',
      LIGHTRAG_API_KEY: 'tiny-key',
    });
    assert.match(text, /AUTH_ACCOUNTS.*not hashed/);
    assert.match(text, /AUTH_ACCOUNTS.*entry 2 is not user:password-hash/);
    assert.match(text, /TOKEN_SECRET.*at least 32 characters/);
    assert.match(text, /LIGHTRAG_API_KEY.*at least 16/);
    for (const secret of ['hunter2-plain', 'short-secret-value', 'tiny-key', 'bad-entry']) {
      assert.ok(!text.includes(secret), `${secret} echoed`);
    }
    assert.match(problems({ AUTH_GUEST: 'true' }), /TOKEN_SECRET.*required/);
  });

  it('hash-password hashes stdin, never argv; the hash verifies', async () => {
    const out: string[] = [];
    const io = {
      env: {},
      out: (l: string) => out.push(l),
      err: () => undefined,
      readStdin: async () => 's3cret-pass\n',
    };
    assert.equal(await runCli(['hash-password', 'dave'], io), 0);
    const [user, hash] = [out[0]!.slice(0, 4), out[0]!.slice(5)];
    assert.equal(user, 'dave');
    assert.match(hash, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifyPassword('s3cret-pass', hash), true);
    assert.equal(await verifyPassword('s3cret-pas', hash), false);
    assert.equal(await runCli(['hash-password', 'dave', 'extra'], io), 2);
  });
});
