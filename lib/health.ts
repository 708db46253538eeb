/**
 * The health check, in LightRAG Server's shape (its `GET /health`) with our database fields
 * beside it: a real database round trip and the schema, never "healthy" while the database is
 * gone; `pipeline_busy`/`pipeline_active` from the workspace's documents. Anyone allowed to call
 * it sees that; LightRAG's `configuration` block (hosts and models, no secrets) authenticated
 * callers too, as LightRAG shows it; the schema key, the pool counters and our configuration
 * summary only with `HEALTH_DETAILS=true`. A database error never reaches the body; it is logged.
 */
import { type Config, describeConfig } from './config.ts';
import type { Database, PoolStats } from './db/database.ts';
import { errorFields, type Logger } from './logger.ts';
import { llmName } from './settings/api.ts';
import { DocStatusStorage } from './storage/doc-status.ts';
import { MAX_GRAPH_NODES } from './storage/graph-explore.ts';
import { ensureSchema } from './storage/schema.ts';

/** The LightRAG Server version whose API and data this backend speaks (`core_version`). */
export const LIGHTRAG_CORE_VERSION = '1.5.6';
/** This backend's API version (`api_version`). */
export const API_VERSION = 'serverless-0.1.0';

/** `GET /health`'s answer: LightRAG's fields, our database round trip, and with HEALTH_DETAILS the rest. */
export interface HealthReport {
  /** LightRAG's: the WebUI treats only "healthy" as connected. */
  status: 'healthy' | 'unhealthy';
  /** LightRAG's login required (`AUTH_ACCOUNTS`, keys); "disabled" when open or in guest mode. */
  auth_mode: 'disabled' | 'enabled';
  core_version: string;
  api_version: string;
  webui_available: boolean;
  webui_title: string;
  webui_description: string;
  /** A document of the workspace is being parsed, analysed or processed. */
  pipeline_busy: boolean;
  /** Busy, or documents are waiting (`pending`). */
  pipeline_active: boolean;
  database: { reachable: boolean; latencyMs?: number; schemaKey?: string };
  /** To authenticated callers (and with HEALTH_DETAILS=true): LightRAG's configuration names. */
  configuration?: Record<string, unknown>;
  pool?: PoolStats;
  llm?: string;
  config?: Record<string, unknown>;
}

/** Our configuration under the names LightRAG's `/health` gives it (`force_llm_summary_on_merge` never null). */
export function lightragConfiguration(config: Config): Record<string, unknown> {
  const identity = config.llm.cacheIdentity;
  return {
    llm_binding: identity.binding ?? config.llm.provider,
    llm_binding_host:
      identity.host ?? (config.llm.provider === 'openai' ? config.llm.baseUrl : null),
    llm_model: config.llm.model ?? null,
    embedding_binding: config.embedding.provider,
    embedding_binding_host:
      config.embedding.provider === 'openai' ? config.embedding.baseUrl : null,
    embedding_model: config.vector.model ?? null,
    kv_storage: 'PGKVStorage',
    doc_status_storage: 'PGDocStatusStorage',
    graph_storage: 'PGGraphStorage',
    vector_storage: 'PGVectorStorage',
    workspace: config.workspace,
    max_graph_nodes: MAX_GRAPH_NODES,
    summary_language: config.graph.language,
    force_llm_summary_on_merge: config.graph.forceSummaryOnMerge,
    max_parallel_insert: config.ingest.concurrency,
    max_async: config.graph.extractionConcurrency,
    embedding_func_max_async: config.embedding.concurrency,
    cosine_threshold: config.vector.cosineThreshold,
    min_rerank_score: 0,
    related_chunk_number: config.graphQuery.relatedChunkNumber,
    enable_rerank: false,
  };
}

/**
 * The report. `authenticated`: the caller proved who it is (LightRAG shows its `configuration`
 * block to authenticated callers; without a login configured, the gateway has authenticated
 * every caller, or nothing is required). HEALTH_DETAILS adds it for everyone, with our own fields.
 */
export async function checkHealth(
  db: Database,
  config: Config,
  logger?: Logger,
  workspace: string = config.workspace,
  authenticated = true,
): Promise<HealthReport> {
  const started = performance.now();
  const database: HealthReport['database'] = { reachable: false };
  let busy = false;
  let active = false;
  try {
    await db.query('SELECT 1');
    database.latencyMs = Math.round(performance.now() - started);
    database.reachable = true;
    database.schemaKey = (await ensureSchema(db, config.vector)).key;
    const counts = await new DocStatusStorage(db, workspace).getStatusCounts();
    busy = counts.parsing + counts.analyzing + counts.processing > 0;
    active = busy || counts.pending > 0;
  } catch (err) {
    logger?.warn('health check failed', errorFields(err));
  }
  const ok = database.reachable && database.schemaKey !== undefined;
  const report: HealthReport = {
    status: ok ? 'healthy' : 'unhealthy',
    // LightRAG's: "enabled" when a login is required (guest mode counts as disabled).
    auth_mode:
      config.api.login &&
      (config.api.login.accounts.size + config.api.login.plainPasswords.size > 0 ||
        config.api.login.apiKeyDigests.length > 0) &&
      !config.api.login.guest
        ? 'enabled'
        : 'disabled',
    core_version: LIGHTRAG_CORE_VERSION,
    api_version: API_VERSION,
    webui_available: config.api.webui.dir !== undefined || config.api.webui.hosted,
    webui_title: config.api.webui.title,
    webui_description: config.api.webui.description,
    pipeline_busy: busy,
    pipeline_active: active,
    database: { reachable: database.reachable, ...(ok ? { latencyMs: database.latencyMs } : {}) },
  };
  if (!config.api.healthDetails) {
    // The WebUI reads configuration.force_llm_summary_on_merge (never null) and max_graph_nodes.
    return authenticated ? { ...report, configuration: lightragConfiguration(config) } : report;
  }
  return {
    ...report,
    database,
    configuration: lightragConfiguration(config),
    pool: db.stats(),
    llm: llmName(config.llm),
    config: describeConfig(config),
  };
}
