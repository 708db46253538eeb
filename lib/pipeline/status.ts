/**
 * LightRAG's pipeline status and cancellation, for a pipeline spread over containers: the state
 * comes from the workspace's documents (busy while any is waiting or in progress), the history
 * from a bounded per-workspace log that ingest, parse, extract and delete write to, and
 * cancellation is a per-workspace time: documents submitted before it end `failed` with "User
 * cancelled" at their next step (consumers check between steps), later ones run as usual, and
 * finished ones stay `processed`.
 *
 * @example
 * ```ts
 * const log = new PipelineLog(db, logger);
 * await log.note('default', 'Processing notes.md');
 * await log.stopIfCancelled('default', submittedAt); // throws PipelineCancelledError
 * ```
 */
import type { Database } from '../db/database.ts';
import { PipelineCancelledError } from '../errors.ts';
import { errorFields, type Logger } from '../logger.ts';
import { DocStatusStorage } from '../storage/doc-status.ts';
import {
  appendPipelineEvent,
  cancellationRequestedAt,
  clearCancellation,
  readPipelineEvents,
  requestCancellation,
} from '../storage/pipeline-log.ts';

/** Writes the log and reads the cancellation flag; a log line that cannot be written is only logged. */
export class PipelineLog {
  readonly #db: Database;
  readonly #log: Logger;

  constructor(db: Database, logger: Logger) {
    this.#db = db;
    this.#log = logger;
  }

  /** Adds a line to the workspace's log (never throws: the log must not fail a document). */
  async note(workspace: string, message: string): Promise<void> {
    await appendPipelineEvent(this.#db, workspace, message).catch((err: unknown) =>
      this.#log.warn('could not write the pipeline log', { workspace, ...errorFields(err) }),
    );
  }

  /**
   * Throws {@link PipelineCancelledError} when cancellation was requested after the document was
   * submitted (`submittedAt`, ms since the epoch). With `message`, the line is written in the
   * same round trip.
   */
  async stopIfCancelled(workspace: string, submittedAt: number, message?: string): Promise<void> {
    const at =
      message === undefined
        ? await cancellationRequestedAt(this.#db, workspace)
        : await appendPipelineEvent(this.#db, workspace, message);
    if (at && cancels(at, submittedAt)) throw new PipelineCancelledError();
  }
}

/** Whether a cancellation at `at` stops work submitted at `submittedAt` (before it only). */
function cancels(at: Date, submittedAt: number): boolean {
  return submittedAt < at.getTime();
}

/** LightRAG's `GET /documents/pipeline_status` body. */
export interface PipelineStatus {
  busy: boolean;
  job_name: string;
  job_start: string | null;
  docs: number;
  batchs: number;
  cur_batch: number;
  latest_message: string;
  history_messages: string[];
  cancellation_requested: boolean;
  /** Where the state comes from here: the documents, not one process's memory. */
  update_status: { source: 'documents'; active_documents: number };
}

const line = (e: { at: Date; message: string }) =>
  `[${e.at.toISOString().slice(0, 19).replace('T', ' ')}] ${e.message}`;

/**
 * The workspace's pipeline as LightRAG reports it. A cancellation with nothing left to stop is
 * cleared here, so the flag never outlives the run it was for.
 */
export async function pipelineStatus(db: Database, workspace: string): Promise<PipelineStatus> {
  const docs = new DocStatusStorage(db, workspace);
  const [counts, active, events, cancelAt] = await Promise.all([
    docs.getStatusCounts(),
    docs.activeSummary(),
    readPipelineEvents(db, workspace),
    cancellationRequestedAt(db, workspace),
  ]);
  const busy = active.count > 0;
  if (cancelAt && !busy) await clearCancellation(db, workspace);
  const running = counts.parsing + counts.analyzing + counts.processing;
  const history = events.map(line);
  return {
    busy,
    job_name: busy ? `Indexing ${active.count} document${active.count === 1 ? '' : 's'}` : '',
    job_start: active.since?.toISOString() ?? null,
    docs: active.count,
    batchs: active.count,
    cur_batch: running,
    latest_message: history.at(-1) ?? '',
    history_messages: history,
    cancellation_requested: Boolean(cancelAt && busy),
    update_status: { source: 'documents', active_documents: active.count },
  };
}

/** LightRAG's `POST /documents/cancel_pipeline`: `cancellation_requested`, or `not_busy`. */
export async function cancelPipeline(
  db: Database,
  log: PipelineLog,
  workspace: string,
): Promise<{ status: 'cancellation_requested' | 'not_busy'; message: string }> {
  const active = await new DocStatusStorage(db, workspace).activeSummary();
  if (active.count === 0) {
    return { status: 'not_busy', message: 'No pipeline is running in this workspace.' };
  }
  await requestCancellation(db, workspace);
  await log.note(
    workspace,
    `Cancellation requested: ${active.count} document(s) stop at their next step`,
  );
  return {
    status: 'cancellation_requested',
    message: `Cancellation requested: the ${active.count} waiting or running document(s) end failed ("User cancelled") at their next step; processed documents stay.`,
  };
}
