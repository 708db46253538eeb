import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeConfig, loadConfig, redactConnectionString } from '../lib/config.ts';
import { ConfigError } from '../lib/errors.ts';

const URL_WITH_SECRET =
  'postgres://alice:s3cr3t-pw@ep-x-pooler.eu-west-1.aws.neon.tech/app?sslmode=require';

function problemsOf(env: Record<string, string>): { variable: string; problem: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('defaults to embedded PGlite when no database is configured', () => {
    const config = loadConfig({});
    assert.equal(config.database.driver, 'pglite');
    assert.equal(config.database.connectionString, undefined);
    assert.equal(config.workspace, 'default');
    assert.equal(config.database.maxConnections, 2);
    assert.equal(config.database.minConnections, 0);
    assert.equal(config.vector.dimension, 1024);
    assert.equal(config.vector.indexType, 'HNSW');
    assert.equal(config.vector.hnswM, 16);
    assert.equal(config.vector.hnswEfConstruction, 64);
    assert.equal(config.vector.cosineThreshold, 0.05, 'lexical hash embedder');
    const semantic = loadConfig({ EMBEDDING_PROVIDER: 'openai', EMBEDDING_MODEL: 'm' });
    assert.equal(semantic.vector.cosineThreshold, 0.2, "LightRAG's default");
    assert.equal(loadConfig({ COSINE_THRESHOLD: '0.3' }).vector.cosineThreshold, 0.3);
  });

  it('defaults to the neon driver when DATABASE_URL is set, and trims values', () => {
    const config = loadConfig({
      DATABASE_URL: `  ${URL_WITH_SECRET} `,
      POSTGRES_MAX_CONNECTIONS: ' 3 ',
    });
    assert.equal(config.database.driver, 'neon');
    assert.equal(config.database.connectionString, URL_WITH_SECRET);
    assert.equal(config.database.maxConnections, 3);
  });

  it('picks the driver from the host: Neon over WebSockets, any other PostgreSQL over TCP', () => {
    const driverOf = (env: Record<string, string>) => loadConfig(env).database.driver;
    // A plain PostgreSQL with the default driver failed every document (issue 25 #5).
    assert.equal(driverOf({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' }), 'pg');
    assert.equal(
      driverOf({ DATABASE_URL: 'postgres://u:p@db.abc.eu-west-1.rds.amazonaws.com/db' }),
      'pg',
    );
    assert.equal(
      driverOf({ DATABASE_URL: 'postgres://u:p@ep-x-pooler.eu-west-1.aws.neon.tech/db' }),
      'neon',
    );
    assert.equal(
      driverOf({ DATABASE_URL: 'postgres://u:p@127.0.0.1/db', NEON_WS_PROXY: '127.0.0.1:8080' }),
      'neon',
      'a local server behind a WebSocket bridge',
    );
    assert.equal(
      driverOf({ DATABASE_URL: 'postgres://u:p@127.0.0.1/db', DATABASE_DRIVER: 'neon' }),
      'neon',
    );
    assert.equal(
      driverOf({
        POSTGRES_HOST: 'db.internal',
        POSTGRES_USER: 'u',
        POSTGRES_PASSWORD: 'p',
        POSTGRES_DATABASE: 'd',
      }),
      'pg',
    );
  });

  it("builds the connection string from the seed's POSTGRES_* names, escaping special characters", () => {
    const config = loadConfig({
      POSTGRES_HOST: 'db.internal',
      POSTGRES_PORT: '6543',
      POSTGRES_USER: 'rag user',
      POSTGRES_PASSWORD: 'p@ss:word/',
      POSTGRES_DATABASE: 'rag',
      DATABASE_DRIVER: 'pg',
    });
    const url = new URL(config.database.connectionString!);
    assert.equal(url.hostname, 'db.internal');
    assert.equal(url.port, '6543');
    assert.equal(decodeURIComponent(url.username), 'rag user');
    assert.equal(decodeURIComponent(url.password), 'p@ss:word/');
    assert.equal(url.pathname, '/rag');
  });

  it('lists every problem at once, each naming its variable', () => {
    const problems = problemsOf({
      DATABASE_DRIVER: 'mysql',
      POSTGRES_MAX_CONNECTIONS: 'two',
      EMBEDDING_DIM: '0',
      COSINE_THRESHOLD: 'high',
      POSTGRES_VECTOR_INDEX_TYPE: 'btree',
      POSTGRES_WORKSPACE: '../etc',
    });
    const variables = problems.map((p) => p.variable).sort();
    assert.deepEqual(variables, [
      'COSINE_THRESHOLD',
      'DATABASE_DRIVER',
      'EMBEDDING_DIM',
      'POSTGRES_MAX_CONNECTIONS',
      'POSTGRES_VECTOR_INDEX_TYPE',
      'POSTGRES_WORKSPACE',
    ]);
  });

  it("says what to do when the database is missing, in Neon's words", () => {
    const [problem, ...rest] = problemsOf({ DATABASE_DRIVER: 'neon' });
    assert.equal(rest.length, 0);
    assert.equal(problem!.variable, 'DATABASE_URL');
    assert.match(
      problem!.problem,
      /No database connection string was provided\. Perhaps an environment variable/,
    );
  });

  it('refuses the embedded fallback inside Lambda', () => {
    const problems = problemsOf({ AWS_LAMBDA_FUNCTION_NAME: 'ingest' });
    assert.deepEqual(problems.map((p) => p.variable).sort(), [
      'DATABASE_URL',
      'EMBEDDING_PROVIDER',
    ]);
    const explicit = problemsOf({ AWS_LAMBDA_FUNCTION_NAME: 'ingest', DATABASE_DRIVER: 'pglite' });
    assert.ok(explicit.some((p) => /cannot run inside Lambda/.test(p.problem)));
  });

  it('never echoes a secret in an error', () => {
    const err = (() => {
      try {
        loadConfig({ DATABASE_URL: 'mysql://bob:hunter2-secret@host/db' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    assert.ok(err instanceof ConfigError);
    assert.doesNotMatch(err.message, /hunter2-secret/);
    assert.doesNotMatch(JSON.stringify(err.details), /hunter2-secret/);
    const other = problemsOf({ POSTGRES_HOST: 'h', POSTGRES_PASSWORD: 'hunter2-secret' });
    assert.doesNotMatch(JSON.stringify(other), /hunter2-secret/);
  });

  it('keeps secrets out of the configuration summary', () => {
    const summary = JSON.stringify(describeConfig(loadConfig({ DATABASE_URL: URL_WITH_SECRET })));
    assert.doesNotMatch(summary, /s3cr3t-pw/);
    assert.match(summary, /alice:\*\*\*@ep-x-pooler/);
    assert.equal(redactConnectionString('not a url'), '(unparseable connection string)');
  });

  it('checks pool bounds and relations between variables', () => {
    assert.ok(
      problemsOf({ POSTGRES_MIN_CONNECTIONS: '3' }).some(
        (p) => p.variable === 'POSTGRES_MIN_CONNECTIONS',
      ),
    );
    assert.ok(
      problemsOf({ POSTGRES_MAX_CONNECTIONS: '0' }).some((p) =>
        /below the minimum 1/.test(p.problem),
      ),
    );
    assert.ok(
      problemsOf({ NEON_WS_PROXY: 'not a host' }).some((p) => p.variable === 'NEON_WS_PROXY'),
    );
    assert.ok(
      problemsOf({
        DATABASE_URL: URL_WITH_SECRET,
        DATABASE_DRIVER: 'pg',
        NEON_WS_PROXY: '127.0.0.1:1',
      }).some((p) => /only the neon driver/.test(p.problem)),
    );
    assert.ok(
      problemsOf({ DATABASE_URL: URL_WITH_SECRET, DATABASE_DRIVER: 'pglite' }).some((p) =>
        /pglite is embedded/.test(p.problem),
      ),
    );
  });

  it('switches HNSW to halfvec above 2,000 dimensions and refuses what pgvector cannot index', () => {
    assert.equal(loadConfig({ EMBEDDING_DIM: '3072' }).vector.indexType, 'HNSW_HALFVEC');
    assert.equal(loadConfig({ EMBEDDING_DIM: '1536' }).vector.indexType, 'HNSW');
    assert.equal(
      loadConfig({ EMBEDDING_DIM: '8000', POSTGRES_VECTOR_INDEX_TYPE: 'none' }).vector.indexType,
      'NONE',
    );
    assert.ok(
      problemsOf({ EMBEDDING_DIM: '8000' }).some((p) => /halfvec stops at 4000/.test(p.problem)),
    );
    assert.ok(
      problemsOf({ EMBEDDING_DIM: '3072', POSTGRES_VECTOR_INDEX_TYPE: 'IVFFLAT' }).some((p) =>
        /IVFFLAT indexes stop at 2000/.test(p.problem),
      ),
    );
  });

  it('reads the ingestion settings with their defaults', () => {
    const config = loadConfig({});
    assert.equal(config.embedding.provider, 'hash');
    assert.equal(config.embedding.batchSize, 32);
    assert.equal(config.chunking.chunkTokenSize, 1200);
    assert.equal(config.chunking.overlapTokenSize, 100);
    assert.equal(config.chunking.encoding, 'o200k_base');
    assert.equal(config.ingest.maxReceiveCount, 3);
    assert.equal(config.queue.maxMessageBytes, 1024 * 1024);
    const custom = loadConfig({
      CHUNK_SPLIT_BY_CHARACTER: '\\n\\n',
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_MODEL: 'm',
      OPENAI_API_KEY: 'sk-x',
    });
    assert.equal(custom.chunking.splitByCharacter, '\n\n');
    assert.equal(custom.embedding.apiKey, 'sk-x');
    assert.doesNotMatch(JSON.stringify(describeConfig(custom)), /sk-x/);
    assert.ok(
      problemsOf({ CHUNK_SIZE: '100', CHUNK_OVERLAP_SIZE: '100' }).some(
        (p) => p.variable === 'CHUNK_OVERLAP_SIZE',
      ),
    );
    assert.ok(
      problemsOf({ EMBEDDING_PROVIDER: 'bedrock' }).some((p) => p.variable === 'EMBEDDING_MODEL'),
    );
  });

  it('reads the optional tuning variables', () => {
    const config = loadConfig({
      POSTGRES_HNSW_EF_SEARCH: '100',
      POSTGRES_IVFFLAT_LISTS: '50',
      EMBEDDING_MODEL: 'text-embedding-3-small',
      POSTGRES_STATEMENT_TIMEOUT_MS: '0',
      LOG_LEVEL: 'DEBUG',
    });
    assert.equal(config.vector.hnswEfSearch, 100);
    assert.equal(config.vector.ivfflatLists, 50);
    assert.equal(config.vector.model, 'text-embedding-3-small');
    assert.equal(config.database.statementTimeoutMs, 0);
    assert.equal(config.logLevel, 'debug');
  });
});
