/**
 * A workspace's pipeline log (`lightrag_serverless_pipeline_events`: the newest
 * {@link MAX_PIPELINE_EVENTS} lines, trimmed as they are written) and its cancellation flag
 * (`lightrag_serverless_pipeline_control`), behind LightRAG's `pipeline_status` and
 * `cancel_pipeline`.
 */
import type { Queryable } from '../db/database.ts';
import { TABLES } from './tables.ts';

/** Lines kept per workspace; older ones are deleted as new ones come. */
export const MAX_PIPELINE_EVENTS = 500;
/** Characters a line keeps. */
export const MAX_EVENT_LENGTH = 1000;

/** One line of the log. */
export interface PipelineEvent {
  at: Date;
  message: string;
}

/**
 * Adds a line and trims the workspace's log to its newest {@link MAX_PIPELINE_EVENTS}; in the
 * same round trip, returns when cancellation was requested, if it stands.
 */
export async function appendPipelineEvent(
  db: Queryable,
  workspace: string,
  message: string,
): Promise<Date | undefined> {
  const text = message.replaceAll('\u0000', '').slice(0, MAX_EVENT_LENGTH);
  const { rows } = await db.query<{ at: Date | string | null }>(
    `WITH added AS (
       INSERT INTO ${TABLES.pipelineEvents} (workspace, message) VALUES ($1, $2) RETURNING id
     ), trimmed AS (
       DELETE FROM ${TABLES.pipelineEvents}
        WHERE workspace = $1
          AND id < (SELECT id FROM ${TABLES.pipelineEvents} WHERE workspace = $1
                     ORDER BY id DESC OFFSET $3 LIMIT 1)
     )
     SELECT cancel_requested_at AS at FROM ${TABLES.pipelineControl} WHERE workspace = $1`,
    [workspace, text, MAX_PIPELINE_EVENTS - 2],
  );
  const at = rows[0]?.at;
  return at ? new Date(at) : undefined;
}

/** The workspace's newest `limit` lines, oldest first. */
export async function readPipelineEvents(
  db: Queryable,
  workspace: string,
  limit = MAX_PIPELINE_EVENTS,
): Promise<PipelineEvent[]> {
  const { rows } = await db.query<{ at: Date | string; message: string }>(
    `SELECT at, message FROM (
       SELECT id, at, message FROM ${TABLES.pipelineEvents}
        WHERE workspace = $1 ORDER BY id DESC LIMIT $2
     ) newest ORDER BY id`,
    [workspace, limit],
  );
  return rows.map((r) => ({ at: new Date(r.at), message: r.message }));
}

/** Records a cancellation request now (documents submitted before it stop); returns its time. */
export async function requestCancellation(db: Queryable, workspace: string): Promise<Date> {
  const { rows } = await db.query<{ at: Date | string }>(
    `INSERT INTO ${TABLES.pipelineControl} (workspace, cancel_requested_at) VALUES ($1, now())
     ON CONFLICT (workspace) DO UPDATE SET cancel_requested_at = now()
     RETURNING cancel_requested_at AS at`,
    [workspace],
  );
  return new Date(rows[0]!.at);
}

/** When cancellation was last requested, if it still stands. */
export async function cancellationRequestedAt(
  db: Queryable,
  workspace: string,
): Promise<Date | undefined> {
  const { rows } = await db.query<{ at: Date | string | null }>(
    `SELECT cancel_requested_at AS at FROM ${TABLES.pipelineControl} WHERE workspace = $1`,
    [workspace],
  );
  const at = rows[0]?.at;
  return at ? new Date(at) : undefined;
}

/** Ends a cancellation once nothing it applies to is left running. */
export async function clearCancellation(db: Queryable, workspace: string): Promise<void> {
  await db.query(
    `UPDATE ${TABLES.pipelineControl} SET cancel_requested_at = NULL WHERE workspace = $1`,
    [workspace],
  );
}
