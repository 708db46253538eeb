/**
 * Embedding, chunking, ingest and queue settings (part of the configuration read by `loadConfig`).
 */
import type { EnvReader } from '../env.ts';
import { ID_RULES, type IdRules } from '../ids.ts';
import { providerUrl } from './provider-url.ts';

/** Default work lease: Lambda's longest timeout (900 s) with room for a slow commit. */
export const DEFAULT_WORK_LEASE_SECONDS = 1200;

/** `EMBEDDING_PROVIDER` values; `hash` is a lexical stand-in for development, refused in Lambda. */
export const EMBEDDING_PROVIDERS = ['openai', 'bedrock', 'hash'] as const;
/** One of {@link EMBEDDING_PROVIDERS}. */
export type EmbeddingProvider = (typeof EMBEDDING_PROVIDERS)[number];

/** The embedding model (`EMBEDDING_*`): provider, endpoint, batching and retry limits. */
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

/** The tiktoken encodings chunking can count with (LightRAG's `TIKTOKEN_MODEL_NAME` family). */
export const TOKEN_ENCODINGS = ['o200k_base', 'cl100k_base'] as const;
/** One of {@link TOKEN_ENCODINGS}. */
export type TokenEncoding = (typeof TOKEN_ENCODINGS)[number];

/** How documents are cut into chunks, as LightRAG cuts them (`CHUNK_SIZE`, overlap, split character). */
export interface ChunkingConfig {
  chunkTokenSize: number;
  overlapTokenSize: number;
  /** Split on this string first (LightRAG's `split_by_character`). */
  splitByCharacter?: string;
  /** Only split on the character; a piece over the token size is an error. */
  splitByCharacterOnly: boolean;
  encoding: TokenEncoding;
}

/** The ingest pipeline: document and message limits, concurrency, retries, id rules, fan-out and the work lease. */
export interface IngestConfig {
  /** Largest document accepted, in UTF-8 bytes. */
  maxDocumentBytes: number;
  /** Records of one SQS batch processed at the same time. */
  concurrency: number;
  /** The queue's redrive `maxReceiveCount`: on the last receive a failing document is marked failed. */
  maxReceiveCount: number;
  /**
   * Document and chunk id rules for new documents (`LIGHTRAG_ID_RULES`): `1.5` (file-name ids,
   * positional chunk ids, basename `file_path`, duplicate rows) or `1.4` (content ids) for a
   * workspace shared with LightRAG ≤ 1.4. Both are read either way.
   */
  idRules: IdRules;
  /**
   * Documents of at least this many chunks have their extraction fanned out across containers
   * (chunk batches on EXTRACTION_QUEUE_URL) when that queue is set and the graph stage is on.
   */
  fanOutMinChunks: number;
  /** Chunks per extraction message. */
  extractionBatchChunks: number;
  /**
   * Seconds a worker holds a document it moved to parsing/analyzing/processing (or a message
   * holds a pending one) after the row's last change; after that the document is stuck and may
   * be resumed, reprocessed or deleted (`WORK_LEASE_SECONDS`, lib/pipeline/leases.ts).
   */
  workLeaseSeconds: number;
}

/** The queues (`INGEST_QUEUE_URL`, `EXTRACTION_QUEUE_URL`, `UPLOADS_QUEUE_URL`), their region and a local endpoint. */
export interface QueueConfig {
  queueUrl?: string;
  /** The extraction queue: chunk batches of fanned-out documents (unset: no fan-out). */
  extractionQueueUrl?: string;
  /** The uploads queue (S3 events): reprocessing a file whose parse was cut off sends it there. */
  uploadsQueueUrl?: string;
  /** SQS endpoint override (a local emulator). */
  endpoint?: string;
  region: string;
  /** The queue's `MaximumMessageSize`: 1 MiB on queues created by infra/, 256 KiB by default on AWS. */
  maxMessageBytes: number;
}

/** Reads `EMBEDDING_*`. */
export function readEmbedding(reader: EnvReader): EmbeddingConfig {
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
    baseUrl: providerUrl(
      reader,
      'EMBEDDING_BASE_URL',
      'https://api.openai.com/v1',
      'expected a URL such as https://api.openai.com/v1',
    )!,
    apiKey,
    apiVersion: reader.raw('EMBEDDING_API_VERSION'),
    sendDimensions: reader.boolean('EMBEDDING_SEND_DIMENSIONS', { default: false }),
    bedrockRegion: reader.raw('BEDROCK_REGION') ?? reader.raw('AWS_REGION'),
    bedrockEndpoint: providerUrl(reader, 'BEDROCK_ENDPOINT', undefined, 'expected a URL'),
    batchSize: reader.integer('EMBEDDING_BATCH_SIZE', { default: 32, min: 1, max: 2048 }),
    concurrency: reader.integer('EMBEDDING_CONCURRENCY', { default: 4, min: 1, max: 64 }),
    maxRetries: reader.integer('EMBEDDING_MAX_RETRIES', { default: 4, min: 0, max: 20 }),
    timeoutMs: reader.integer('EMBEDDING_TIMEOUT_MS', { default: 30_000, min: 100, max: 600_000 }),
  };
}

/** Reads `CHUNK_*` and `TIKTOKEN_ENCODING`. */
export function readChunking(reader: EnvReader): ChunkingConfig {
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

/** Reads the ingest settings (`MAX_DOCUMENT_BYTES`, `INGEST_CONCURRENCY`, `FANOUT_MIN_CHUNKS`, `WORK_LEASE_SECONDS`, …). */
export function readIngest(reader: EnvReader): IngestConfig {
  return {
    maxDocumentBytes: reader.integer('MAX_DOCUMENT_BYTES', {
      default: 10 * 1024 * 1024,
      min: 1,
      max: 200 * 1024 * 1024,
    }),
    concurrency: reader.integer('INGEST_CONCURRENCY', { default: 2, min: 1, max: 50 }),
    maxReceiveCount: reader.integer('INGEST_MAX_RECEIVE_COUNT', { default: 3, min: 1, max: 1000 }),
    idRules: reader.oneOf('LIGHTRAG_ID_RULES', ID_RULES, { default: '1.5' }),
    fanOutMinChunks: reader.integer('FANOUT_MIN_CHUNKS', { default: 16, min: 1, max: 1_000_000 }),
    extractionBatchChunks: reader.integer('EXTRACTION_BATCH_CHUNKS', {
      default: 4,
      min: 1,
      max: 500,
    }),
    workLeaseSeconds: reader.integer('WORK_LEASE_SECONDS', {
      default: DEFAULT_WORK_LEASE_SECONDS,
      min: 1,
      max: 7 * 24 * 3600,
    }),
  };
}

/** Reads the queue URLs, `SQS_ENDPOINT` and `SQS_MAX_MESSAGE_BYTES`. */
export function readQueue(reader: EnvReader): QueueConfig {
  return {
    queueUrl: reader.string('INGEST_QUEUE_URL', {
      pattern: /^https?:\/\/\S+$/,
      hint: 'expected the queue URL, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME',
    }),
    extractionQueueUrl: reader.string('EXTRACTION_QUEUE_URL', {
      pattern: /^https?:\/\/\S+$/,
      hint: 'expected the queue URL, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME',
    }),
    uploadsQueueUrl: reader.string('UPLOADS_QUEUE_URL', {
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
}
