/**
 * The database connection string from AWS Secrets Manager. The deployed functions get only the
 * secret's id (`DATABASE_SECRET_ID`), never the URL with its password: anyone allowed
 * `lambda:GetFunctionConfiguration` could read an environment variable. The secret is fetched once
 * per container, before the first invocation reads the configuration, and again after the server
 * refused the credentials (the secret was rotated): the invocation that met the refusal fails
 * (retryable), the next one connects with the new value.
 *
 * @example
 * ```ts
 * export const handler = middy().use(databaseSecret()).handler(main);
 * ```
 */
import type { MiddlewareObj } from '@middy/core';
import { resetConfig } from '../config.ts';
import { closeDatabase, onAuthenticationFailure } from '../db/container.ts';
import { EnvReader } from '../env.ts';
import { ConfigError, DatabaseSecretError } from '../errors.ts';
import { readDatabaseSecretId } from '../settings/storage.ts';
import { readSecretString } from './secrets.ts';

interface Loaded {
  secretId: string;
  url: string;
  /** Set when the server refused the credentials: fetch again before the next invocation. */
  stale: boolean;
}

let loaded: Loaded | undefined;
let fetches = 0;

/** How many times this container fetched the secret (health and tests). */
export function databaseSecretFetches(): number {
  return fetches;
}

/**
 * Puts the secret's connection string into `env.DATABASE_URL` (where the configuration reader
 * takes it) unless it is there already from this secret and still good. Without
 * `DATABASE_SECRET_ID` it does nothing.
 */
export async function loadDatabaseSecret(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const reader = new EnvReader(env);
  const secretId = readDatabaseSecretId(reader);
  if (reader.problems.length) throw new ConfigError(reader.problems);
  if (!secretId) return;
  if (loaded && loaded.secretId === secretId && !loaded.stale) return;
  const url = await fetchConnectionString(secretId, env.AWS_REGION);
  const changed = url !== loaded?.url;
  loaded = { secretId, url, stale: false };
  onAuthenticationFailure(() => {
    if (loaded) loaded.stale = true;
  });
  if (changed || env.DATABASE_URL !== url) {
    env.DATABASE_URL = url;
    // Runtimes rebuild from the new configuration once their pool has ended.
    resetConfig();
    await closeDatabase();
  }
}

/** Forgets the secret (tests). */
export function forgetDatabaseSecret(): void {
  loaded = undefined;
  onAuthenticationFailure(undefined);
}

async function fetchConnectionString(secretId: string, region: string | undefined) {
  fetches += 1;
  const read = await readSecretString(secretId, region);
  if ('failure' in read) {
    const { retryable, reason, cause } = read.failure;
    throw new DatabaseSecretError(
      `Could not read the database connection string from the Secrets Manager secret ${JSON.stringify(secretId)} (${reason}). ` +
        (retryable
          ? 'Secrets Manager did not answer; the invocation is safe to retry.'
          : "Check that the secret exists in this function's region and that its role may secretsmanager:GetSecretValue on it (infra/iam.yml)."),
      { secretId, reason },
      retryable,
      { cause },
    );
  }
  const value = read.value;
  const url = value?.trim() ?? '';
  if (!/^postgres(ql)?:\/\/\S+$/.test(url)) {
    throw new DatabaseSecretError(
      `The Secrets Manager secret ${JSON.stringify(secretId)} does not hold a postgres://user:password@host/database URL (value not shown). Store the Neon pooled connection string as the secret's plain-text value.`,
      { secretId },
      false,
    );
  }
  return url;
}

/** middy: the database secret is in place before the handler reads its configuration. */
export function databaseSecret(): MiddlewareObj {
  return { before: () => loadDatabaseSecret() };
}
