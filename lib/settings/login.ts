/**
 * LightRAG Server's login (`AUTH_ACCOUNTS`, `TOKEN_SECRET`, guest mode, `LIGHTRAG_API_KEY`),
 * part of the configuration read by `loadConfig`. Off unless accounts, keys or guest mode are
 * configured: then the API Gateway authorizer (IAM or JWT) or nothing (locally) decides alone.
 */
import { createHash } from 'node:crypto';
import { isPasswordHash } from '../auth/passwords.ts';
import type { EnvReader } from '../env.ts';
import { readWorkspaceMap } from './workspace-map.ts';

/** The fewest characters `TOKEN_SECRET` may have (HS256 wants a key as long as its hash). */
export const MIN_TOKEN_SECRET_LENGTH = 32;

/** Login as LightRAG Server has it, with this backend's hashing and workspace grants. */
export interface LoginConfig {
  /** User name → password hash (`scrypt$…`, from `lightrag-serverless hash-password`). */
  accounts: Map<string, string>;
  /** Plain passwords in `AUTH_ACCOUNTS` (allowed outside Lambda only): hashed at start. */
  plainPasswords: Map<string, string>;
  /** Secret: signs and verifies tokens (HS256). Never log it. */
  tokenSecret: string;
  tokenExpireHours: number;
  guestTokenExpireHours: number;
  /** `/auth-status` hands out guest tokens (`AUTH_GUEST=true`); off unless turned on. */
  guest: boolean;
  /** SHA-256 digests of the accepted `X-API-Key` values (`LIGHTRAG_API_KEY`, comma-separated). */
  apiKeyDigests: string[];
  /**
   * Who may use which workspaces (`AUTH_WORKSPACES`): user name, `guest` or `api-key` → names.
   * Issued tokens carry them under `WORKSPACE_CLAIM` (default `workspaces`). Undefined:
   * ALLOWED_WORKSPACES alone binds every caller.
   */
  workspaces?: Record<string, string[]>;
  /** Failed logins allowed per user name and client address in a window (`LOGIN_MAX_FAILURES`). */
  maxFailures: number;
  /** The window, in seconds (`LOGIN_WINDOW_SECONDS`). */
  windowSeconds: number;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const USER_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

/** `AUTH_SECRET_ID`: the secret of the login settings (lib/aws/login-secret.ts reads it). */
export function readAuthSecretId(reader: EnvReader): string | undefined {
  return reader.string('AUTH_SECRET_ID', {
    pattern: /^[\w/+=.@:-]{1,2048}$/,
    hint: "expected a Secrets Manager secret's name or ARN",
  });
}

/** Reads the login settings; undefined when login is off (nothing configured). */
export function readLogin(reader: EnvReader): LoginConfig | undefined {
  readAuthSecretId(reader);
  const inLambda = reader.has('AWS_LAMBDA_FUNCTION_NAME');
  const accounts = new Map<string, string>();
  const plainPasswords = new Map<string, string>();
  // Split on the first colon of each entry: a password (or hash) may hold colons, not commas.
  const entries = (reader.rawUntrimmed('AUTH_ACCOUNTS') ?? '').split(',').filter((e) => e.trim());
  for (const [index, entry] of entries.entries()) {
    const at = entry.indexOf(':');
    const user = entry.slice(0, at).trim();
    const secret = entry.slice(at + 1).trim();
    if (at < 0 || !USER_PATTERN.test(user) || secret === '') {
      // The entry's text may be a password: only its position is named.
      reader.problem(
        'AUTH_ACCOUNTS',
        `entry ${index + 1} is not user:password-hash (user names: letters, digits, . _ @ -).`,
      );
      continue;
    }
    if (accounts.has(user) || plainPasswords.has(user)) {
      reader.problem('AUTH_ACCOUNTS', `the user ${JSON.stringify(user)} is listed twice.`);
    } else if (secret.startsWith('scrypt$')) {
      if (isPasswordHash(secret)) accounts.set(user, secret);
      else
        reader.problem(
          'AUTH_ACCOUNTS',
          `the hash of ${JSON.stringify(user)} is not a valid scrypt$… hash.`,
        );
    } else if (inLambda) {
      reader.problem(
        'AUTH_ACCOUNTS',
        `the password of ${JSON.stringify(user)} is not hashed; deployed, passwords are stored only as hashes. Hash it with \`lightrag-serverless hash-password\` and store user:scrypt$… instead.`,
      );
    } else plainPasswords.set(user, secret);
  }
  const apiKeys = reader.list('LIGHTRAG_API_KEY');
  const guest = reader.boolean('AUTH_GUEST', { default: false });
  const tokenSecret = reader.raw('TOKEN_SECRET');
  const needsTokens = entries.length > 0 || guest;
  if (needsTokens && (tokenSecret?.length ?? 0) < MIN_TOKEN_SECRET_LENGTH) {
    reader.problem(
      'TOKEN_SECRET',
      `is required with AUTH_ACCOUNTS or AUTH_GUEST and must have at least ${MIN_TOKEN_SECRET_LENGTH} characters (value not shown); generate one with \`openssl rand -base64 48\`.`,
    );
  }
  for (const key of apiKeys) {
    if (key.length < 16) {
      reader.problem(
        'LIGHTRAG_API_KEY',
        'each key must have at least 16 characters (value not shown).',
      );
      break;
    }
  }
  const workspaces = readWorkspaceGrants(reader);
  const login: LoginConfig = {
    accounts,
    plainPasswords,
    tokenSecret: tokenSecret ?? '',
    tokenExpireHours: reader.number('TOKEN_EXPIRE_HOURS', { default: 48, min: 0.01, max: 8760 }),
    guestTokenExpireHours: reader.number('GUEST_TOKEN_EXPIRE_HOURS', {
      default: 24,
      min: 0.01,
      max: 8760,
    }),
    guest,
    apiKeyDigests: apiKeys.map(sha256),
    ...(workspaces ? { workspaces } : {}),
    maxFailures: reader.integer('LOGIN_MAX_FAILURES', { default: 5, min: 1, max: 1000 }),
    windowSeconds: reader.integer('LOGIN_WINDOW_SECONDS', { default: 900, min: 1, max: 86_400 }),
  };
  return needsTokens || apiKeys.length > 0 ? login : undefined;
}

function readWorkspaceGrants(reader: EnvReader): Record<string, string[]> | undefined {
  return readWorkspaceMap(
    reader,
    'AUTH_WORKSPACES',
    'user name (or "guest", "api-key")',
    '{"alice": ["team_a"], "guest": ["demo"]}',
  );
}
