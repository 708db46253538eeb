import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { IngestQueueClient } from '../queue/enqueue.ts';
import { createSqsClient } from '../queue/sqs.ts';
import { type CliIo, openPipeline, progressBar, readAllStdin } from './context.ts';
import { readDocuments } from './documents.ts';
import { apiClient, cliTarget } from './target.ts';

/**
 * `enqueue FILE|GLOB|- [--workspace W] [--queue-url URL] [--endpoint URL] [--wait] [--timeout S] [--json]`:
 * documents onto the ingest queue; documents larger than a message are stored first and sent by
 * id. `--wait` follows their status in the database until each is processed or failed.
 */
export async function enqueueCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      workspace: { type: 'string' },
      'queue-url': { type: 'string' },
      endpoint: { type: 'string' },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) {
    io.err('enqueue needs at least one FILE, glob or "-" (standard input).');
    return 2;
  }
  const target = await cliTarget(io);
  // While the local stack runs, its queue (and, for --wait, its API) are the defaults.
  const stack = target.kind === 'stack' ? target.stack : undefined;
  const endpoint = values.endpoint ?? stack?.sqsEndpoint;
  const baseEnv =
    target.kind === 'database' ? target.env : { ...io.env, PGLITE_DATA_DIR: 'memory://' };
  const run = openPipeline(
    {
      ...io,
      env: {
        ...baseEnv,
        ...(endpoint
          ? { SQS_ENDPOINT: endpoint, AWS_REGION: io.env.AWS_REGION ?? 'us-east-1' }
          : {}),
      },
    },
    { workspace: values.workspace },
  );
  const queueUrl = values['queue-url'] ?? stack?.queueUrl ?? run.config.queue.queueUrl;
  if (!queueUrl) {
    io.err('No queue URL: pass --queue-url or set INGEST_QUEUE_URL.');
    await run.close();
    return 2;
  }
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    io.err(`--timeout must be a number of seconds, got ${JSON.stringify(values.timeout)}.`);
    await run.close();
    return 2;
  }
  // Embedded in-memory PGlite cannot hand documents to anyone: only a real or persisted database can.
  const hasDatabase =
    stack === undefined &&
    (run.config.database.driver !== 'pglite' ||
      (run.config.database.pgliteDataDir ?? 'memory://') !== 'memory://');
  // Everything is checked before anything is sent: a retried command would send it all again.
  if (values.wait && !hasDatabase && !stack) {
    io.err(
      '--wait needs the database the ingest function writes to (DATABASE_URL); nothing was sent.',
    );
    await run.close();
    return 2;
  }
  const sqs = await createSqsClient(run.config.queue);
  try {
    const { documents, errors } = await readDocuments(positionals, io.readStdin ?? readAllStdin);
    for (const error of errors) io.err(`skipped ${error}`);
    const client = new IngestQueueClient({
      sqs,
      queueUrl,
      maxMessageBytes: run.config.queue.maxMessageBytes,
      maxDocumentBytes: run.config.ingest.maxDocumentBytes,
      pipeline: hasDatabase ? run.pipeline : undefined,
      idRules: run.config.ingest.idRules,
    });
    const showProgress = io.isTty === true && documents.length > 1 && !values.json;
    const results = await client.enqueue(
      documents.map((d) => ({ ...d, workspace: values.workspace })),
      {
        onProgress: showProgress
          ? (done, total) => io.err(`\r${progressBar(done, total)}`)
          : undefined,
      },
    );
    const count = (status: string) => results.filter((r) => r.status === status).length;
    let statuses: Record<string, string> = {};
    if (values.wait) {
      statuses = await waitForStatuses(
        stack ? apiStatuses(stack.apiUrl, values.workspace) : databaseStatuses(run),
        results.filter((r) => r.status === 'queued').map((r) => r.docId!),
        timeoutSeconds,
      );
    }
    if (values.json) {
      io.out(
        JSON.stringify(
          { results: results.map((r) => ({ ...r, finalStatus: statuses[r.docId ?? ''] })), errors },
          null,
          2,
        ),
      );
    } else {
      for (const [i, r] of results.entries()) {
        const final = statuses[r.docId ?? ''] ? `  → ${statuses[r.docId ?? '']}` : '';
        io.out(
          `${r.docId ?? '-'}  ${r.status}${r.byReference ? ' (by reference)' : ''}${final}  ${documents[i]?.filePath ?? ''}${r.error ? ` — ${r.error}` : ''}`,
        );
      }
      io.out(
        `${count('queued')} queued (${results.filter((r) => r.byReference && r.status === 'queued').length} by reference), ` +
          `${count('duplicate')} already processed, ${count('failed') + errors.length} failed`,
      );
    }
    const notProcessed = Object.values(statuses).filter((s) => s !== 'processed').length;
    return count('failed') + errors.length + notProcessed > 0 ? 1 : 0;
  } finally {
    sqs.destroy();
    await run.close();
  }
}

type StatusReader = (docIds: string[]) => Promise<Array<string | undefined>>;

/** Statuses read from the database the ingest function writes to. */
function databaseStatuses(run: ReturnType<typeof openPipeline>): StatusReader {
  return async (docIds) => {
    const s = await run.pipeline.storages();
    return (await s.docStatus.getByIds(docIds)).map((r) => r?.status);
  };
}

/** Statuses read through the local stack's API (it holds its database). */
function apiStatuses(apiUrl: string, workspace?: string): StatusReader {
  const api = apiClient(apiUrl, { workspace });
  return (docIds) =>
    Promise.all(
      docIds.map((id) =>
        api<{ status: string }>('GET', `/documents/${encodeURIComponent(id)}`).then(
          (d) => d.status,
          () => undefined,
        ),
      ),
    );
}

async function waitForStatuses(
  read: StatusReader,
  docIds: string[],
  timeoutSeconds: number,
): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let statuses: Record<string, string> = {};
  for (;;) {
    const rows = await read(docIds);
    statuses = Object.fromEntries(docIds.map((id, i) => [id, rows[i] ?? 'missing']));
    const open = Object.values(statuses).filter((st) => st !== 'processed' && st !== 'failed');
    if (open.length === 0 || Date.now() > deadline) return statuses;
    await sleep(500);
  }
}
