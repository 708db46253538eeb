/**
 * Database and vector settings (part of the configuration read by `loadConfig` in ../config.ts).
 */
import type { EnvReader } from '../env.ts';
import { VECTOR_BASE_TABLES, type VectorNamespace, vectorTableName } from '../storage/tables.ts';
import { WORKSPACE_PATTERN } from '../workspace.ts';

/** `DATABASE_DRIVER` values: Neon's serverless driver, node-postgres, or embedded PGlite. */
export const DATABASE_DRIVERS = ['neon', 'pg', 'pglite'] as const;
/** One of {@link DATABASE_DRIVERS}. */
export type DatabaseDriver = (typeof DATABASE_DRIVERS)[number];

/** `POSTGRES_VECTOR_INDEX_TYPE` values (LightRAG's). */
export const VECTOR_INDEX_TYPES = ['HNSW', 'HNSW_HALFVEC', 'IVFFLAT', 'NONE'] as const;
/** One of {@link VECTOR_INDEX_TYPES}. */
export type VectorIndexType = (typeof VECTOR_INDEX_TYPES)[number];

/** pgvector's limits: `vector` indexes stop at 2,000 dimensions… */
export const MAX_VECTOR_INDEX_DIM = 2000;
/** …`halfvec` ones at 4,000… */
export const MAX_HALFVEC_INDEX_DIM = 4000;
/** …and a `vector` column holds at most 16,000. */
export const MAX_VECTOR_DIM = 16000;

/** pgvector ≥ 0.8 iterative index scans for filtered searches (off = stop after ef_search). */
export const ITERATIVE_SCAN_MODES = ['relaxed_order', 'strict_order', 'off'] as const;
/** One of {@link ITERATIVE_SCAN_MODES}. */
export type IterativeScanMode = (typeof ITERATIVE_SCAN_MODES)[number];

/** The connection: driver, URL (a secret), pool size and timeouts. */
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

/** The vector tables and their search: dimension, model suffix, index and its tuning, threshold. */
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
  /** Lists an IVFFlat search probes (`ivfflat.probes`; pgvector's default of 1 loses recall). */
  ivfflatProbes: number;
  /**
   * How a search filtered to one workspace continues the index scan until it has `top_k` rows
   * of that workspace (pgvector ≥ 0.8). Without it a small workspace beside a large one gets a
   * fraction of its rows (pgvector filters after the approximate scan).
   */
  iterativeScan: IterativeScanMode;
  /** Index tuples an iterative HNSW scan may visit (`hnsw.max_scan_tuples`) before it stops. */
  maxScanTuples: number;
  /**
   * Workspaces that get their own partial HNSW index in every vector table
   * (`POSTGRES_VECTOR_PARTIAL_INDEX_WORKSPACES`): searches of a large tenant then cost what an
   * unfiltered search costs, for one index build per tenant.
   */
  partialIndexWorkspaces: string[];
  /** Minimum cosine similarity a match must reach. */
  cosineThreshold: number;
}

/** The connection string with its password masked and its query dropped, for logs and `doctor`. */
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

/** Hosts served by Neon, whose endpoints the WebSocket driver reaches. */
const NEON_HOST = /\.neon\.(tech|build)$/i;

/**
 * The driver a connection string needs when DATABASE_DRIVER is not set: Neon's hosts (or any
 * host behind a WebSocket bridge, NEON_WS_PROXY) take the WebSocket driver; every other
 * PostgreSQL (RDS, Aurora, Supabase, a local server) plain TCP, which is what it speaks. No
 * database at all: embedded PGlite outside Lambda.
 */
export function defaultDriver(
  connectionString: string | undefined,
  wsProxy: boolean,
  inLambda: boolean,
): DatabaseDriver {
  if (!connectionString) return inLambda ? 'neon' : 'pglite';
  if (wsProxy) return 'neon';
  let host = '';
  try {
    host = new URL(connectionString).hostname;
  } catch {
    return 'neon'; // Refused later with the connection string's own problem.
  }
  return NEON_HOST.test(host) ? 'neon' : 'pg';
}

/** Reads the connection (`DATABASE_URL` or `POSTGRES_*`), the driver and the pool settings. */
export function readDatabase(reader: EnvReader): DatabaseConfig {
  const connectionString = readConnectionString(reader);
  const inLambda = reader.has('AWS_LAMBDA_FUNCTION_NAME');
  const explicitDriver = reader.has('DATABASE_DRIVER');
  const driver = reader.oneOf('DATABASE_DRIVER', DATABASE_DRIVERS, {
    default: defaultDriver(connectionString, reader.has('NEON_WS_PROXY'), inLambda),
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
  // Resolved into DATABASE_URL before this runs (lib/aws/database-secret.ts); read here so it is
  // validated and documented with the rest.
  readDatabaseSecretId(reader);
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

/** `DATABASE_SECRET_ID`: the Secrets Manager secret holding DATABASE_URL (name or ARN). */
export function readDatabaseSecretId(reader: EnvReader): string | undefined {
  return reader.string('DATABASE_SECRET_ID', {
    pattern: /^[\w/+=.@:-]{1,2048}$/,
    hint: "expected a Secrets Manager secret's name or ARN",
  });
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

/** Reads `EMBEDDING_DIM`, `EMBEDDING_MODEL` and the `POSTGRES_VECTOR_*`/`POSTGRES_HNSW_*` settings. */
export function readVector(reader: EnvReader): VectorConfig {
  const dimension = reader.integer('EMBEDDING_DIM', { default: 1024, min: 1, max: MAX_VECTOR_DIM });
  // Any name LightRAG accepts; its table-name rule (tables.ts) decides what is too long.
  const model = reader.string('EMBEDDING_MODEL', {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused on purpose.
    pattern: /^[^\u0000-\u001f\u007f]{1,200}$/,
    hint: 'use the model name LightRAG uses, such as text-embedding-3-small (no control characters)',
  });
  if (model) {
    for (const namespace of Object.keys(VECTOR_BASE_TABLES) as VectorNamespace[]) {
      try {
        vectorTableName(namespace, { model, dimension });
      } catch (err) {
        reader.problem('EMBEDDING_MODEL', (err as Error).message);
        break;
      }
    }
  }
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
  const ivfflatLists = reader.integer('POSTGRES_IVFFLAT_LISTS', {
    default: 100,
    min: 1,
    max: 32768,
  });
  return {
    dimension,
    model,
    indexType,
    hnswM: reader.integer('POSTGRES_HNSW_M', { default: 16, min: 2, max: 100 }),
    hnswEfConstruction: reader.integer('POSTGRES_HNSW_EF', { default: 64, min: 4, max: 1000 }),
    hnswEfSearch: reader.integer('POSTGRES_HNSW_EF_SEARCH', { min: 1, max: 1000 }),
    ivfflatLists,
    ivfflatProbes: reader.integer('POSTGRES_IVFFLAT_PROBES', {
      default: Math.ceil(Math.sqrt(ivfflatLists)),
      min: 1,
      max: 32768,
    }),
    iterativeScan: reader.oneOf('POSTGRES_VECTOR_ITERATIVE_SCAN', ITERATIVE_SCAN_MODES, {
      default: 'relaxed_order',
    }),
    partialIndexWorkspaces: partialIndexWorkspaces(reader, indexType),
    maxScanTuples: reader.integer('POSTGRES_HNSW_MAX_SCAN_TUPLES', {
      default: 20_000,
      min: 100,
      max: 10_000_000,
    }),
    cosineThreshold: reader.number('COSINE_THRESHOLD', {
      default: 0.2,
      min: -1,
      max: 1,
      // lib/config.ts lowers it for the lexical hash embedder (the local default).
      documentedDefault: '0.2 (0.05 with the hash embedder)',
    }),
  };
}

function partialIndexWorkspaces(reader: EnvReader, indexType: VectorIndexType): string[] {
  const name = 'POSTGRES_VECTOR_PARTIAL_INDEX_WORKSPACES';
  const workspaces = [...new Set(reader.list(name))];
  for (const ws of workspaces) {
    // The name is written into the index predicate (DDL has no bind parameters): pattern only.
    if (!WORKSPACE_PATTERN.test(ws))
      reader.problem(name, `${JSON.stringify(ws)} is not a valid workspace name.`);
  }
  if (workspaces.length > 0 && indexType !== 'HNSW' && indexType !== 'HNSW_HALFVEC')
    reader.problem(
      name,
      `partial indexes are HNSW indexes; POSTGRES_VECTOR_INDEX_TYPE is ${indexType}.`,
    );
  return workspaces;
}
