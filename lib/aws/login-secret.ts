/**
 * LightRAG's login settings from AWS Secrets Manager when deployed with `auth=lightrag`: the
 * functions get only the secret's name (`AUTH_SECRET_ID`); its value, a JSON object of
 * `TOKEN_SECRET`, `AUTH_ACCOUNTS` (hashes only), `LIGHTRAG_API_KEY`, `AUTH_WORKSPACES` and
 * `AUTH_GUEST`, is read
 * once per container before the configuration, into the environment the configuration reads.
 * A changed secret reaches new containers (and tokens signed with an old `TOKEN_SECRET` then fail).
 *
 * @example
 * ```ts
 * middy().use(loginSecret()).use(databaseSecret()).handler(main);
 * ```
 */
import type { MiddlewareObj } from '@middy/core';
import { resetConfig } from '../config.ts';
import { EnvReader } from '../env.ts';
import { ConfigError, LoginSecretError } from '../errors.ts';
import { readAuthSecretId } from '../settings/login.ts';
import { readSecretString } from './secrets.ts';

/** The settings the secret may hold; anything else in it is refused. */
export const LOGIN_SECRET_KEYS = [
  'TOKEN_SECRET',
  'AUTH_ACCOUNTS',
  'LIGHTRAG_API_KEY',
  'AUTH_WORKSPACES',
  'AUTH_GUEST',
] as const;

let loadedFrom: string | undefined;

/** Puts the secret's settings into `env` (once per container and secret id). */
export async function loadLoginSecret(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const reader = new EnvReader(env);
  const secretId = readAuthSecretId(reader);
  if (reader.problems.length) throw new ConfigError(reader.problems);
  if (!secretId || loadedFrom === secretId) return;
  const read = await readSecretString(secretId, env.AWS_REGION);
  if ('failure' in read) {
    const { retryable, reason, cause } = read.failure;
    throw new LoginSecretError(
      `Could not read the login settings from the Secrets Manager secret ${JSON.stringify(secretId)} (${reason}). ` +
        (retryable
          ? 'Secrets Manager did not answer; try again.'
          : "Check that the secret exists in this function's region and that its role may secretsmanager:GetSecretValue on it (infra/iam.yml)."),
      { secretId, reason },
      retryable,
      { cause },
    );
  }
  let settings: unknown;
  try {
    settings = JSON.parse(read.value);
  } catch {
    settings = undefined;
  }
  const entries =
    settings && typeof settings === 'object' && !Array.isArray(settings)
      ? Object.entries(settings)
      : undefined;
  const unknown = entries?.filter(
    ([k, v]) => !(LOGIN_SECRET_KEYS as readonly string[]).includes(k) || typeof v !== 'string',
  );
  if (!entries || unknown!.length > 0) {
    throw new LoginSecretError(
      `The Secrets Manager secret ${JSON.stringify(secretId)} must be a JSON object of strings with the keys ${LOGIN_SECRET_KEYS.join(', ')} (value not shown${unknown?.length ? `; unexpected: ${unknown.map(([k]) => JSON.stringify(k.slice(0, 40))).join(', ')}` : ''}).`,
      { secretId },
      false,
    );
  }
  for (const [key, value] of entries) env[key] = value as string;
  loadedFrom = secretId;
  resetConfig();
}

/** Forgets the loaded secret (tests). */
export function forgetLoginSecret(): void {
  loadedFrom = undefined;
}

/** middy: the login settings in place before the handler reads its configuration. */
export function loginSecret(): MiddlewareObj {
  return { before: () => loadLoginSecret() };
}
