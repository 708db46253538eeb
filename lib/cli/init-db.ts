import { parseArgs } from 'node:util';
import { describeConfig, loadConfig } from '../config.ts';
import { Database } from '../db/database.ts';
import { createLogger } from '../logger.ts';
import { applySchema } from '../storage/schema.ts';
import type { CliIo } from './context.ts';
import { cliTarget, refuseWhileStackRuns } from './target.ts';

/** DDL on a large existing table (an HNSW build) may take minutes: no short timeouts here. */
const INIT_DB_TIMEOUT_MS = 30 * 60 * 1000;

/** `init-db [--json]`: create or verify the schema, then exit. */
export async function initDbCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { json: { type: 'boolean', default: false } },
  });
  const target = await cliTarget(io);
  if (refuseWhileStackRuns(target, 'init-db', io)) return 2;
  const config = loadConfig((target as Extract<typeof target, { kind: 'database' }>).env);
  const db = new Database(
    { ...config.database, queryTimeoutMs: INIT_DB_TIMEOUT_MS, statementTimeoutMs: 0 },
    createLogger(config.logLevel),
  );
  try {
    const result = await applySchema(db, config.vector);
    const summary = {
      status: result.applied ? 'created' : 'verified',
      schemaKey: result.key,
      vectorTables: result.vectorTables,
      config: describeConfig(config),
    };
    if (values.json) {
      io.out(JSON.stringify(summary, null, 2));
      return 0;
    }
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
    const dir = config.database.pgliteDataDir;
    if (config.database.driver === 'pglite' && (!dir || dir === 'memory://')) {
      io.out('  note: PGlite is in memory (PGLITE_DATA_DIR unset); nothing was persisted.');
    }
    return 0;
  } finally {
    await db.end();
  }
}
