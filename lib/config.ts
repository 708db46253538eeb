/**
 * The one place configuration is read. Every variable, its default and its meaning are listed
 * in the README's configuration table; `loadConfig` validates them all at once and throws a
 * single {@link ConfigError} naming each problem.
 */
import { type Env, EnvReader } from './env.ts';
import { WORKSPACE_PATTERN } from './storage/workspace.ts';

export const DATABASE_DRIVERS = ['neon', 'pg', 'pglite'] as const;
export type DatabaseDriver = (typeof DATABASE_DRIVERS)[number];

export const VECTOR_INDEX_TYPES = ['HNSW', 'HNSW_HALFVEC', 'IVFFLAT', 'NONE'] as const;
export type VectorIndexType = (typeof VECTOR_INDEX_TYPES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** pgvector's limits: `vector` indexes stop at 2,000 dimensions, `halfvec` ones at 4,000. */
export const MAX_VECTOR_INDEX_DIM = 2000;
export const MAX_HALFVEC_INDEX_DIM = 4000;
export const MAX_VECTOR_DIM = 16000;

export interface DatabaseConfig {
  driver: DatabaseDriver;
  /** Full connection string (neon and pg drivers). Secret: never log it. */
  connectionString?: string;
  /** PGlite data folder; undefined keeps the database in memory. */
  pgliteDataDir?: string;
  /** `host:port` of a WebSocket-to-TCP bridge for the Neon driver against a non-Neon Postgres. */
  neonWsProxy?: string;
  maxConnections: number;
  minConnections: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  /** Server-side limit per statement inside transactions (`SET LOCAL`); 0 disables. */
  statementTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface VectorConfig {
  dimension: number;
  /** Embedding model name; when set, vector tables get the `_{model}_{dim}d` suffix. */
  model?: string;
  /** The index actually built: `HNSW` above 2,000 dimensions becomes `HNSW_HALFVEC`. */
  indexType: VectorIndexType;
  hnswM: number;
  hnswEfConstruction: number;
  /** `hnsw.ef_search` per query; undefined keeps the server's default (40). */
  hnswEfSearch?: number;
  ivfflatLists: number;
  /** Minimum cosine similarity a match must reach. */
  cosineThreshold: number;
}

export const EMBEDDING_PROVIDERS = ['openai', 'bedrock', 'hash'] as const;
export type EmbeddingProvider = (typeof EMBEDDING_PROVIDERS)[number];

export interface EmbeddingConfig {
  provider: EmbeddingProvider;
  /** OpenAI-compatible base URL, up to and including `/v1`. */
  baseUrl: string;
  /** Secret: never log it. */
  apiKey?: string;
  /** Azure OpenAI `api-version`; when set, the key is sent as `api-key`. */
  apiVersion?: string;
  /** Send `dimensions` to the OpenAI API (text-embedding-3 models can shorten vectors). */
  sendDimensions: boolean;
  /** Bedrock region and an optional endpoint override (VPC endpoint, tests). */
  bedrockRegion?: string;
  bedrockEndpoint?: string;
  batchSize: number;
  concurrency: number;
  maxRetries: number;
  timeoutMs: number;
}

export const TOKEN_ENCODINGS = ['o200k_base', 'cl100k_base'] as const;
export type TokenEncoding = (typeof TOKEN_ENCODINGS)[number];

export interface ChunkingConfig {
  chunkTokenSize: number;
  overlapTokenSize: number;
  /** Split on this string first (LightRAG's `split_by_character`). */
  splitByCharacter?: string;
  /** Only split on the character; a piece over the token size is an error. */
  splitByCharacterOnly: boolean;
  encoding: TokenEncoding;
}

export interface IngestConfig {
  /** Largest document accepted, in UTF-8 bytes. */
  maxDocumentBytes: number;
  /** Records of one SQS batch processed at the same time. */
  concurrency: number;
  /** The queue's redrive `maxReceiveCount`: on the last receive a failing document is marked failed. */
  maxReceiveCount: number;
}

export interface QueueConfig {
  queueUrl?: string;
  /** SQS endpoint override (a local emulator). */
  endpoint?: string;
  region: string;
  /** The queue's `MaximumMessageSize`: 1 MiB on queues created by infra/, 256 KiB by default on AWS. */
  maxMessageBytes: number;
}

export interface Config {
  workspace: string;
  database: DatabaseConfig;
  vector: VectorConfig;
  embedding: EmbeddingConfig;
  chunking: ChunkingConfig;
  ingest: IngestConfig;
  queue: QueueConfig;
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
  const database = readDatabase(reader);
  const vector = readVector(reader);
  const workspace = reader.string('POSTGRES_WORKSPACE', {
    default: 'default',
    pattern: WORKSPACE_PATTERN,
    hint: 'use 1-255 characters from A-Z, a-z, 0-9, "_" and "-"',
  });
  const logLevel = reader.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' });
  const embedding = readEmbedding(reader);
  const chunking = readChunking(reader);
  const ingest: IngestConfig = {
    maxDocumentBytes: reader.integer('MAX_DOCUMENT_BYTES', {
      default: 10 * 1024 * 1024,
      min: 1,
      max: 200 * 1024 * 1024,
    }),
    concurrency: reader.integer('INGEST_CONCURRENCY', { default: 2, min: 1, max: 50 }),
    maxReceiveCount: reader.integer('INGEST_MAX_RECEIVE_COUNT', { default: 3, min: 1, max: 1000 }),
  };
  const queue: QueueConfig = {
    queueUrl: reader.string('INGEST_QUEUE_URL', {
      pattern: /^https?:\/\/\S+$/,
      hint: 'expected the queue URL, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME',
    }),
    endpoint: reader.string('SQS_ENDPOINT', {
      pattern: /^https?:\/\/\S+$/,
      hint: 'expected a URL such as http://127.0.0.1:4566',
    }),
    region: reader.string('AWS_REGION', {
      default: reader.raw('AWS_DEFAULT_REGION') ?? 'us-east-1',
    }),
    maxMessageBytes: reader.integer('SQS_MAX_MESSAGE_BYTES', {
      default: 1024 * 1024,
      min: 1024,
      max: 1024 * 1024,
    }),
  };
  reader.throwIfProblems();
  return { workspace, database, vector, embedding, chunking, ingest, queue, logLevel };
}

let cached: Config | undefined;

/** The process-wide configuration from `process.env`, read and validated once per container. */
export function getConfig(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}

/** A summary safe to log or return from a health check: no passwords, no connection string. */
export function describeConfig(config: Config): Record<string, unknown> {
  const { connectionString, ...database } = config.database;
  return {
    workspace: config.workspace,
    database: {
      ...database,
      target: connectionString ? redactConnectionString(connectionString) : 'embedded',
    },
    vector: config.vector,
    logLevel: config.logLevel,
  };
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    url.search = '';
    return url.toString();
  } catch {
    return '(unparseable connection string)';
  }
}

function readDatabase(reader: EnvReader): DatabaseConfig {
  const connectionString = readConnectionString(reader);
  const inLambda = reader.has('AWS_LAMBDA_FUNCTION_NAME');
  const explicitDriver = reader.has('DATABASE_DRIVER');
  const driver = reader.oneOf('DATABASE_DRIVER', DATABASE_DRIVERS, {
    default: connectionString || inLambda ? 'neon' : 'pglite',
  });

  if (driver === 'pglite') {
    if (connectionString && explicitDriver) {
      reader.problem(
        'DATABASE_DRIVER',
        'pglite is embedded and takes no DATABASE_URL/POSTGRES_HOST; unset those or choose neon or pg.',
      );
    }
    if (inLambda) {
      reader.problem('DATABASE_DRIVER', 'pglite cannot run inside Lambda; use neon or pg.');
    }
  } else if (
    !connectionString &&
    !reader.problems.some((p) => p.variable.startsWith('POSTGRES_'))
  ) {
    reader.problem(
      'DATABASE_URL',
      'No database connection string was provided. Perhaps an environment variable has not been set? ' +
        'Set DATABASE_URL (for Neon, the -pooler endpoint) or POSTGRES_HOST/USER/PASSWORD/DATABASE.',
    );
  }

  const maxConnections = reader.integer('POSTGRES_MAX_CONNECTIONS', {
    default: 2,
    min: 1,
    max: 100,
  });
  const minConnections = reader.integer('POSTGRES_MIN_CONNECTIONS', {
    default: 0,
    min: 0,
    max: 100,
  });
  if (minConnections > maxConnections) {
    reader.problem(
      'POSTGRES_MIN_CONNECTIONS',
      `${minConnections} exceeds POSTGRES_MAX_CONNECTIONS (${maxConnections}).`,
    );
  }
  const neonWsProxy = reader.string('NEON_WS_PROXY', {
    pattern: /^[A-Za-z0-9.[\]:-]+:\d{1,5}$/,
    hint: 'expected host:port of a WebSocket-to-TCP bridge, e.g. 127.0.0.1:8080',
  });
  if (neonWsProxy && driver !== 'neon') {
    reader.problem(
      'NEON_WS_PROXY',
      `only the neon driver uses it, but DATABASE_DRIVER is ${driver}.`,
    );
  }
  const pgliteDataDir = driver === 'pglite' ? reader.raw('PGLITE_DATA_DIR') : undefined;
  return {
    driver,
    connectionString: driver === 'pglite' ? undefined : connectionString,
    pgliteDataDir,
    neonWsProxy,
    maxConnections,
    minConnections,
    connectTimeoutMs: reader.integer('POSTGRES_CONNECT_TIMEOUT_MS', {
      default: 10_000,
      min: 100,
      max: 120_000,
    }),
    queryTimeoutMs: reader.integer('POSTGRES_QUERY_TIMEOUT_MS', {
      default: 30_000,
      min: 100,
      max: 900_000,
    }),
    statementTimeoutMs: reader.integer('POSTGRES_STATEMENT_TIMEOUT_MS', {
      default: 25_000,
      min: 0,
      max: 900_000,
    }),
    idleTimeoutMs: reader.integer('POSTGRES_IDLE_TIMEOUT_MS', {
      default: 60_000,
      min: 0,
      max: 3_600_000,
    }),
  };
}

function readConnectionString(reader: EnvReader): string | undefined {
  const url = reader.raw('DATABASE_URL');
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      // Never echo the value: it normally carries a password.
    }
    if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.hostname) {
      reader.problem(
        'DATABASE_URL',
        'is not a postgres://user:password@host/database URL (value not shown).',
      );
      return undefined;
    }
    return url;
  }
  const host = reader.raw('POSTGRES_HOST');
  if (host === undefined) return undefined;
  const port = reader.integer('POSTGRES_PORT', { default: 5432, min: 1, max: 65535 });
  const user = reader.raw('POSTGRES_USER');
  const database = reader.raw('POSTGRES_DATABASE');
  if (!user) reader.problem('POSTGRES_USER', 'is required when POSTGRES_HOST is set.');
  if (!database) reader.problem('POSTGRES_DATABASE', 'is required when POSTGRES_HOST is set.');
  if (!user || !database) return undefined;
  const password = reader.raw('POSTGRES_PASSWORD');
  const auth = encodeURIComponent(user) + (password ? `:${encodeURIComponent(password)}` : '');
  return `postgres://${auth}@${host}:${port}/${encodeURIComponent(database)}`;
}

function readVector(reader: EnvReader): VectorConfig {
  const dimension = reader.integer('EMBEDDING_DIM', { default: 1024, min: 1, max: MAX_VECTOR_DIM });
  const model = reader.string('EMBEDDING_MODEL', {
    pattern: /^[A-Za-z0-9._:/-]{1,100}$/,
    hint: 'use a model name such as text-embedding-3-small (letters, digits, . _ : / -)',
  });
  const requested = reader.oneOf('POSTGRES_VECTOR_INDEX_TYPE', VECTOR_INDEX_TYPES, {
    default: 'HNSW',
  });
  let indexType: VectorIndexType = requested;
  if (requested === 'HNSW' && dimension > MAX_VECTOR_INDEX_DIM) indexType = 'HNSW_HALFVEC';
  if (indexType === 'HNSW_HALFVEC' && dimension > MAX_HALFVEC_INDEX_DIM) {
    reader.problem(
      'POSTGRES_VECTOR_INDEX_TYPE',
      `pgvector cannot index ${dimension} dimensions (halfvec stops at ${MAX_HALFVEC_INDEX_DIM}); use NONE or a smaller EMBEDDING_DIM.`,
    );
  }
  if (indexType === 'IVFFLAT' && dimension > MAX_VECTOR_INDEX_DIM) {
    reader.problem(
      'POSTGRES_VECTOR_INDEX_TYPE',
      `IVFFLAT indexes stop at ${MAX_VECTOR_INDEX_DIM} dimensions; use HNSW_HALFVEC (up to ${MAX_HALFVEC_INDEX_DIM}) or NONE.`,
    );
  }
  return {
    dimension,
    model,
    indexType,
    hnswM: reader.integer('POSTGRES_HNSW_M', { default: 16, min: 2, max: 100 }),
    hnswEfConstruction: reader.integer('POSTGRES_HNSW_EF', { default: 64, min: 4, max: 1000 }),
    hnswEfSearch: reader.integer('POSTGRES_HNSW_EF_SEARCH', { min: 1, max: 1000 }),
    ivfflatLists: reader.integer('POSTGRES_IVFFLAT_LISTS', { default: 100, min: 1, max: 32768 }),
    cosineThreshold: reader.number('COSINE_THRESHOLD', { default: 0.2, min: -1, max: 1 }),
  };
}

function readEmbedding(reader: EnvReader): EmbeddingConfig {
  const inLambda = reader.has('AWS_LAMBDA_FUNCTION_NAME');
  if (inLambda && !reader.has('EMBEDDING_PROVIDER')) {
    reader.problem(
      'EMBEDDING_PROVIDER',
      'is required in Lambda: openai or bedrock (hash is a lexical stand-in for development).',
    );
  }
  const provider = reader.oneOf('EMBEDDING_PROVIDER', EMBEDDING_PROVIDERS, { default: 'hash' });
  const apiKey =
    reader.raw('EMBEDDING_API_KEY') ??
    (provider === 'openai' ? reader.raw('OPENAI_API_KEY') : undefined);
  if (provider !== 'hash' && !reader.has('EMBEDDING_MODEL')) {
    reader.problem(
      'EMBEDDING_MODEL',
      `is required with EMBEDDING_PROVIDER=${provider} (e.g. text-embedding-3-small, amazon.titan-embed-text-v2:0).`,
    );
  }
  return {
    provider,
    baseUrl: reader
      .string('EMBEDDING_BASE_URL', {
        default: 'https://api.openai.com/v1',
        pattern: /^https?:\/\/\S+$/,
        hint: 'expected a URL such as https://api.openai.com/v1',
      })
      .replace(/\/+$/, ''),
    apiKey,
    apiVersion: reader.raw('EMBEDDING_API_VERSION'),
    sendDimensions: reader.boolean('EMBEDDING_SEND_DIMENSIONS', { default: false }),
    bedrockRegion: reader.raw('BEDROCK_REGION') ?? reader.raw('AWS_REGION'),
    bedrockEndpoint: reader.string('BEDROCK_ENDPOINT', {
      pattern: /^https?:\/\/\S+$/,
      hint: 'expected a URL',
    }),
    batchSize: reader.integer('EMBEDDING_BATCH_SIZE', { default: 32, min: 1, max: 2048 }),
    concurrency: reader.integer('EMBEDDING_CONCURRENCY', { default: 4, min: 1, max: 64 }),
    maxRetries: reader.integer('EMBEDDING_MAX_RETRIES', { default: 4, min: 0, max: 20 }),
    timeoutMs: reader.integer('EMBEDDING_TIMEOUT_MS', { default: 30_000, min: 100, max: 600_000 }),
  };
}

function readChunking(reader: EnvReader): ChunkingConfig {
  const chunkTokenSize = reader.integer('CHUNK_SIZE', { default: 1200, min: 16, max: 100_000 });
  const overlapTokenSize = reader.integer('CHUNK_OVERLAP_SIZE', {
    default: 100,
    min: 0,
    max: 100_000,
  });
  if (overlapTokenSize >= chunkTokenSize) {
    reader.problem(
      'CHUNK_OVERLAP_SIZE',
      `${overlapTokenSize} must be smaller than CHUNK_SIZE (${chunkTokenSize}).`,
    );
  }
  // Read raw (untrimmed) so a newline or space can be the split character; "\n" escapes allowed.
  const split = reader
    .rawUntrimmed('CHUNK_SPLIT_BY_CHARACTER')
    ?.replaceAll('\\n', '\n')
    .replaceAll('\\t', '\t');
  return {
    chunkTokenSize,
    overlapTokenSize,
    splitByCharacter: split === '' ? undefined : split,
    splitByCharacterOnly: reader.boolean('CHUNK_SPLIT_BY_CHARACTER_ONLY', { default: false }),
    encoding: reader.oneOf('TIKTOKEN_ENCODING', TOKEN_ENCODINGS, { default: 'o200k_base' }),
  };
}
