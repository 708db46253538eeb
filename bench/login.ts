/**
 * 13. What LightRAG's login costs a request (issue 29: the functions check tokens themselves,
 * not a Lambda authorizer): the HS256 check of one bearer token and one API-key check, warm,
 * and a whole route through the real documents handler with and without a login configured
 * (PGlite, in process, so the difference is the check and nothing else). Also one login (scrypt).
 */
import { randomUUID } from 'node:crypto';
import { handler as documentsHandler } from '../functions/documents.ts';
import { authenticate } from '../lib/auth/middleware.ts';
import { hashPassword, verifyPassword } from '../lib/auth/passwords.ts';
import { issueToken } from '../lib/auth/tokens.ts';
import { loadConfig, resetConfig } from '../lib/config.ts';
import { closeDatabase } from '../lib/db/container.ts';
import { apiEvent } from '../test/support/api-event.ts';
import { round, summary } from './lib/stats.ts';

const SECRET = 'bench-login-token-secret-of-forty-chars-0';

async function timed(samples: number, run: () => Promise<unknown>) {
  for (let i = 0; i < Math.min(20, samples); i++) await run(); // warm
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return summary(ms);
}

export async function loginCost(samples: number) {
  const env = {
    EMBEDDING_DIM: '32',
    DATABASE_DRIVER: 'pglite',
    LOG_LEVEL: 'silent',
    AUTH_ACCOUNTS: `alice:${await hashPassword('alice-password')}`,
    TOKEN_SECRET: SECRET,
    LIGHTRAG_API_KEY: 'bench-key-0123456789abcdef',
  };
  const config = loadConfig(env);
  const login = config.api.login!;
  const token = await issueToken(login, { sub: 'alice', role: 'user' }, undefined);
  const withToken = apiEvent('GET /documents/status_counts', {
    headers: { authorization: `Bearer ${token}` },
  });
  const withKey = apiEvent('GET /documents/status_counts', {
    headers: { 'x-api-key': 'bench-key-0123456789abcdef' },
  });
  const tokenCheck = await timed(samples * 10, () => authenticate(withToken, config.api));
  const keyCheck = await timed(samples * 10, () => authenticate(withKey, config.api));
  const stored = login.accounts.get('alice')!;
  const passwordCheck = await timed(Math.max(3, Math.round(samples / 20)), () =>
    verifyPassword('alice-password', stored),
  );

  // The whole route in process: the handler, its middlewares and one database read.
  const saved = { ...process.env };
  const route = async (extra: Record<string, string>, headers: Record<string, string>) => {
    await closeDatabase();
    // Only these settings: earlier sections leave database settings in the environment.
    const { AUTH_ACCOUNTS: _a, TOKEN_SECRET: _t, LIGHTRAG_API_KEY: _k, ...base } = env;
    process.env = { PATH: saved.PATH, HOME: saved.HOME, ...base, ...extra };
    resetConfig();
    const context = { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 30_000 };
    return timed(samples, async () => {
      const res = (await documentsHandler(
        apiEvent('GET /documents/status_counts', { headers }),
        context as never,
      )) as { statusCode: number; body?: string };
      if (res.statusCode !== 200)
        throw new Error(`status ${res.statusCode}: ${JSON.stringify(res)}`);
    });
  };
  const open = await route({}, {});
  const checked = await route(
    { AUTH_ACCOUNTS: env.AUTH_ACCOUNTS, TOKEN_SECRET: SECRET },
    { authorization: `Bearer ${token}` },
  );
  await closeDatabase();
  process.env = saved;
  resetConfig();
  return {
    samples,
    tokenCheckUs: { p50: round(tokenCheck.p50 * 1000), p95: round(tokenCheck.p95 * 1000) },
    apiKeyCheckUs: { p50: round(keyCheck.p50 * 1000), p95: round(keyCheck.p95 * 1000) },
    passwordCheckMs: { p50: round(passwordCheck.p50) },
    routeMs: {
      open: { p50: round(open.p50), p95: round(open.p95) },
      withToken: { p50: round(checked.p50), p95: round(checked.p95) },
    },
  };
}
