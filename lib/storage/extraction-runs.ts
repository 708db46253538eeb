import { TABLES } from './tables.ts';
import { WorkspaceBound } from './workspace-bound.ts';

/** Where a fanned-out document's merge stands. */
export type MergeState = 'waiting' | 'queued' | 'merging' | 'done';
/** Where one chunk batch of a fan-out stands. */
export type BatchStatus = 'sent' | 'extracted' | 'failed';

/** A fanned-out document's extraction run: its batches and its merge. */
export interface ExtractionRun {
  docId: string;
  runId: string;
  batches: number;
  chunks: number;
  mergeState: MergeState;
  mergeMessageId: string | null;
}

/** Where a run stands: batches and chunks by status. */
export interface RunProgress {
  batches: number;
  chunks: number;
  batchesExtracted: number;
  batchesFailed: number;
  chunksExtracted: number;
}

/** One chunk batch of an extraction run. */
export interface ExtractionBatch {
  index: number;
  chunkIds: string[];
  status: BatchStatus;
  error: string | null;
}

const RUNS = TABLES.extractionRuns;
const BATCHES = TABLES.extractionBatches;

export class ExtractionRunStorage extends WorkspaceBound {
  /** Starts (or restarts) a document's run: earlier batches are forgotten. */
  async start(docId: string, runId: string, batches: readonly string[][]): Promise<void> {
    const chunks = batches.reduce((n, b) => n + b.length, 0);
    await this.q.query(`DELETE FROM ${BATCHES} WHERE workspace = $1 AND doc_id = $2`, [
      this.workspace,
      docId,
    ]);
    await this.q.query(
      `INSERT INTO ${RUNS} (workspace, doc_id, run_id, batches, chunks)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (workspace, doc_id) DO UPDATE SET run_id = EXCLUDED.run_id,
         batches = EXCLUDED.batches, chunks = EXCLUDED.chunks, merge_state = 'waiting',
         merge_message_id = NULL, created_at = now(), updated_at = now()`,
      [this.workspace, docId, runId, batches.length, chunks],
    );
    await this.q.query(
      `INSERT INTO ${BATCHES} (workspace, doc_id, batch_index, run_id, chunk_ids)
       SELECT $1, $2, i - 1, $3, ids::jsonb FROM unnest($4::text[]) WITH ORDINALITY AS b(ids, i)`,
      [this.workspace, docId, runId, batches.map((b) => JSON.stringify(b))],
    );
  }

  async getRun(docId: string): Promise<ExtractionRun | null> {
    const { rows } = await this.q.query(
      `SELECT doc_id, run_id, batches, chunks, merge_state, merge_message_id FROM ${RUNS}
        WHERE workspace = $1 AND doc_id = $2`,
      [this.workspace, docId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      docId: row.doc_id as string,
      runId: row.run_id as string,
      batches: Number(row.batches),
      chunks: Number(row.chunks),
      mergeState: row.merge_state as MergeState,
      mergeMessageId: (row.merge_message_id as string | null) ?? null,
    };
  }

  async getBatch(docId: string, runId: string, index: number): Promise<ExtractionBatch | null> {
    const { rows } = await this.q.query(
      `SELECT batch_index, chunk_ids, status, error_msg FROM ${BATCHES}
        WHERE workspace = $1 AND doc_id = $2 AND run_id = $3 AND batch_index = $4`,
      [this.workspace, docId, runId, index],
    );
    const row = rows[0];
    if (!row) return null;
    const ids = typeof row.chunk_ids === 'string' ? JSON.parse(row.chunk_ids) : row.chunk_ids;
    return {
      index: Number(row.batch_index),
      chunkIds: ids as string[],
      status: row.status as BatchStatus,
      error: (row.error_msg as string | null) ?? null,
    };
  }

  /**
   * Moves a batch out of `sent` (once: a redelivery changes nothing). Returns whether this call
   * moved it.
   */
  async settleBatch(
    docId: string,
    runId: string,
    index: number,
    status: Exclude<BatchStatus, 'sent'>,
    error: string | null = null,
  ): Promise<boolean> {
    const { rowCount } = await this.q.query(
      `UPDATE ${BATCHES} SET status = $5, error_msg = $6, updated_at = now()
        WHERE workspace = $1 AND doc_id = $2 AND run_id = $3 AND batch_index = $4 AND status = 'sent'`,
      [this.workspace, docId, runId, index, status, error],
    );
    return (rowCount ?? 0) > 0;
  }

  async progress(docId: string, runId: string): Promise<RunProgress> {
    const { rows } = await this.q.query(
      `SELECT count(*)::int AS batches,
              coalesce(sum(jsonb_array_length(chunk_ids)), 0)::int AS chunks,
              (count(*) FILTER (WHERE status = 'extracted'))::int AS batches_extracted,
              (count(*) FILTER (WHERE status = 'failed'))::int AS batches_failed,
              coalesce(sum(jsonb_array_length(chunk_ids)) FILTER (WHERE status = 'extracted'), 0)::int
                AS chunks_extracted
         FROM ${BATCHES} WHERE workspace = $1 AND doc_id = $2 AND run_id = $3`,
      [this.workspace, docId, runId],
    );
    const r = rows[0]!;
    return {
      batches: Number(r.batches),
      chunks: Number(r.chunks),
      batchesExtracted: Number(r.batches_extracted),
      batchesFailed: Number(r.batches_failed),
      chunksExtracted: Number(r.chunks_extracted),
    };
  }

  /**
   * Moves the run's merge state from one of `from` to `to` (claiming, with a message id, is
   * {@link claimMerge}'s). Returns whether it moved: of concurrent callers exactly one wins.
   */
  async moveMerge(
    docId: string,
    runId: string,
    from: readonly MergeState[],
    to: MergeState,
  ): Promise<boolean> {
    const { rowCount } = await this.q.query(
      `UPDATE ${RUNS} SET merge_state = $4, updated_at = now()
        WHERE workspace = $1 AND doc_id = $2 AND run_id = $3 AND merge_state = ANY($5::text[])`,
      [this.workspace, docId, runId, to, [...from]],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Claims the merge for one message: a run `queued`; or `merging` under the same message id
   * (SQS delivering it again after a crash), or under any message once the merging worker's
   * lease (`leaseSeconds` since the claim) has run out — a DLQ redrive gives a new id. Another
   * message while the merge is held (a duplicate merge request) gets false.
   */
  async claimMerge(
    docId: string,
    runId: string,
    messageId: string,
    leaseSeconds: number,
  ): Promise<boolean> {
    const { rowCount } = await this.q.query(
      `UPDATE ${RUNS} SET merge_state = 'merging', merge_message_id = $4, updated_at = now()
        WHERE workspace = $1 AND doc_id = $2 AND run_id = $3
          AND (merge_state = 'queued'
               OR (merge_state = 'merging' AND (merge_message_id = $4
                   OR updated_at < now() - make_interval(secs => $5::double precision))))`,
      [this.workspace, docId, runId, messageId, leaseSeconds],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Forgets a document's runs (the document was deleted). */
  async deleteByDocId(docId: string): Promise<void> {
    await this.q.query(`DELETE FROM ${BATCHES} WHERE workspace = $1 AND doc_id = $2`, [
      this.workspace,
      docId,
    ]);
    await this.q.query(`DELETE FROM ${RUNS} WHERE workspace = $1 AND doc_id = $2`, [
      this.workspace,
      docId,
    ]);
  }

  /** Forgets every run of the workspace (the workspace was cleared). */
  async drop(): Promise<void> {
    await this.q.query(`DELETE FROM ${BATCHES} WHERE workspace = $1`, [this.workspace]);
    await this.q.query(`DELETE FROM ${RUNS} WHERE workspace = $1`, [this.workspace]);
  }
}
