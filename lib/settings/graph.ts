/**
 * Knowledge-graph settings (part of the configuration read by `loadConfig`): extraction at ingest
 * and the graph query budgets. Names and defaults are LightRAG's.
 */
import type { EnvReader } from '../env.ts';

/** LightRAG's newest default entity types. */
export const DEFAULT_ENTITY_TYPES = [
  'Person',
  'Creature',
  'Organization',
  'Location',
  'Event',
  'Concept',
  'Method',
  'Content',
  'Data',
  'Artifact',
  'NaturalObject',
] as const;

/** Graph extraction and merging (`ENABLE_GRAPH`, entity types, gleaning, summary thresholds, concurrency). */
export interface GraphConfig {
  /** Extract entities and relations at ingest (`ENABLE_GRAPH`; default: on when an LLM is configured). */
  enabled: boolean;
  entityTypes: string[];
  /** Language of descriptions and summaries (`SUMMARY_LANGUAGE`). */
  language: string;
  /** JSON extraction replies instead of `<|#|>` records (`ENTITY_EXTRACTION_USE_JSON`). */
  useJson: boolean;
  /** Extra "what did you miss" passes (`MAX_GLEANING`; LightRAG runs at most one). */
  maxGleaning: number;
  /** Gleaning is skipped when the first exchange is longer than this (`MAX_EXTRACT_INPUT_TOKENS`). */
  maxExtractInputTokens: number;
  /** Chunks of one document extracted at the same time (`EXTRACTION_CONCURRENCY`). */
  extractionConcurrency: number;
  /** Fragments that force an LLM summary on merge (`FORCE_LLM_SUMMARY_ON_MERGE`). */
  forceSummaryOnMerge: number;
  /** Description tokens that force an LLM summary (`SUMMARY_MAX_TOKENS`). */
  summaryMaxTokens: number;
  /** Length asked of the summary (`SUMMARY_LENGTH_RECOMMENDED`). */
  summaryLengthRecommended: number;
  /** Chunk ids kept on graph and vector rows (`MAX_SOURCE_IDS_PER_ENTITY` / `_PER_RELATION`). */
  maxSourceIdsPerEntity: number;
  maxSourceIdsPerRelation: number;
  /** File paths kept per entity or relation before the truncation marker (`MAX_FILE_PATHS`). */
  maxFilePaths: number;
}

/** Graph retrieval limits (`MAX_ENTITY_TOKENS`, `MAX_RELATION_TOKENS`, related chunks per element). */
export interface GraphQueryConfig {
  /** Chunks taken from the chunk vectors in `mix` and `naive` (`CHUNK_TOP_K`). */
  chunkTopK: number;
  /** Token budgets of the context sections (`MAX_ENTITY_TOKENS`, `MAX_RELATION_TOKENS`). */
  maxEntityTokens: number;
  maxRelationTokens: number;
  /** Chunks per entity or relation (`RELATED_CHUNK_NUMBER`): a weight in LightRAG's selection. */
  relatedChunkNumber: number;
  /** How the elements' chunks are chosen (`KG_CHUNK_PICK_METHOD`, LightRAG's setting). */
  chunkPickMethod: 'VECTOR' | 'WEIGHT';
}

/** Reads the graph settings; the graph is on by default only with an LLM configured. */
export function readGraph(reader: EnvReader, llmConfigured: boolean): GraphConfig {
  const enabled = reader.boolean('ENABLE_GRAPH', { default: llmConfigured });
  if (enabled && !llmConfigured) {
    reader.problem('ENABLE_GRAPH', 'needs an LLM for extraction; set LLM_PROVIDER and LLM_MODEL.');
  }
  const types = (reader.raw('ENTITY_TYPES') ?? '')
    .replace(/^\[|\]$/g, '')
    .split(',')
    .map((t) => t.trim().replace(/^["']|["']$/g, ''))
    .filter(Boolean);
  return {
    enabled,
    entityTypes: types.length > 0 ? types : [...DEFAULT_ENTITY_TYPES],
    language: reader.string('SUMMARY_LANGUAGE', {
      default: 'English',
      pattern: /^[\p{L} ()-]{1,40}$/u,
      hint: 'a language name such as English or Chinese',
    }),
    useJson: reader.boolean('ENTITY_EXTRACTION_USE_JSON', { default: false }),
    maxGleaning: reader.integer('MAX_GLEANING', { default: 1, min: 0, max: 1 }),
    maxExtractInputTokens: reader.integer('MAX_EXTRACT_INPUT_TOKENS', {
      default: 20_480,
      min: 100,
      max: 1_000_000,
    }),
    extractionConcurrency: reader.integer('EXTRACTION_CONCURRENCY', {
      default: 4,
      min: 1,
      max: 64,
    }),
    forceSummaryOnMerge: reader.integer('FORCE_LLM_SUMMARY_ON_MERGE', {
      default: 8,
      min: 2,
      max: 1000,
    }),
    summaryMaxTokens: reader.integer('SUMMARY_MAX_TOKENS', {
      default: 1200,
      min: 50,
      max: 100_000,
    }),
    summaryLengthRecommended: reader.integer('SUMMARY_LENGTH_RECOMMENDED', {
      default: 600,
      min: 20,
      max: 100_000,
    }),
    maxSourceIdsPerEntity: reader.integer('MAX_SOURCE_IDS_PER_ENTITY', {
      default: 200,
      min: 1,
      max: 10_000,
    }),
    maxSourceIdsPerRelation: reader.integer('MAX_SOURCE_IDS_PER_RELATION', {
      default: 200,
      min: 1,
      max: 10_000,
    }),
    maxFilePaths: reader.integer('MAX_FILE_PATHS', { default: 75, min: 1, max: 10_000 }),
  };
}

/** Reads the graph retrieval limits. */
export function readGraphQuery(reader: EnvReader): GraphQueryConfig {
  return {
    chunkTopK: reader.integer('CHUNK_TOP_K', { default: 20, min: 1, max: 1000 }),
    maxEntityTokens: reader.integer('MAX_ENTITY_TOKENS', {
      default: 6000,
      min: 100,
      max: 1_000_000,
    }),
    maxRelationTokens: reader.integer('MAX_RELATION_TOKENS', {
      default: 8000,
      min: 100,
      max: 1_000_000,
    }),
    relatedChunkNumber: reader.integer('RELATED_CHUNK_NUMBER', { default: 5, min: 1, max: 100 }),
    chunkPickMethod: reader.oneOf('KG_CHUNK_PICK_METHOD', ['VECTOR', 'WEIGHT'] as const, {
      default: 'VECTOR',
    }),
  };
}
