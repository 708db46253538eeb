/** What every CLI command receives, so commands are testable without a real terminal. */
import { type Config, loadConfig } from '../config.ts';
import { Database } from '../db/database.ts';
import { createEmbedder } from '../embedding/index.ts';
import { createLlm } from '../llm/index.ts';
import { createLogger } from '../logger.ts';
import { IngestPipeline } from '../pipeline/ingest.ts';

export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  out: (line: string) => void;
  /** Text without a line end (streamed answers); falls back to `out`. */
  write?: (text: string) => void;
  err: (line: string) => void;
  /** Whether stderr is a terminal (progress bars only there). */
  isTty?: boolean;
  readStdin?: () => Promise<string>;
}

/** Configuration, a database and a pipeline for one CLI run; `close()` ends the pool. */
export function openPipeline(io: CliIo, overrides: { workspace?: string } = {}) {
  const config: Config = loadConfig(
    overrides.workspace ? { ...io.env, POSTGRES_WORKSPACE: overrides.workspace } : io.env,
  );
  const logger = createLogger(config.logLevel);
  const db = new Database(config.database, logger);
  const embedder = createEmbedder(config, logger);
  const llm = createLlm(config.llm, logger);
  // In-process ingest finishes each document here: no fan-out to an extraction queue that
  // nothing in this process consumes.
  const inProcess = { ...config, queue: { ...config.queue, extractionQueueUrl: undefined } };
  const pipeline = new IngestPipeline(db, inProcess, embedder, logger, llm);
  return { config, db, embedder, llm, pipeline, logger, close: () => db.end() };
}

/** `[#####.....] 5/10` on one terminal line. */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

export async function readAllStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}
