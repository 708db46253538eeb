/**
 * The one place configuration is read. Every variable, its default and its meaning are listed
 * in docs/configuration.md; `loadConfig` validates them all at once and throws a
 * single {@link ConfigError} naming each problem. The sections live in lib/settings/.
 */
import { type Env, EnvReader, type VariableRead } from './env.ts';
import {
  type ApiConfig,
  type LlmConfig,
  type QueryConfig,
  readApi,
  readLlm,
  readQuery,
} from './settings/api.ts';
import {
  type GraphConfig,
  type GraphQueryConfig,
  readGraph,
  readGraphQuery,
} from './settings/graph.ts';
import {
  type ChunkingConfig,
  type EmbeddingConfig,
  type IngestConfig,
  type QueueConfig,
  readChunking,
  readEmbedding,
  readIngest,
  readQueue,
} from './settings/ingestion.ts';
import {
  type DatabaseConfig,
  readDatabase,
  readVector,
  redactConnectionString,
  type VectorConfig,
} from './settings/storage.ts';
import { isValidWorkspace } from './workspace.ts';

export * from './settings/api.ts';
export * from './settings/graph.ts';
export * from './settings/ingestion.ts';
export * from './settings/uploads.ts';

import { readUploads, type UploadConfig } from './settings/uploads.ts';

export * from './settings/storage.ts';

/** `LOG_LEVEL` values. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Default `COSINE_THRESHOLD` with the lexical `hash` embedder. */
export const HASH_COSINE_THRESHOLD = 0.05;

/** The whole configuration, read and validated once from the environment (`loadConfig`). */
export interface Config {
  workspace: string;
  database: DatabaseConfig;
  vector: VectorConfig;
  embedding: EmbeddingConfig;
  chunking: ChunkingConfig;
  ingest: IngestConfig;
  queue: QueueConfig;
  llm: LlmConfig;
  query: QueryConfig;
  graph: GraphConfig;
  graphQuery: GraphQueryConfig;
  api: ApiConfig;
  uploads: UploadConfig;
  logLevel: LogLevel;
}

/**
 * Reads and validates the whole configuration from `env`.
 *
 * Without `DATABASE_URL` or `POSTGRES_HOST` the driver defaults to embedded PGlite, so a fresh
 * checkout runs with nothing installed; inside Lambda that fallback is refused instead.
 *
 * @example
 * ```ts
 * const config = loadConfig({ DATABASE_URL: 'postgres://u:p@ep-x-pooler.neon.tech/db', EMBEDDING_DIM: '1536' });
 * config.database.driver; // 'neon'
 * ```
 * @throws {ConfigError} listing every missing or invalid variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const reader = new EnvReader(env);
  const config = readConfig(reader);
  reader.throwIfProblems();
  return config;
}

/** Environments that take the branches an empty one skips (connection parts, OpenAI keys). */
const BRANCHES: Env[] = [
  {
    POSTGRES_HOST: 'h',
    POSTGRES_USER: 'u',
    POSTGRES_DATABASE: 'd',
    LLM_PROVIDER: 'openai',
    LLM_MODEL: 'm',
    EMBEDDING_PROVIDER: 'openai',
    LLM_BASE_URL: 'http://models.example/v1',
  },
];

/**
 * Every variable the configuration reads, with kind, default (as with nothing else set: some
 * defaults follow other variables) and allowed values — what docs/configuration.md's generated
 * reference lists (`npm run docs:config`).
 */
export function describeVariables(): VariableRead[] {
  const all = new Map<string, VariableRead>();
  for (const env of [{}, ...BRANCHES]) {
    const reader = new EnvReader(env);
    readConfig(reader);
    for (const [name, read] of reader.reads) if (!all.has(name)) all.set(name, read);
  }
  return [...all.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function readConfig(reader: EnvReader): Config {
  const database = readDatabase(reader);
  const vector = readVector(reader);
  const givenWorkspace = reader.string('POSTGRES_WORKSPACE', { default: 'default' });
  if (!isValidWorkspace(givenWorkspace)) {
    reader.problem(
      'POSTGRES_WORKSPACE',
      'use 1-255 characters without "/", "\\" or control characters, other than "." and ".." (LightRAG\'s rule).',
    );
  }
  // Reported once above; what follows (the allow-list default) reads a valid one.
  const workspace = isValidWorkspace(givenWorkspace) ? givenWorkspace : 'default';
  const llm = readLlm(reader);
  const config: Config = {
    workspace,
    database,
    vector,
    embedding: readEmbedding(reader),
    chunking: readChunking(reader),
    ingest: readIngest(reader),
    queue: readQueue(reader),
    llm,
    query: readQuery(reader),
    graph: readGraph(reader, llm.provider !== 'none'),
    graphQuery: readGraphQuery(reader),
    api: readApi(reader, workspace),
    uploads: readUploads(reader),
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' }),
  };
  // Lexical hash vectors score lower than semantic ones; LightRAG's 0.2 would hide good matches.
  if (config.embedding.provider === 'hash' && !reader.has('COSINE_THRESHOLD')) {
    config.vector.cosineThreshold = HASH_COSINE_THRESHOLD;
  }
  return config;
}

let cached: Config | undefined;

/** The process-wide configuration from `process.env`, read and validated once per container. */
export function getConfig(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}

/**
 * Forgets the configuration read so far: the next {@link getConfig} reads `process.env` again
 * (after the database secret changed, lib/aws/database-secret.ts).
 */
export function resetConfig(): void {
  cached = undefined;
}

/** A summary safe to log or return from a health check: no passwords, keys or connection string. */
export function describeConfig(config: Config): Record<string, unknown> {
  const { connectionString, ...database } = config.database;
  const { apiKey, ...embedding } = config.embedding;
  const { apiKey: llmKey, ...llm } = config.llm;
  return {
    workspace: config.workspace,
    database: {
      ...database,
      target: connectionString ? redactConnectionString(connectionString) : 'embedded',
    },
    vector: config.vector,
    embedding: { ...embedding, apiKey: apiKey ? '***' : undefined },
    chunking: config.chunking,
    ingest: config.ingest,
    queue: config.queue,
    llm: { ...llm, apiKey: llmKey ? '***' : undefined },
    query: config.query,
    graph: config.graph,
    graphQuery: config.graphQuery,
    api: config.api,
    uploads: config.uploads,
    logLevel: config.logLevel,
  };
}
