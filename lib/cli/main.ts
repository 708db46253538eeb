/**
 * The `lightrag-serverless` command line. Each command runs the same library code the Lambda
 * functions run, in-process. Exit codes: 0 success, 1 failure, 2 usage or configuration error.
 */
import { ConfigError, LightRagError } from '../errors.ts';
import { bridgeCommand } from './bridge.ts';
import type { CliIo } from './context.ts';
import { doctorCommand } from './doctor.ts';
import { enqueueCommand } from './enqueue.ts';
import { hashPasswordCommand } from './hash-password.ts';
import { ingestCommand } from './ingest.ts';
import { initDbCommand } from './init-db.ts';
import { demoCommand, startCommand } from './local.ts';
import { queryCommand } from './query.ts';
import { upkeepCommand } from './upkeep.ts';
import { usageCommand } from './usage.ts';
import { webuiCommand } from './webui.ts';

export type { CliIo } from './context.ts';

const USAGE = `Usage: lightrag-serverless <command> [options]

Commands:
  ingest FILE... [--workspace W] [--json]
                           Ingest .txt/.md/.pdf/.docx/.pptx/.xlsx/.html/.json/.jsonl files (or "-"
                           for stdin) in-process and print each document's id and final status.
  ingest FILE... --upload [--api-url URL] [--token JWT] [--wait] [--timeout S]
                           Send files through the uploads bucket of a running API (npm start's by
                           default, or LIGHTRAG_API_URL); --wait follows them to processed/failed.
  enqueue FILE|GLOB|- [--workspace W] [--queue-url URL] [--endpoint URL] [--wait] [--timeout S] [--json]
                           Send documents to the ingest queue (large ones stored first, sent by id);
                           --wait follows them until processed or failed.
  query "TEXT" [--workspace W] [--top-k N] [--chunk-top-k N] [--mode mix|local|global|hybrid|naive|bypass] [--context-only] [--json] [--stream]
                           Retrieve context (and an answer, with an LLM configured), as POST /query;
                           --stream prints the answer as it is written (POST /query/stream).
  init-db [--json]         Create or verify the schema on the configured database, then exit.
  usage [--workspace W] [--since 7d|YYYY-MM-DD] [--json]
                           LLM and embedding calls, cache hits and tokens by day and purpose.
  upkeep [--workspace W] [--json]
                           Bring due graph elements (summaries and vectors behind after contended
                           merges) up to date now; ingest does it after each document.
  doctor [--json]          Check configuration, database, pgvector, schema, embedding and LLM round
                           trips, queue and DLQ; each finding with its fix. Exit 1 on any problem.
  start [--port 3000] [--sqs-port 9324] [--webui DIR]
                           The whole backend locally: embedded PGlite (.data/pglite), local SQS
                           queues and an uploads bucket, the ingest, extract and parse functions and
                           the HTTP API, /docs, and LightRAG's WebUI from DIR at /webui/. Ctrl-C
                           stops it.
  demo                     Start an in-memory stack, ingest samples/ through the API, ask a question.
  bridge [--port N]        Run a WebSocket-to-TCP bridge on loopback so the Neon driver can reach
                           a local PostgreSQL (set NEON_WS_PROXY=127.0.0.1:N).
  hash-password [USER]     Read a password on stdin and print its hash (USER:hash for AUTH_ACCOUNTS,
                           LightRAG's login; docs/http-api.md "Login").
  webui deploy DIR --bucket NAME [--region R]
                           Upload a LightRAG WebUI build to the CloudFront bucket of a deploy with
                           --param="webui=cloudfront" (docs/deployment.md).
  help                     Show this text.

Configuration comes from environment variables; docs/configuration.md lists them all.`;

const COMMANDS: Record<string, (args: readonly string[], io: CliIo) => Promise<number>> = {
  ingest: ingestCommand,
  query: queryCommand,
  enqueue: enqueueCommand,
  'init-db': initDbCommand,
  doctor: doctorCommand,
  usage: usageCommand,
  upkeep: upkeepCommand,
  start: startCommand,
  demo: demoCommand,
  bridge: bridgeCommand,
  'hash-password': hashPasswordCommand,
  webui: webuiCommand,
};

/** The usage lines of one command (its entries in {@link USAGE}), then where settings are. */
function commandUsage(command: string): string {
  const lines = USAGE.split('\n');
  const picked: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (/^ {2}\S/.test(line)) inside = line.trimStart().split(' ')[0] === command;
    if (inside && line.trim() !== '') picked.push(line);
  }
  return `Usage: lightrag-serverless ${command} [options]\n\n${picked.join('\n')}\n\nConfiguration comes from environment variables; docs/configuration.md lists them all.`;
}

/** Runs one command; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (run && (rest.includes('--help') || rest.includes('-h'))) {
    io.out(commandUsage(command));
    return 0;
  }
  if (!run) {
    io.err(`Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 2;
    }
    if (err instanceof LightRagError) {
      io.err(`error [${err.code}]: ${err.message}`);
      return 1;
    }
    if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
