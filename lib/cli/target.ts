/**
 * What a CLI command works on. With a database configured (DATABASE_URL, POSTGRES_HOST,
 * DATABASE_DRIVER or PGLITE_DATA_DIR), that database. Otherwise the local stack running from this
 * folder (`npm start`), through its HTTP API and queues, so what the CLI does is what the stack
 * sees. Otherwise `npm start`'s own embedded database in `.data/pglite`, said on stderr: an
 * in-memory database is used only when asked for (`PGLITE_DATA_DIR=memory://`).
 */
import { mkdirSync } from 'node:fs';
import { findRunningStack, type LocalStackState } from '../local/state.ts';
import type { CliIo } from './context.ts';

/** `npm start`'s embedded database folder. */
export const LOCAL_DATA_DIR = '.data/pglite';

const DATABASE_VARIABLES = ['DATABASE_URL', 'POSTGRES_HOST', 'DATABASE_DRIVER', 'PGLITE_DATA_DIR'];

export type CliTarget =
  | { kind: 'stack'; stack: LocalStackState }
  | { kind: 'database'; env: CliIo['env'] };

export async function cliTarget(io: CliIo): Promise<CliTarget> {
  if (DATABASE_VARIABLES.some((v) => (io.env[v] ?? '').trim() !== '')) {
    return { kind: 'database', env: io.env };
  }
  const stack = await findRunningStack();
  if (stack) return { kind: 'stack', stack };
  mkdirSync(LOCAL_DATA_DIR, { recursive: true });
  io.err(
    `No database configured (DATABASE_URL) and no local stack running: using npm start's database in ${LOCAL_DATA_DIR}.`,
  );
  return { kind: 'database', env: { ...io.env, PGLITE_DATA_DIR: LOCAL_DATA_DIR } };
}

/**
 * For commands that need the database itself: refused while the local stack holds it (exit 2),
 * with what to do instead.
 */
export function refuseWhileStackRuns(target: CliTarget, command: string, io: CliIo): boolean {
  if (target.kind !== 'stack') return false;
  io.err(
    `The local stack (pid ${target.stack.pid}, ${target.stack.apiUrl}) holds ${target.stack.database}; ` +
      `"${command}" needs the database itself. Stop the stack first (Ctrl-C where npm start runs), or set DATABASE_URL.`,
  );
  return true;
}

/** JSON over the stack's (or a deployment's) HTTP API; errors carry the API's own message. */
export function apiClient(apiUrl: string, options: { token?: string; workspace?: string } = {}) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.workspace ? { 'x-workspace': options.workspace } : {}),
  };
  return async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(new URL(path, apiUrl), {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new Error(
        `No API answers at ${apiUrl} (${(err as Error).message}): start it with \`npm start\`, or pass --api-url.`,
      );
    }
    const json = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    if (res.status >= 400) {
      throw new Error(`${method} ${path}: ${res.status} ${json.error?.message ?? res.statusText}`);
    }
    return json as T;
  };
}
