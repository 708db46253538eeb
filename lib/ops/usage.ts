/**
 * What a container spends, per workspace and purpose: LLM calls and their tokens, cache hits,
 * embedding calls and tokens. Counted in memory during an invocation (no statement on the hot
 * path) and added to the daily aggregates in one statement when it ends (lib/storage/usage.ts).
 * The scope travels with the invocation's async work, so the code that calls a model only says
 * what happened (`recordUsage`); outside a scope nothing is recorded.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Queryable } from '../db/database.ts';
import { invocationContext } from '../logger.ts';
import { addUsage, type UsageRow } from '../storage/usage.ts';

/** Why a model was called (LightRAG's cache types, and embeddings). */
export type UsagePurpose = 'extract' | 'summary' | 'keywords' | 'answer' | 'embedding';

/** One model call or cache hit, as the usage aggregates count it. */
export interface UsageEvent {
  /** Default: the invocation's workspace (its log context). */
  workspace?: string;
  purpose: UsagePurpose;
  model: string;
  /** A reply served from the LLM cache (no call made). */
  cacheHit?: boolean;
  promptTokens?: number;
  completionTokens?: number;
}

/** The usage of one invocation, until flushed. */
export class UsageRecorder {
  readonly #rows = new Map<string, UsageRow>();

  record(event: UsageEvent & { workspace: string }, now = new Date()): void {
    const day = now.toISOString().slice(0, 10);
    const key = [event.workspace, day, event.purpose, event.model].join('\u0000');
    let row = this.#rows.get(key);
    if (!row) {
      row = {
        workspace: event.workspace,
        day,
        purpose: event.purpose,
        model: event.model,
        calls: 0,
        cacheHits: 0,
        promptTokens: 0,
        completionTokens: 0,
      };
      this.#rows.set(key, row);
    }
    if (event.cacheHit) row.cacheHits += 1;
    else row.calls += 1;
    row.promptTokens += event.promptTokens ?? 0;
    row.completionTokens += event.completionTokens ?? 0;
  }

  get rows(): UsageRow[] {
    return [...this.#rows.values()];
  }

  /** Adds what was recorded to the database and starts again; a failure keeps the counts. */
  async flush(db: Queryable): Promise<void> {
    const rows = this.rows;
    if (rows.length === 0) return;
    await addUsage(db, rows);
    this.#rows.clear();
  }
}

const scope = new AsyncLocalStorage<UsageRecorder>();

/**
 * Runs `fn` recording into `recorder`.
 *
 * @example
 * ```ts
 * const usage = new UsageRecorder();
 * await withUsage(usage, () => handleBatch(event));
 * await usage.flush(db);
 * ```
 */
export function withUsage<T>(recorder: UsageRecorder, fn: () => T): T {
  return scope.run(recorder, fn);
}

/** Starts recording into `recorder` for the rest of the current invocation (a middleware's `before`). */
export function enterUsage(recorder: UsageRecorder): void {
  scope.enterWith(recorder);
}

/** Records one model call (or cache hit) in the current scope, if any. */
export function recordUsage(event: UsageEvent): void {
  const recorder = scope.getStore();
  if (!recorder) return;
  const workspace = event.workspace ?? invocationContext()?.workspace;
  recorder.record({ ...event, workspace: typeof workspace === 'string' ? workspace : 'unknown' });
}
