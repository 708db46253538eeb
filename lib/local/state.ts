/**
 * Where a running local stack (`npm start`) can be found by other processes of the same project
 * folder: the CLI must work on the stack's data, never on a database of its own beside it
 * (PGlite's folder cannot be opened by two processes). `npm start` writes `.data/local-stack.json`
 * while it runs and removes it when it stops; a file left by a killed stack is recognised as
 * stale (its process is gone or its API does not answer).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface LocalStackState {
  pid: number;
  apiUrl: string;
  sqsEndpoint: string;
  queueUrl: string;
  /** The PGlite folder the stack holds, or where its database is. */
  database: string;
  startedAt: string;
}

/** The state file of the project folder `cwd`. */
export const stackStatePath = (cwd = process.cwd()) => resolve(cwd, '.data', 'local-stack.json');

/**
 * Records a stack this process runs (or a state given whole) for the other processes of the
 * folder.
 *
 * @example
 * ```ts
 * writeStackState(await startLocalStack());
 * ```
 */
export function writeStackState(
  state: LocalStackState | Omit<LocalStackState, 'pid' | 'startedAt'>,
  path = stackStatePath(),
): void {
  const full: LocalStackState = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    ...state,
  };
  const { pid, apiUrl, sqsEndpoint, queueUrl, database, startedAt } = full;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    `${JSON.stringify({ pid, apiUrl, sqsEndpoint, queueUrl, database, startedAt }, null, 2)}\n`,
    { mode: 0o600 },
  );
}

/** Removes the state file if it is this process's. */
export function removeStackState(path = stackStatePath()): void {
  const state = readState(path);
  if (state?.pid === process.pid) rmSync(path, { force: true });
}

function readState(path: string): LocalStackState | undefined {
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as LocalStackState;
    return typeof state.apiUrl === 'string' && Number.isInteger(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The local stack running from `cwd`, if one is: its state file names a live process whose API
 * answers `GET /health` within a second.
 */
export async function findRunningStack(cwd = process.cwd()): Promise<LocalStackState | undefined> {
  const state = readState(stackStatePath(cwd));
  if (!state || !alive(state.pid)) return undefined;
  try {
    const res = await fetch(new URL('/health', state.apiUrl), {
      signal: AbortSignal.timeout(1000),
    });
    return res.ok ? state : undefined;
  } catch {
    return undefined;
  }
}
