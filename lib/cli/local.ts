import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { findRunningStack, removeStackState, writeStackState } from '../local/state.ts';
import type { CliIo } from './context.ts';
import { readDocuments } from './documents.ts';

function describe(stack: LocalStack): string {
  return [
    `HTTP API     ${stack.apiUrl}   (POST /query, GET /graph, /documents …, GET /health)`,
    `SQS          ${stack.sqsEndpoint}   ingest queue ${stack.queueUrl}`,
    `             dead-letter queue ${stack.dlqUrl}`,
    `             extraction queue ${stack.extractionQueueUrl}, uploads queue ${stack.uploadsQueueUrl}`,
    `S3           ${stack.sqsEndpoint}   uploads bucket ${stack.uploadBucket}`,
    `Database     ${stack.database}`,
  ].join('\n');
}

/** `start [--port N] [--sqs-port N]`: the local stack until Ctrl-C. */
export async function startCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      port: { type: 'string', default: '3000' },
      'sqs-port': { type: 'string', default: '9324' },
      webui: { type: 'string' },
    },
  });
  // The WebUI build to serve at /webui/ (WEBUI_DIR), read with the rest of the configuration.
  if (values.webui) process.env.WEBUI_DIR = values.webui;
  const running = await findRunningStack();
  if (running) {
    io.err(
      `A local stack is already running from this folder (pid ${running.pid}, API at ${running.apiUrl}). ` +
        'Use it (the CLI works on it), or stop it first with Ctrl-C where it runs.',
    );
    return 2;
  }
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      port: Number(values.port),
      sqsPort: Number(values['sqs-port']),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code !== 'EADDRINUSE') throw err;
    io.err(
      `Port ${e.port ?? values.port} is in use by another program: pass --port N (API) or --sqs-port N (queues and bucket).`,
    );
    return 2;
  }
  // Other processes of this folder (the CLI) find the stack here and work on its data.
  writeStackState(stack);
  io.out(`lightrag-serverless is running locally.\n${describe(stack)}\n`);
  io.out(
    `Try:  curl -s -X POST ${stack.apiUrl}/query -H 'content-type: application/json' -d '{"query":"What is a dead-letter queue?"}'`,
  );
  io.out(
    '      npm run cli -- ingest samples/*.md      (the CLI works on this stack while it runs)',
  );
  io.out('      npm run cli -- query "What is a dead-letter queue?"');
  io.out('      npm run cli -- ingest report.pdf --upload --wait');
  io.out('Ctrl-C stops everything.');
  try {
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    io.out('Stopping…');
    await stack.stop();
  } finally {
    removeStackState();
  }
  return 0;
}

const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));

/**
 * `demo`: a fresh in-memory stack; the sample corpus goes in through POST /documents, the demo
 * waits until the ingest function has processed it, then asks a question through POST /query.
 */
export async function demoCommand(_args: readonly string[], io: CliIo): Promise<number> {
  process.env.LOG_LEVEL ??= 'warn'; // The demo's own lines are the story; keep the JSON logs out.
  const stack = await startLocalStack({ dataDir: null, retryDelaySeconds: 1 });
  try {
    io.out(`Local stack up (in-memory database).\n${describe(stack)}\n`);
    const files = (await readdir(SAMPLES)).map((f) => join(SAMPLES, f)).sort();
    const { documents } = await readDocuments(files, async () => '');
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: the demo reads the API's JSON as documented in the README.
      return { status: res.status, json: (await res.json()) as any };
    };
    const started = Date.now();
    const submitted = await api('POST', '/documents', {
      documents: documents.map((d) => ({
        ...d,
        filePath: d.filePath?.replace(SAMPLES, 'samples/'),
      })),
    });
    io.out(
      `POST /documents → ${submitted.status}: ${submitted.json.documents.length} documents queued (track ${submitted.json.trackId})`,
    );
    const ids: string[] = submitted.json.documents.map((d: { docId: string }) => d.docId);
    // Each submitted document followed to its own end, as a user would check them.
    for (;;) {
      const statuses: string[] = await Promise.all(
        ids.map(async (id) => (await api('GET', `/documents/${id}`)).json.status),
      );
      const count = (st: string) => statuses.filter((x) => x === st).length;
      if (count('processed') + count('failed') === ids.length) {
        io.out(
          `Ingested in ${((Date.now() - started) / 1000).toFixed(1)} s: ${count('processed')} processed, ${count('failed')} failed`,
        );
        break;
      }
      if (Date.now() - started > 120_000) {
        io.err('Timed out waiting for the ingest function.');
        return 1;
      }
      await sleep(250);
    }
    const question = 'What happens to a message that keeps failing?';
    const answer = await api('POST', '/query/detailed', { query: question, chunk_top_k: 3 });
    io.out(`\nPOST /query/detailed "${question}" → ${answer.status}`);
    for (const chunk of answer.json.context.chunks) {
      io.out(
        `  [${chunk.reference_id}] ${chunk.score.toFixed(3)}  ${chunk.file_path}  ${chunk.content.replace(/\s+/g, ' ').slice(0, 90)}…`,
      );
    }
    io.out(
      answer.json.answer ??
        '\n(No LLM configured, so the context is the result; set LLM_PROVIDER and LLM_MODEL for answers.)',
    );
    const health = await api('GET', '/health');
    io.out(`GET /health → ${health.status} ${health.json.status}`);
    return answer.status === 200 ? 0 : 1;
  } finally {
    await stack.stop();
  }
}
