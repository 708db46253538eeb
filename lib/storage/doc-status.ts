/**
 * LightRAG's document status storage (LIGHTRAG_DOC_STATUS): where each document is in the
 * pipeline, with LightRAG's pagination rules for listing.
 */
import type { Database } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
import { sanitizeOptional, toJsonParam } from '../text.ts';
import { TABLES } from './tables.ts';
import { isStringArray, optionalString, requireString, typeOf } from './validate.ts';
import { asJsonb, type ColumnSpec, isoColumn, WorkspaceTable } from './workspace-table.ts';

/** LightRAG 1.5's statuses (`parsing`, `analyzing` new in 1.5; `preprocessed` deprecated, still read). */
export const DOC_STATUSES = [
  'pending',
  'parsing',
  'analyzing',
  'processing',
  'preprocessed',
  'processed',
  'failed',
] as const;
/** LightRAG 1.5's document statuses. */
export type DocStatus = (typeof DOC_STATUSES)[number];

/** A row of LIGHTRAG_DOC_STATUS as LightRAG 1.5 writes it (build one with lib/storage/status-rows.ts). */
export interface DocStatusRecord {
  id: string;
  status: DocStatus;
  /** First characters of the document (LightRAG keeps up to 100; the column holds 255). */
  content_summary: string;
  content_length: number;
  file_path?: string | null;
  chunks_count?: number | null;
  chunks_list?: string[];
  track_id?: string | null;
  metadata?: Record<string, unknown>;
  error_msg?: string | null;
  content_hash?: string | null;
  /** ISO timestamps; the database's clock is used when absent. */
  created_at?: string;
  updated_at?: string;
}

/** A stored status, with its timestamps always present. */
export type StoredDocStatus = Required<Omit<DocStatusRecord, 'chunks_count'>> & {
  chunks_count: number | null;
};

/** Fields `GET /documents` may sort by (LightRAG's). */
export const SORT_FIELDS = ['created_at', 'updated_at', 'id', 'file_path'] as const;
/** One of {@link SORT_FIELDS}. */
export type SortField = (typeof SORT_FIELDS)[number];

/** A page of documents: status filter, page, size and order (LightRAG's rules). */
export interface PageRequest {
  status?: DocStatus | null;
  /** Several statuses at once (LightRAG's `status_filters`), with `status` if both are given. */
  statuses?: DocStatus[];
  page?: number;
  pageSize?: number;
  sortField?: string;
  sortDirection?: string;
}

/** One page of documents, with LightRAG's pagination fields. */
export interface Page {
  documents: StoredDocStatus[];
  total: number;
  page: number;
  pageSize: number;
}

// Timestamps are stored as UTC wall-clock time in LightRAG's TIMESTAMP (without zone) columns.
const timestamp = (v: string) =>
  `COALESCE(${v}::timestamptz, CURRENT_TIMESTAMP) AT TIME ZONE 'UTC'`;

const COLUMNS: ColumnSpec<DocStatusRecord>[] = [
  { name: 'status', arrayType: 'text', value: (r) => r.status },
  {
    name: 'content_summary',
    arrayType: 'text',
    value: (r) => sanitizeOptional(r.content_summary)?.slice(0, 255) ?? null,
  },
  { name: 'content_length', arrayType: 'int4', value: (r) => r.content_length },
  { name: 'chunks_count', arrayType: 'int4', value: (r) => r.chunks_count ?? null },
  {
    name: 'chunks_list',
    arrayType: 'text',
    expression: asJsonb,
    value: (r) => toJsonParam(r.chunks_list ?? []),
  },
  { name: 'file_path', arrayType: 'text', value: (r) => sanitizeOptional(r.file_path) },
  { name: 'track_id', arrayType: 'text', value: (r) => r.track_id ?? null },
  {
    name: 'metadata',
    arrayType: 'text',
    expression: asJsonb,
    value: (r) => toJsonParam(r.metadata ?? {}),
  },
  { name: 'error_msg', arrayType: 'text', value: (r) => sanitizeOptional(r.error_msg) },
  { name: 'content_hash', arrayType: 'text', value: (r) => r.content_hash ?? null },
  // created_at keeps its first value on update; updated_at moves to now unless given.
  {
    name: 'created_at',
    arrayType: 'text',
    expression: timestamp,
    value: (r) => r.created_at ?? null,
    keepOnUpdate: true,
  },
  {
    name: 'updated_at',
    arrayType: 'text',
    expression: timestamp,
    value: (r) => r.updated_at ?? null,
  },
];

/** Document status for one workspace. */
export class DocStatusStorage extends WorkspaceTable<StoredDocStatus> {
  protected readonly selectList =
    `id, status, content_summary, content_length, chunks_count, chunks_list,
    file_path, track_id, metadata, error_msg, content_hash, ${isoColumn('created_at')}, ${isoColumn('updated_at')}`;

  constructor(db: Database, workspace: string) {
    super(db, workspace, TABLES.docStatus);
  }

  protected mapRow(row: Record<string, unknown>): StoredDocStatus {
    return {
      id: row.id as string,
      status: row.status as DocStatus,
      content_summary: row.content_summary as string,
      content_length: row.content_length as number,
      chunks_count: row.chunks_count as number | null,
      chunks_list: (row.chunks_list as string[] | null) ?? [],
      file_path: row.file_path as string | null,
      track_id: row.track_id as string | null,
      metadata: (row.metadata as Record<string, unknown> | null) ?? {},
      error_msg: row.error_msg as string | null,
      content_hash: row.content_hash as string | null,
      created_at: row.created_at as string,
      updated_at: row.updated_at as string,
    };
  }

  /** Inserts or updates statuses by id. `created_at` of an existing row is kept. */
  async upsert(records: readonly DocStatusRecord[]): Promise<number> {
    for (const record of records) validateStatus(record);
    return this.upsertRecords(records, COLUMNS, { updateTimestamp: null });
  }

  /**
   * Sets one key of a document's metadata (e.g. extraction progress) and its `updated_at`,
   * leaving the rest of the row as it is. False when the document has no row.
   */
  async setMetadataKey(id: string, key: string, value: unknown): Promise<boolean> {
    const { rowCount } = await this.q.query(
      `UPDATE ${this.table}
          SET metadata = jsonb_set(coalesce(metadata, '{}'::jsonb), ARRAY[$3::text], $4::jsonb),
              updated_at = (now() AT TIME ZONE 'UTC')
        WHERE workspace = $1 AND id = $2`,
      [this.workspace, id, key, toJsonParam(value)],
    );
    return rowCount > 0;
  }

  /**
   * A document's status, its row locked until the transaction ends (`FOR UPDATE`): a writer of
   * the same document waits. Null when there is no row.
   */
  async lockStatus(id: string): Promise<{ status: DocStatus; updated_at: string } | null> {
    if (!this.inTransaction)
      throw new TypeError(
        'lockStatus needs storages.in(tx): a lock ends with its statement otherwise.',
      );
    const { rows } = await this.q.query<{ status: DocStatus; updated_at: string }>(
      `SELECT status, ${isoColumn('updated_at')} FROM ${this.table}
        WHERE workspace = $1 AND id = $2 FOR UPDATE`,
      [this.workspace, id],
    );
    return rows[0] ?? null;
  }

  /** Number of documents per status; every status is present, zero when none. */
  async getStatusCounts(): Promise<Record<DocStatus, number>> {
    const { rows } = await this.q.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM ${this.table} WHERE workspace = $1 GROUP BY status`,
      [this.workspace],
    );
    const counts = Object.fromEntries(DOC_STATUSES.map((s) => [s, 0])) as Record<DocStatus, number>;
    for (const row of rows) if (row.status in counts) counts[row.status as DocStatus] = row.n;
    return counts;
  }

  /**
   * The documents waiting or in progress (pending, parsing, analyzing, processing): how many,
   * and since when the oldest of them was submitted. A `pending` upload whose file has not
   * been parsed yet waits for its file, not for the pipeline, and is not counted.
   */
  async activeSummary(): Promise<{ count: number; since: Date | null }> {
    const { rows } = await this.q.query<{ n: number; since: string | null }>(
      `SELECT count(*)::int AS n, ${isoColumn('min(created_at)', 'since')} FROM ${this.table}
        WHERE workspace = $1
          AND (status IN ('parsing', 'analyzing', 'processing')
               OR (status = 'pending' AND metadata->'upload' IS NULL))`,
      [this.workspace],
    );
    const row = rows[0];
    return { count: row?.n ?? 0, since: row?.since ? new Date(row.since) : null };
  }

  async getDocsByStatus(status: DocStatus): Promise<StoredDocStatus[]> {
    assertStatus(status);
    return this.#select('status = $2 ORDER BY updated_at DESC, id', [status]);
  }

  async getDocsByTrackId(trackId: string): Promise<StoredDocStatus[]> {
    if (typeof trackId !== 'string' || trackId.length === 0)
      throw new ValidationError('trackId must be a non-empty string.');
    return this.#select('track_id = $2 ORDER BY created_at, id', [trackId]);
  }

  /**
   * One statement for LightRAG 1.5's duplicate checks: the row `id` itself, and the first other
   * primary document (not a `dup-…` marker row: `COALESCE((metadata->>'is_duplicate')::boolean,
   * false) = false`) with the same `file_path` (preferred) or the same `content_hash`.
   */
  async findIdentity(
    id: string,
    filePath: string | null,
    contentHash: string,
  ): Promise<{ self: StoredDocStatus | null; other: StoredDocStatus | null; sameName: boolean }> {
    const { rows } = await this.q.query(
      `SELECT ${this.selectList}, id = $2 AS is_self, COALESCE(file_path = $3, false) AS same_name
         FROM ${this.table}
        WHERE workspace = $1 AND (id = $2 OR ((file_path = $3 OR content_hash = $4)
          AND COALESCE((metadata->>'is_duplicate')::boolean, false) = false))
        ORDER BY id = $2 DESC, COALESCE(file_path = $3, false) DESC, created_at, id LIMIT 2`,
      [this.workspace, id, filePath, contentHash],
    );
    const self = rows.find((r) => r.is_self);
    const other = rows.find((r) => !r.is_self);
    return {
      self: self ? this.mapRow(self) : null,
      other: other ? this.mapRow(other) : null,
      sameName: other?.same_name === true,
    };
  }

  /**
   * One page of documents, LightRAG's rules: `page` from 1, `pageSize` clamped to 10-200,
   * `sortField` one of created_at / updated_at / id / file_path (else updated_at),
   * `sortDirection` asc or desc (else desc); ties broken by id for a stable order.
   */
  async getDocsPaginated(request: PageRequest = {}): Promise<Page> {
    const page = Math.max(1, Math.trunc(Number(request.page) || 1));
    const pageSize = Math.min(200, Math.max(10, Math.trunc(Number(request.pageSize) || 50)));
    const sortField: SortField = SORT_FIELDS.includes(request.sortField as SortField)
      ? (request.sortField as SortField)
      : 'updated_at';
    const direction = String(request.sortDirection).toLowerCase() === 'asc' ? 'ASC' : 'DESC';
    // One status, or several (LightRAG's `status_filters`); none: every status.
    const statuses = [
      ...new Set([...(request.statuses ?? []), ...(request.status ? [request.status] : [])]),
    ];
    for (const s of statuses) assertStatus(s);
    const filter = statuses.length === 0 ? '' : 'AND status = ANY($2::text[])';
    const params: unknown[] = statuses.length === 0 ? [this.workspace] : [this.workspace, statuses];
    const { rows } = await this.q.query(
      `SELECT ${this.selectList}, count(*) OVER ()::int AS total FROM ${this.table}
        WHERE workspace = $1 ${filter}
        ORDER BY ${sortField} ${direction}, id ${direction}
        LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`,
      params,
    );
    let total = (rows[0]?.total as number | undefined) ?? 0;
    if (rows.length === 0 && page > 1) {
      const counted = await this.q.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${this.table} WHERE workspace = $1 ${filter}`,
        params,
      );
      total = counted.rows[0]?.n ?? 0;
    }
    return { documents: rows.map((r) => this.mapRow(r)), total, page, pageSize };
  }

  async #select(where: string, params: unknown[]): Promise<StoredDocStatus[]> {
    const { rows } = await this.q.query(
      `SELECT ${this.selectList} FROM ${this.table} WHERE workspace = $1 AND ${where}`,
      [this.workspace, ...params],
    );
    return rows.map((r) => this.mapRow(r));
  }
}

function assertStatus(status: unknown): asserts status is DocStatus {
  if (!DOC_STATUSES.includes(status as DocStatus)) {
    throw new ValidationError(
      `Unknown status ${JSON.stringify(status)}; use one of ${DOC_STATUSES.join(', ')}.`,
    );
  }
}

function validateStatus(record: DocStatusRecord): void {
  if (record === null || typeof record !== 'object') {
    throw new ValidationError(`Each status must be an object, got ${typeOf(record)}.`);
  }
  assertStatus(record.status);
  requireString(record, 'content_summary');
  if (!Number.isInteger(record.content_length) || record.content_length < 0) {
    throw new ValidationError(
      `Status ${record.id}: content_length must be a non-negative integer.`,
      { id: record.id },
    );
  }
  optionalString(record, 'file_path');
  optionalString(record, 'track_id', { maxLength: 255 });
  optionalString(record, 'error_msg');
  if (record.chunks_list !== undefined && !isStringArray(record.chunks_list)) {
    throw new ValidationError(`Status ${record.id}: chunks_list must be an array of strings.`, {
      id: record.id,
    });
  }
  for (const field of ['created_at', 'updated_at'] as const) {
    const value = record[field];
    if (value !== undefined && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) {
      throw new ValidationError(`Status ${record.id}: ${field} must be an ISO timestamp.`, {
        id: record.id,
        field,
      });
    }
  }
}
