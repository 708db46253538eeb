/**
 * The `lightrag-serverless` command line. Each command runs the same library code the Lambda
 * functions run, in-process. Exit codes: 0 success, 1 failure, 2 usage or configuration error.
 */
import { parseArgs } from 'node:util';
import { type Config, describeConfig, loadConfig } from '../config.ts';
import { Database } from '../db/database.ts';
import { startWsBridge } from '../db/ws-bridge.ts';
import { ConfigError, LightRagError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { applySchema, planSchema } from '../storage/schema.ts';

export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = `Usage: lightrag-serverless <command> [options]

Commands:
  init-db [--json]         Create or verify the schema on the configured database, then exit.
  bridge [--port N]        Run a WebSocket-to-TCP bridge on loopback so the Neon driver can reach
                           a local PostgreSQL (set NEON_WS_PROXY=127.0.0.1:N).
  help                     Show this text.

Configuration comes from environment variables; see the README for the full list.`;

/** Runs one command; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'init-db':
        return await initDb(rest, io);
      case 'bridge':
        return await bridge(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`);
        return 2;
    }
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

/** DDL on a large existing table (an HNSW build) may take minutes: no short timeouts here. */
const INIT_DB_TIMEOUT_MS = 30 * 60 * 1000;

async function initDb(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { json: { type: 'boolean', default: false } },
  });
  const config: Config = loadConfig(io.env);
  const db = new Database(
    { ...config.database, queryTimeoutMs: INIT_DB_TIMEOUT_MS, statementTimeoutMs: 0 },
    createLogger(config.logLevel),
  );
  try {
    const plan = planSchema(config.vector);
    const result = await applySchema(db, plan, config.vector);
    const summary = {
      status: result.applied ? 'created' : 'verified',
      schemaKey: result.key,
      vectorTables: result.vectorTables,
      config: describeConfig(config),
    };
    if (values.json) {
      io.out(JSON.stringify(summary, null, 2));
    } else {
      io.out(
        result.applied
          ? 'Schema created (or completed) on the configured database.'
          : 'Schema already in place; nothing to do.',
      );
      io.out(
        `  database: ${(summary.config.database as { target: string }).target} (${config.database.driver} driver)`,
      );
      io.out(`  vector tables: ${Object.values(result.vectorTables).join(', ')}`);
      io.out(`  vectors: ${config.vector.dimension} dimensions, index ${config.vector.indexType}`);
      io.out(`  schema key: ${result.key}`);
      if (config.database.driver === 'pglite' && !config.database.pgliteDataDir) {
        io.out('  note: PGlite is in memory (PGLITE_DATA_DIR unset); nothing was persisted.');
      }
    }
    return 0;
  } finally {
    await db.end();
  }
}

async function bridge(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { port: { type: 'string', default: '8080' } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err(`--port must be a port number, got ${JSON.stringify(values.port)}.`);
    return 2;
  }
  const running = await startWsBridge({ port });
  io.out(
    `WebSocket-to-TCP bridge on ${running.address}; set NEON_WS_PROXY=${running.address}. Ctrl-C stops it.`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  return 0;
}
