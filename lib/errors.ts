/**
 * Every error this library throws on purpose. Each carries a stable `code` and the context a
 * caller needs to act, and its message says what to do. Secrets never appear in messages.
 *
 * @example
 * ```ts
 * try { await storage.upsert(rows); }
 * catch (err) { if (err instanceof ValidationError) return badRequest(err.code, err.message); throw err; }
 * ```
 */
export class LightRagError extends Error {
  /** Stable machine-readable code, e.g. `CONFIG_INVALID`. */
  readonly code: string;
  /** Structured context; never contains secrets. */
  readonly details: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** One problem found in the configuration: which variable, and what is wrong with it. */
export interface ConfigProblem {
  variable: string;
  problem: string;
}

/** The configuration is missing or invalid. Lists every problem at once, not just the first. */
export class ConfigError extends LightRagError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.variable}: ${p.problem}`).join('\n');
    super(
      'CONFIG_INVALID',
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}\n` +
        'Set or fix these environment variables; docs/configuration.md lists every variable with its default.',
      { problems },
    );
    this.problems = problems;
  }
}

/** Caller input that can never succeed as given (wrong type, empty, too large, bad name). */
export class ValidationError extends LightRagError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('VALIDATION_FAILED', message, details);
  }
}

/** A workspace name that fails the strict pattern; it never reaches SQL. */
export class InvalidWorkspaceError extends LightRagError {
  constructor(workspace: unknown) {
    const shown =
      typeof workspace === 'string' ? JSON.stringify(workspace.slice(0, 80)) : typeof workspace;
    super(
      'INVALID_WORKSPACE',
      `Invalid workspace ${shown}: use 1-255 characters without "/", "\\" or control characters, other than "." and ".." (LightRAG's rule).`,
      { workspace: typeof workspace === 'string' ? workspace.slice(0, 80) : null },
    );
  }
}

/** A vector whose length differs from the configured `EMBEDDING_DIM`, or a table built for another. */
export class DimensionMismatchError extends LightRagError {
  constructor(message: string, details: { expected: number; actual: number; table?: string }) {
    super('DIMENSION_MISMATCH', message, details);
  }
}

/**
 * The database could not be reached or the connection broke, even after the automatic retry.
 * Retryable: the same operation may succeed later (SQS redelivery, HTTP 503).
 */
export class DatabaseUnavailableError extends LightRagError {
  constructor(message: string, options?: ErrorOptions) {
    super('DATABASE_UNAVAILABLE', message, {}, options);
  }
}

/**
 * A secret read at cold start from AWS Secrets Manager could not be read, or does not hold what
 * it should. Retryable when Secrets Manager itself failed (throttled, unreachable).
 */
export class SecretUnavailableError extends LightRagError {
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    details: { secretId: string; reason?: string },
    retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
    this.retryable = retryable;
  }
}

/** The database connection string (`DATABASE_SECRET_ID`) could not be read. */
export class DatabaseSecretError extends SecretUnavailableError {
  constructor(...[message, details, retryable, options]: SecretErrorArgs) {
    super('DATABASE_SECRET_UNAVAILABLE', message, details, retryable, options);
  }
}

/** LightRAG's login settings (`AUTH_SECRET_ID`, a JSON object of them) could not be read. */
export class LoginSecretError extends SecretUnavailableError {
  constructor(...[message, details, retryable, options]: SecretErrorArgs) {
    super('LOGIN_SECRET_UNAVAILABLE', message, details, retryable, options);
  }
}

type SecretErrorArgs = [
  message: string,
  details: { secretId: string; reason?: string },
  retryable: boolean,
  options?: ErrorOptions,
];

/** An embedding model name whose vector table name would exceed PostgreSQL's 63 characters. */
export class VectorTableNameError extends LightRagError {
  constructor(message: string, details: { model: string; table: string }) {
    super('VECTOR_TABLE_NAME_TOO_LONG', message, details);
  }
}

/** The database schema cannot be created or does not match what this configuration needs. */
export class SchemaError extends LightRagError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('SCHEMA_ERROR', message, details, options);
  }
}

/**
 * An embedding or LLM provider failed. `retryable` separates outages (429, 5xx, timeouts,
 * network errors: the message goes back to SQS) from refusals that will never succeed
 * (400, 401, 403, 404, wrong dimensions: the document is marked failed with the reason).
 */
export class ProviderError extends LightRagError {
  readonly retryable: boolean;
  readonly status: number | undefined;

  constructor(
    provider: string,
    message: string,
    options: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(
      options.retryable ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_REJECTED',
      `${provider}: ${message}`,
      { provider, status: options.status ?? null, retryAfterMs: options.retryAfterMs ?? null },
      { cause: options.cause },
    );
    this.retryable = options.retryable;
    this.status = options.status;
  }

  /** Milliseconds the provider asked to wait (`Retry-After`), when it said. */
  get retryAfterMs(): number | undefined {
    return (this.details.retryAfterMs as number | null) ?? undefined;
  }
}

/** A document id that is not stored (e.g. a queue message naming a document never uploaded). */
export class DocumentNotFoundError extends LightRagError {
  constructor(docId: string, workspace: string) {
    super('DOCUMENT_NOT_FOUND', `Document ${docId} is not stored in workspace ${workspace}.`, {
      docId,
      workspace,
    });
  }
}

/** Reprocessing named documents that a new run cannot bring through (409). */
export class DocumentNotReprocessableError extends LightRagError {
  constructor(refused: ReadonlyArray<{ docId: string; reason: string }>) {
    super(
      'DOCUMENT_NOT_REPROCESSABLE',
      `Not reprocessed, nothing was queued: ${refused.map((r) => `${r.docId} is ${r.reason}`).join('; ')}.`,
      { documents: refused },
    );
  }
}

/** A document that a worker is processing (or LightRAG is parsing / analyzing) cannot be deleted now. */
export class DocumentBusyError extends LightRagError {
  /** `leaseEnds`: epoch ms when its worker's lease runs out (WORK_LEASE_SECONDS). */
  constructor(docId: string, status: string, leaseEnds?: number) {
    const until = leaseEnds === undefined ? undefined : new Date(leaseEnds).toISOString();
    super(
      'DOCUMENT_BUSY',
      `Document ${docId} is being processed (${status}); delete it once it is processed or failed` +
        (until ? `, or after ${until} if its worker stopped (WORK_LEASE_SECONDS).` : '.'),
      { docId, status, ...(until ? { leaseEnds: until } : {}) },
    );
  }
}

/** Submitting or reprocessing needs the ingest queue, and none is configured. */
export class QueueNotConfiguredError extends LightRagError {
  constructor() {
    super(
      'QUEUE_NOT_CONFIGURED',
      'No ingest queue is configured; set INGEST_QUEUE_URL (npm start sets it for the local stack).',
    );
  }
}

/**
 * Other containers kept changing the entities a graph write was planned from, through every
 * bounded re-plan. Retryable: a later delivery replans from cached LLM replies.
 */
export class GraphContendedError extends LightRagError {
  constructor(elements: readonly string[], rounds: number) {
    super(
      'GRAPH_CONTENDED',
      `The graph elements ${elements.slice(0, 5).join(', ')}${elements.length > 5 ? ', …' : ''} changed under every one of ${rounds} plans; try again later.`,
      { elements: elements.slice(0, 20), rounds },
    );
  }
}

/** Why a file cannot be turned into text: each a stable reason a user can act on. */
export type FileRejection =
  | 'empty'
  | 'too_large'
  | 'unsupported_type'
  | 'type_mismatch'
  | 'corrupt'
  | 'encrypted'
  | 'no_text_layer'
  | 'no_text'
  | 'archive_too_large'
  | 'too_many_pages'
  | 'too_much_text'
  | 'too_complex'
  | 'too_slow';

/**
 * An uploaded file that can never be parsed as sent. Final: the document is marked `failed`
 * with this message (LightRAG's `error_type: "file_extraction_error"`) and nothing else changes.
 */
export class FileRejectedError extends LightRagError {
  readonly reason: FileRejection;

  constructor(reason: FileRejection, message: string, details: Record<string, unknown> = {}) {
    super('FILE_REJECTED', message, { reason, ...details });
    this.reason = reason;
  }
}

/** An upload was requested, and no uploads bucket is configured. */
export class UploadsNotConfiguredError extends LightRagError {
  constructor() {
    super(
      'UPLOADS_NOT_CONFIGURED',
      'File uploads are off: set UPLOAD_BUCKET (the deployment sets it; npm start runs a local bucket).',
    );
  }
}

/** A message reached the extraction queue's consumer, but fan-out is not configured there. */
export class FanOutNotConfiguredError extends LightRagError {
  constructor() {
    super(
      'FANOUT_NOT_CONFIGURED',
      'An extraction message arrived but fan-out is off here: set INGEST_QUEUE_URL and EXTRACTION_QUEUE_URL, LLM_PROVIDER and ENABLE_GRAPH on the function that consumes the extraction queue.',
    );
  }
}

/**
 * The workspace's pipeline was cancelled (LightRAG's `cancel_pipeline`) after this document was
 * submitted: it ends `failed` with LightRAG's reason, "User cancelled". Final, never retried.
 */
export class PipelineCancelledError extends LightRagError {
  constructor() {
    super('PIPELINE_CANCELLED', 'User cancelled');
  }
}

/**
 * Documents a background deletion names are still being processed: the deletion message goes
 * back to the queue and deletes them once they are done.
 */
export class DeletionDeferredError extends LightRagError {
  constructor(docIds: readonly string[]) {
    super(
      'DELETION_DEFERRED',
      `${docIds.length} document(s) are still being processed; their deletion is retried.`,
      { docIds: docIds.slice(0, 20) },
    );
  }
}

/** Whether an error is worth retrying later (SQS redelivery, HTTP 503) rather than final. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError || err instanceof GraphContendedError) return true;
  if (err instanceof ProviderError) return err.retryable;
  if (err instanceof LightRagError) return false;
  return true; // Unknown failures (bugs, driver errors) are retried; the DLQ catches repeats.
}

/**
 * The one failure policy of every queue consumer (ingest, extract, parse): whether this delivery
 * gives up — a failure that cannot succeed later, or any failure on the last delivery. A consumer
 * that gives up records the reason on the work (the document `failed`, the batch `failed`) and
 * lets the message be deleted; only a failure it could not record (or a crash) leaves the
 * message to be delivered again and, at the end, in the DLQ. So the DLQ holds messages that no
 * consumer could settle, never work whose status already says what happened.
 *
 * @example
 * ```ts
 * if (!givesUp(err, options.finalAttempt)) throw err; // delivered again
 * await recordFailure(err); // then resolve: the message is deleted
 * ```
 */
export function givesUp(err: unknown, finalAttempt: boolean | undefined): boolean {
  return !isRetryable(err) || finalAttempt === true;
}

/** The reason recorded when a consumer gives up (says so when it was the last delivery). */
export function giveUpReason(err: unknown): string {
  const reason = err instanceof Error ? err.message : String(err);
  return isRetryable(err) ? `Gave up after the last delivery: ${reason}` : reason;
}

/** The request needs an LLM but `LLM_PROVIDER=none`. */
export class LlmNotConfiguredError extends LightRagError {
  constructor(what: string) {
    super(
      'LLM_NOT_CONFIGURED',
      `${what} needs an LLM; set LLM_PROVIDER (openai or bedrock) and LLM_MODEL.`,
    );
  }
}

/** An HTTP-level refusal (wrong content type, body too large, unknown route, foreign workspace). */
export class HttpError extends LightRagError {
  readonly status: number;

  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, details);
    this.status = status;
  }
}
