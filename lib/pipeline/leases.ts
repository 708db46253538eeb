/**
 * Work leases: who may take over a document that a worker left part-way. A document in
 * `parsing`, `analyzing` or `processing` is held by the worker that moved it there, and a
 * `pending` one by the message that will carry it, for `WORK_LEASE_SECONDS` after its status
 * row last changed (`updated_at`: every transition, and fan-out progress, refresh it). Lambda
 * kills every invocation by 900 s, so once the lease has run out no worker is still writing:
 * the document is *stuck*, and a redelivered or redriven message (whatever its id), a reprocess
 * request or a delete may take it over. Resumption is keyed on the work (document, run), never
 * on an SQS message id, which a DLQ redrive changes.
 */
/** Statuses a worker holds while it works (LightRAG 1.5's and ours). */
export const WORKING_STATUSES: ReadonlySet<string> = new Set([
  'parsing',
  'analyzing',
  'processing',
]);

/** The status-row fields a work lease is read from. */
export interface LeasedDocument {
  status: string;
  /** ISO time of the row's last change (as the doc-status storage reads it). */
  updated_at?: string | null;
}

/**
 * When the document's current holder loses it (epoch ms); undefined when its status is not held
 * (processed, failed) or its row has no time.
 *
 * @example
 * ```ts
 * leaseEnds({ status: 'processing', updated_at: '2026-12-03T10:00:00+00:00' }, 1200);
 * // Date.parse('2026-12-03T10:20:00Z')
 * ```
 */
export function leaseEnds(doc: LeasedDocument, leaseSeconds: number): number | undefined {
  if (!(WORKING_STATUSES.has(doc.status) || doc.status === 'pending')) return undefined;
  const since = doc.updated_at ? Date.parse(doc.updated_at) : Number.NaN;
  return Number.isNaN(since) ? undefined : since + leaseSeconds * 1000;
}

/** Whether a worker may still be writing the document (its status held, the lease running). */
export function isHeld(doc: LeasedDocument, leaseSeconds: number, now = Date.now()): boolean {
  const ends = leaseEnds(doc, leaseSeconds);
  return ends !== undefined && now < ends;
}

/**
 * Whether the document was left part-way by a worker that is gone: held status, lease run out.
 * Such a document may be reprocessed, deleted or resumed by any message.
 */
export function isStuck(doc: LeasedDocument, leaseSeconds: number, now = Date.now()): boolean {
  const ends = leaseEnds(doc, leaseSeconds);
  return ends !== undefined && now >= ends;
}
