/**
 * LightRAG Server's `GET /auth-status` and `POST /login`. Accounts come from `AUTH_ACCOUNTS`
 * (scrypt hashes), tokens are HS256 (tokens.ts). Failed logins are counted per user name and
 * client address and per address (shared table, fixed windows) and refused with 429 past
 * `LOGIN_MAX_FAILURES`; every refusal says only "Incorrect credentials", and an unknown user
 * costs the same hash as a known one.
 */
import { randomBytes } from 'node:crypto';
import type { ApiConfig, Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { HttpError } from '../errors.ts';
import { API_VERSION, LIGHTRAG_CORE_VERSION } from '../health.ts';
import type { LoginConfig } from '../settings/login.ts';
import { sha256 } from '../settings/login.ts';
import { addFailure, clearFailures, recentFailures } from '../storage/login-failures.ts';
import { ensureSchema } from '../storage/schema.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from './passwords.ts';
import { issueToken } from './tokens.ts';

/** An address may fail this many times the per-user limit (many users behind one NAT). */
const ADDRESS_FACTOR = 10;

/** The API's login settings, its workspace claim and what the WebUI shows. */
export type LoginApi = Pick<ApiConfig, 'login' | 'workspaceClaim' | 'webui'>;

const versions = (api: LoginApi) => ({
  core_version: LIGHTRAG_CORE_VERSION,
  api_version: API_VERSION,
  webui_title: api.webui.title,
  webui_description: api.webui.description,
});

/** Signs tokens while login is off: the UI wants one, nothing verifies it. */
let unverifiedSecret: string | undefined;

/**
 * `GET /auth-status`. Login off (nothing configured): LightRAG's open mode, with a guest token
 * nothing checks. Guest mode on (`AUTH_GUEST=true`): a guest token that is checked. Otherwise:
 * login is required.
 */
export async function authStatus(api: LoginApi) {
  const { login, workspaceClaim: claim } = api;
  if (!login) {
    unverifiedSecret ??= randomBytes(32).toString('base64url');
    const open = { tokenSecret: unverifiedSecret, tokenExpireHours: 24, guestTokenExpireHours: 24 };
    return {
      auth_configured: false,
      access_token: await issueToken(open, { sub: 'guest', role: 'guest' }, undefined),
      token_type: 'bearer',
      auth_mode: 'disabled',
      message: 'Authentication is disabled. Using guest access.',
      ...versions(api),
    };
  }
  if (login.guest) {
    return {
      auth_configured: false,
      access_token: await issueToken(login, { sub: 'guest', role: 'guest' }, claim),
      token_type: 'bearer',
      auth_mode: 'disabled',
      message: 'Guest access is enabled.',
      ...versions(api),
    };
  }
  return { auth_configured: true, auth_mode: 'enabled', ...versions(api) };
}

/** Hashes of plain-text passwords (local use only), made once per container. */
const hashed = new WeakMap<LoginConfig, Map<string, Promise<string>>>();
/** Compared against when the user is unknown, so timing does not tell who exists. */
let decoy: Promise<string> | undefined;

async function storedHash(login: LoginConfig, user: string): Promise<string | undefined> {
  const stored = login.accounts.get(user);
  if (stored) return stored;
  const plain = login.plainPasswords.get(user);
  if (plain === undefined) return undefined;
  const byUser = hashed.get(login) ?? new Map<string, Promise<string>>();
  hashed.set(login, byUser);
  const hash = byUser.get(user) ?? hashPassword(plain);
  byUser.set(user, hash);
  return hash;
}

const incorrect = () => new HttpError(401, 'INCORRECT_CREDENTIALS', 'Incorrect credentials');

/**
 * `POST /login` with LightRAG's form fields `username` and `password`: a token, or 401
 * "Incorrect credentials" (whatever was wrong), or 429 with `retry-after` past the limit.
 */
export async function logIn(
  db: Database,
  config: { api: LoginApi; vector: Config['vector'] },
  form: { username?: string; password?: string },
  clientAddress: string,
): Promise<{ body: Record<string, unknown> }> {
  const { api } = config;
  const { login, workspaceClaim: claim } = api;
  if (!login || login.accounts.size + login.plainPasswords.size === 0) {
    throw new HttpError(
      400,
      'LOGIN_NOT_CONFIGURED',
      'No accounts are configured (AUTH_ACCOUNTS); this server does not take logins.',
    );
  }
  const username = form.username?.trim() ?? '';
  const password = form.password ?? '';
  // The failed-login counts live in the schema (checked once per container).
  await ensureSchema(db, config.vector);
  const keys = [
    sha256(`user:${username.toLowerCase()}|${clientAddress}`),
    sha256(`addr:${clientAddress}`),
  ];
  const limits = [login.maxFailures, login.maxFailures * ADDRESS_FACTOR];
  const recent = await recentFailures(db, keys, login.windowSeconds);
  for (const [i, key] of keys.entries()) {
    const seen = recent.get(key);
    if (seen && seen.failures >= limits[i]!) {
      throw new HttpError(
        429,
        'TOO_MANY_LOGIN_ATTEMPTS',
        `Too many failed logins; try again in ${seen.retryAfterSeconds} s.`,
        { retryAfterSeconds: seen.retryAfterSeconds },
      );
    }
  }
  const stored =
    username && password.length <= MAX_PASSWORD_LENGTH
      ? await storedHash(login, username)
      : undefined;
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  const ok = await verifyPassword(password, stored ?? (await decoy));
  if (!ok || !stored) {
    await addFailure(db, keys, login.windowSeconds);
    throw incorrect();
  }
  await clearFailures(db, keys.slice(0, 1));
  return {
    body: {
      access_token: await issueToken(login, { sub: username, role: 'user' }, claim),
      token_type: 'bearer',
      auth_mode: 'enabled',
      ...versions(api),
    },
  };
}
