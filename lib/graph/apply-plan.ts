/**
 * Applying a plan made outside any transaction in a short transaction that re-checks what the
 * plan started from. Graph merges no longer need it (lib/graph/merge.ts merges contended
 * elements again under the locks); a document's deletion does, for the rare case where the
 * document itself changed between plan and apply (a re-ingest that won the document lock): the
 * transaction rolls back, the removal is planned again outside it, and the apply runs again — a
 * bounded number of times, then the retryable GraphContendedError.
 */
import { withConflictRetry } from '../db/conflicts.ts';
import type { Database, Queryable } from '../db/database.ts';
import { GraphContendedError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Plans made in a row for one write, the first included. Every round lets at least one of the
 * writers contending for an element through, so n writers of one hub entity need at most n.
 */
export const MAX_PLAN_ROUNDS = 25;

/** Thrown inside the apply transaction to roll it back: the plan is out of date. */
class PlanOutdated extends Error {
  readonly changed: ReadonlySet<string>;
  constructor(changed: ReadonlySet<string>) {
    super(`${changed.size} graph element(s) changed since they were planned`);
    this.changed = changed;
  }
}

/** Ends the apply transaction (rolled back) when elements changed since they were planned. */
export function requireUnchanged(changed: ReadonlySet<string>): void {
  if (changed.size > 0) throw new PlanOutdated(changed);
}

/** How a plan made outside the transaction is applied inside it, and planned again when it went stale. */
export interface PlanSteps<P, T> {
  /** The writes, in one transaction; calls {@link requireUnchanged} before writing anything. */
  apply(tx: Queryable, plan: P): Promise<T>;
  /** The plan again for the changed elements; `round` counts re-plans from 1. */
  replan(plan: P, changed: ReadonlySet<string>, round: number): Promise<P>;
}

/**
 * @example
 * ```ts
 * const stats = await applyPlan(db, await merger.plan(s, groups), {
 *   apply: async (tx, plan) => { requireUnchanged(await merger.tryWrite(tx, s, plan)); … },
 *   replan: (plan, changed, round) => merger.plan(s, groups, { previous: plan, only: changed, cacheOnly: round > 1 }),
 * });
 * ```
 */
export async function applyPlan<P, T>(
  db: Database,
  plan: P,
  steps: PlanSteps<P, T>,
  options: { logger?: Logger; rounds?: number } = {},
): Promise<T> {
  const rounds = options.rounds ?? MAX_PLAN_ROUNDS;
  let current = plan;
  for (let round = 1; ; round++) {
    try {
      return await withConflictRetry(db, (tx) => steps.apply(tx, current), {
        logger: options.logger,
      });
    } catch (err) {
      if (!(err instanceof PlanOutdated)) throw err;
      if (round >= rounds) throw new GraphContendedError([...err.changed], round);
      options.logger?.info('graph elements changed since planned; planning them again', {
        round,
        changed: err.changed.size,
      });
      // A short jittered pause lets the writer that got there first finish.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(round, 5)));
      current = await steps.replan(current, err.changed, round);
    }
  }
}
