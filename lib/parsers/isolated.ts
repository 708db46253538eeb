/**
 * Parsing where a crafted file cannot take the function down with it: {@link parseFile} runs in
 * a worker thread with a heap limit (`resourceLimits`, PARSE_MAX_HEAP_MB) and is terminated past
 * its deadline (PARSE_TIMEOUT_MS and a grace period). A worker that runs out of memory, crashes
 * or hangs is a refused file (`too_complex`, `too_slow`), never a lost invocation, so the parse
 * function always reaches the document's `failed` path. The worker is this very module (in
 * Lambda: the function's bundle), started with a marker in its `workerData`.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { FileRejectedError, type FileRejection } from '../errors.ts';
import { tooComplex, tooSlow } from './budget.ts';
import { type ParsedFile, type ParseLimits, parseFile } from './index.ts';

/** The parse limits, and the heap of the worker thread that parses. */
export interface IsolatedParseLimits extends ParseLimits {
  /** Heap (old generation) the parsing worker may use, in MB (PARSE_MAX_HEAP_MB). */
  maxHeapMb: number;
}

/**
 * The limits the configuration sets for parsing one file.
 *
 * @example
 * ```ts
 * await parseFileIsolated(bytes, 'a.pdf', parseLimits(getConfig()));
 * ```
 */
export function parseLimits(config: Pick<Config, 'uploads' | 'ingest'>): IsolatedParseLimits {
  const u = config.uploads;
  return {
    maxFileBytes: u.maxFileBytes,
    maxInflatedBytes: u.maxInflatedBytes,
    maxPdfPages: u.maxPdfPages,
    maxTextBytes: config.ingest.maxDocumentBytes,
    maxXmlNodes: u.maxXmlNodes,
    maxPdfDecodedBytes: u.maxPdfDecodedBytes,
    timeoutMs: u.parseTimeoutMs,
    maxHeapMb: u.parseMaxHeapMb,
  };
}

const MARK = 'lightrag-serverless:parse-file';
/** After the deadline the budget checks themselves should have fired; this is the hard stop. */
const GRACE_MS = 5_000;

type WorkerReply =
  | { ok: true; parsed: ParsedFile }
  | {
      ok: false;
      reason?: FileRejection;
      message: string;
      details?: Record<string, unknown>;
      stackOverflow?: boolean;
    };

/**
 * Parses a file to text in a worker thread; every failure is a {@link FileRejectedError}
 * (parsing is deterministic: the same bytes fail the same way again).
 *
 * @example
 * ```ts
 * const parsed = await parseFileIsolated(bytes, 'report.pdf', { ...limits, maxHeapMb: 1024 });
 * ```
 */
export function parseFileIsolated(
  bytes: Uint8Array,
  fileName: string,
  limits: IsolatedParseLimits,
): Promise<ParsedFile> {
  // A copy the worker owns (the caller's bytes may view a pooled buffer).
  const copy = new Uint8Array(bytes);
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { [MARK]: true, fileName, limits },
    resourceLimits: {
      maxOldGenerationSizeMb: limits.maxHeapMb,
      maxYoungGenerationSizeMb: Math.min(64, Math.max(8, Math.floor(limits.maxHeapMb / 8))),
    },
    stdout: false,
    stderr: false,
  });
  return new Promise<ParsedFile>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(hardStop);
      void worker.terminate();
      outcome();
    };
    const hardStop = setTimeout(
      () => settle(() => reject(tooSlow(limits.timeoutMs, 'a single step that did not finish'))),
      limits.timeoutMs + GRACE_MS,
    );
    worker.once('message', (reply: WorkerReply) =>
      settle(() => (reply.ok ? resolve(reply.parsed) : reject(rejectionOf(reply)))),
    );
    worker.once('error', (err: Error & { code?: string }) =>
      settle(() =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? tooComplex(
                `reading it needs more than ${limits.maxHeapMb} MB of memory (PARSE_MAX_HEAP_MB)`,
                { maxHeapMb: limits.maxHeapMb },
              )
            : new FileRejectedError('corrupt', `The file cannot be read (${err.message}).`),
        ),
      ),
    );
    worker.once('exit', (code) =>
      settle(() => reject(tooComplex(`the parser stopped (exit code ${code})`))),
    );
    worker.postMessage(copy, [copy.buffer]);
  });
}

function rejectionOf(reply: Extract<WorkerReply, { ok: false }>): FileRejectedError {
  if (reply.reason) {
    const { reason: _r, ...details } = reply.details ?? {};
    return new FileRejectedError(reply.reason, reply.message, details);
  }
  if (reply.stackOverflow) return tooComplex('its structure is nested too deeply');
  return new FileRejectedError('corrupt', `The file cannot be read (${reply.message}).`);
}

// In the worker: parse the one file posted, reply, and let the thread end.
if (!isMainThread && (workerData as Record<string, unknown> | null)?.[MARK] === true) {
  const { fileName, limits } = workerData as { fileName: string; limits: ParseLimits };
  parentPort!.once('message', async (bytes: Uint8Array) => {
    let reply: WorkerReply;
    try {
      reply = { ok: true, parsed: await parseFile(bytes, fileName, limits) };
    } catch (err) {
      reply =
        err instanceof FileRejectedError
          ? { ok: false, reason: err.reason, message: err.message, details: err.details }
          : {
              ok: false,
              message: err instanceof Error ? err.message : String(err),
              stackOverflow: err instanceof RangeError && /call stack/i.test(err.message),
            };
    }
    parentPort!.postMessage(reply);
  });
}
