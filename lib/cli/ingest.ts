import { parseArgs } from 'node:util';
import { MAX_DOCUMENTS_PER_REQUEST } from '../documents/requests.ts';
import { errorFields } from '../logger.ts';
import { parseLimits } from '../parsers/isolated.ts';
import type { IngestResult } from '../pipeline/ingest.ts';
import { type CliIo, openPipeline, readAllStdin } from './context.ts';
import { readDocuments } from './documents.ts';
import { apiClient, cliTarget } from './target.ts';
import { uploadFiles } from './upload.ts';

/**
 * `ingest FILE... [--workspace W] [--json]`: the SQS pipeline in-process, one document at a
 * time (PDF, DOCX, PPTX, XLSX and HTML parsed first); prints each document's id and final
 * status, then throughput. Exit 1 if any failed. With `--upload`, the files go through the
 * uploads bucket of a running API instead (lib/cli/upload.ts).
 */
export async function ingestCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      workspace: { type: 'string' },
      json: { type: 'boolean', default: false },
      upload: { type: 'boolean', default: false },
      'api-url': { type: 'string' },
      token: { type: 'string' },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
    },
  });
  if (positionals.length === 0) {
    io.err('ingest needs at least one FILE, glob or "-" (standard input).');
    return 2;
  }
  if (values.upload) {
    return uploadFiles(
      positionals,
      {
        apiUrl: values['api-url'] ?? io.env.LIGHTRAG_API_URL ?? 'http://127.0.0.1:3000',
        token: values.token ?? io.env.LIGHTRAG_API_TOKEN,
        workspace: values.workspace,
        wait: values.wait,
        timeoutSeconds: Number(values.timeout),
        json: values.json,
      },
      io,
    );
  }
  const target = await cliTarget(io);
  if (target.kind === 'stack') {
    return ingestThroughApi(positionals, target.stack.apiUrl, values, io);
  }
  const run = openPipeline({ ...io, env: target.env }, { workspace: values.workspace });
  const { documents, errors } = await readDocuments(
    positionals,
    io.readStdin ?? readAllStdin,
    parseLimits(run.config),
  );
  for (const error of errors) io.err(`skipped ${error}`);
  const results: Array<IngestResult | { filePath?: string; status: 'failed'; error: string }> = [];
  try {
    const queriesBefore = run.db.stats().queries;
    const started = performance.now();
    for (const doc of documents) {
      try {
        const result = await run.pipeline.ingest({ ...doc, workspace: values.workspace });
        results.push(result);
        if (!values.json) {
          const note = result.duplicateKind
            ? ` (a duplicate of ${result.docId} by ${result.duplicateKind === 'filename' ? 'file name, with other content' : 'content, under another name'}: recorded, not processed)`
            : result.duplicate
              ? ' (already processed)'
              : result.error
                ? ` — ${result.error}`
                : '';
          const status = result.duplicateKind ? 'duplicate' : result.status;
          io.out(
            `${result.docId}  ${status}  ${result.chunks} chunks  ${doc.filePath ?? ''}${note}`,
          );
        }
      } catch (err) {
        results.push({
          filePath: doc.filePath,
          status: 'failed',
          error: String(errorFields(err).error),
        });
        if (!values.json) io.out(`-  failed  ${doc.filePath ?? ''} — ${(err as Error).message}`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const chunks = results.reduce(
      (sum, r) => sum + ('chunks' in r && !r.duplicate ? r.chunks : 0),
      0,
    );
    const failed = results.filter((r) => r.status === 'failed').length + errors.length;
    const ingested = results.filter((r): r is IngestResult => 'docId' in r);
    const summary = {
      // Every input counts: a file that could not be read is a failed document.
      documents: documents.length + errors.length,
      processed: ingested.filter((r) => r.status === 'processed' && !r.duplicate).length,
      alreadyProcessed: ingested.filter((r) => r.duplicate && !r.duplicateKind).length,
      duplicates: ingested.filter((r) => r.duplicateKind !== undefined).length,
      failed,
      chunks,
      seconds: Number(seconds.toFixed(2)),
      chunksPerSecond: seconds > 0 ? Math.round(chunks / seconds) : 0,
      roundTripsPerDocument: documents.length
        ? Number(((run.db.stats().queries - queriesBefore) / documents.length).toFixed(1))
        : 0,
    };
    if (values.json) io.out(JSON.stringify({ results, summary }, null, 2));
    else {
      const parts = [
        `${summary.processed} processed`,
        ...(summary.alreadyProcessed ? [`${summary.alreadyProcessed} already processed`] : []),
        ...(summary.duplicates ? [`${summary.duplicates} duplicates recorded`] : []),
        `${failed} failed`,
      ];
      const speed =
        chunks > 0
          ? `, ${chunks} chunks in ${summary.seconds} s (${summary.chunksPerSecond} chunks/s, ${summary.roundTripsPerDocument} database round trips per document)`
          : '';
      io.out(`${parts.join(', ')} of ${summary.documents} documents${speed}`);
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await run.close();
  }
}

interface ApiDocument {
  docId?: string;
  status: string;
  duplicateKind?: string;
  error?: string;
}

/**
 * `ingest` while the local stack runs: the documents go through its `POST /documents` and queue,
 * and each is followed with `GET /documents/{id}` to its end, so the stack has them all.
 */
async function ingestThroughApi(
  inputs: readonly string[],
  apiUrl: string,
  values: { workspace?: string; json?: boolean; timeout?: string },
  io: CliIo,
): Promise<number> {
  const api = apiClient(apiUrl, { workspace: values.workspace });
  const { documents, errors } = await readDocuments(inputs, io.readStdin ?? readAllStdin);
  for (const error of errors) io.err(`skipped ${error}`);
  if (!values.json) io.err(`Ingesting through the local stack at ${apiUrl}.`);
  const submitted: Array<ApiDocument & { filePath?: string }> = [];
  for (let i = 0; i < documents.length; i += MAX_DOCUMENTS_PER_REQUEST) {
    const batch = documents.slice(i, i + MAX_DOCUMENTS_PER_REQUEST);
    const res = await api<{ documents: ApiDocument[] }>('POST', '/documents', { documents: batch });
    for (const [k, d] of res.documents.entries()) {
      submitted.push({ ...d, filePath: batch[k]?.filePath });
    }
  }
  const deadline = Date.now() + Number(values.timeout ?? 600) * 1000;
  const final = new Map<string, { status: string; chunks: number; error?: string }>();
  for (const d of submitted.filter((x) => x.status === 'queued' && x.docId)) {
    for (;;) {
      const doc = await api<{ status: string; chunks_count?: number; error_msg?: string }>(
        'GET',
        `/documents/${encodeURIComponent(d.docId!)}`,
      );
      if (doc.status === 'processed' || doc.status === 'failed' || Date.now() > deadline) {
        final.set(d.docId!, {
          status:
            doc.status === 'processed' || doc.status === 'failed'
              ? doc.status
              : `${doc.status} (timed out waiting)`,
          chunks: doc.chunks_count ?? 0,
          ...(doc.error_msg ? { error: doc.error_msg } : {}),
        });
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const rows = submitted.map((d) => ({ ...d, ...(d.docId ? final.get(d.docId) : undefined) }));
  const count = (pred: (r: (typeof rows)[number]) => boolean) => rows.filter(pred).length;
  const failed = count((r) => r.status !== 'processed' && r.status !== 'duplicate') + errors.length;
  const summary = {
    documents: documents.length + errors.length,
    processed: count((r) => r.status === 'processed'),
    duplicates: count((r) => r.status === 'duplicate'),
    failed,
  };
  if (values.json) io.out(JSON.stringify({ results: rows, summary }, null, 2));
  else {
    for (const r of rows) {
      const note = r.duplicateKind
        ? ` (a duplicate by ${r.duplicateKind}: recorded, not processed)`
        : r.error
          ? ` — ${r.error}`
          : '';
      io.out(
        `${r.docId ?? '-'}  ${r.status}  ${'chunks' in r ? r.chunks : 0} chunks  ${r.filePath ?? ''}${note}`,
      );
    }
    const parts = [
      `${summary.processed} processed`,
      ...(summary.duplicates ? [`${summary.duplicates} duplicates recorded`] : []),
      `${failed} failed`,
    ];
    io.out(`${parts.join(', ')} of ${summary.documents} documents (local stack)`);
  }
  return failed > 0 ? 1 : 0;
}
