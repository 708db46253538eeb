/**
 * One query after retrieval: what answering it needs (the request as bounded, what was retrieved,
 * the LLM unless only context was asked for), the response it becomes, and its answer cache.
 * Answers are cached under LightRAG 1.5's `{mode}:query:{hash}` with a fingerprint of what was
 * retrieved, so a changed corpus never serves one of our stale answers; rows LightRAG wrote carry
 * none and are served as LightRAG serves them.
 */
import { answerCacheKey } from '../llm/cache-keys.ts';
import type { ChatMessage, Llm } from '../llm/types.ts';
import { errorFields, type Logger } from '../logger.ts';
import { metricCount } from '../ops/metrics.ts';
import { recordUsage } from '../ops/usage.ts';
import type { Storages } from '../storage/index.ts';
import { md5 } from '../text.ts';
import {
  type ContextChunk,
  type ContextEntity,
  type ContextRelation,
  type Reference,
  withChunkContent,
} from './context.ts';
import type { QueryKeywords } from './keywords.ts';
import { promptText } from './prompt.ts';
import type { QueryRequest } from './request.ts';

/** `POST /query`'s answer: the mode, the keywords, the context, the references and the answer. */
export interface QueryResponse {
  mode: QueryRequest['mode'];
  workspace: string;
  /** The keywords the graph was searched with (graph modes only). */
  keywords?: Omit<QueryKeywords, 'source'> & { source: QueryKeywords['source'] };
  context: { entities: ContextEntity[]; relationships: ContextRelation[]; chunks: ContextChunk[] };
  references: Reference[];
  /** Null when only context was asked for, or no LLM is configured. */
  answer: string | null;
  cached: boolean;
  timings: { retrievalMs: number; generationMs: number; totalMs: number };
}

/** What retrieval found, and the messages an answer is asked with. */
export interface Retrieved {
  keywords?: QueryKeywords;
  entities: ContextEntity[];
  relations: ContextRelation[];
  chunks: ContextChunk[];
  references: Reference[];
  messages: ChatMessage[];
}

/**
 * A retrieved query, ready to be answered.
 *
 * @example
 * ```ts
 * const hit = await prepared.cachedAnswer();
 * const answer = hit ?? (await prepared.llm!.complete(prepared.retrieved.messages));
 * if (hit === undefined) await prepared.cacheAnswer(answer);
 * return prepared.respond(answer, hit !== undefined);
 * ```
 */
export class PreparedQuery {
  readonly request: QueryRequest;
  readonly retrieved: Retrieved;
  /** The LLM to answer with; undefined when only context was asked for or none is configured. */
  readonly llm: Llm | undefined;
  readonly #storages: Storages;
  readonly #started: number;
  readonly #retrievalMs: number;
  readonly #log: Logger;
  /** The answer's cache id and retrieval fingerprint, when an answer may be cached. */
  readonly #cache: { id: string; fingerprint: string } | undefined;

  constructor(p: {
    request: QueryRequest;
    retrieved: Retrieved;
    llm: Llm | undefined;
    storages: Storages;
    useCache: boolean;
    /** performance.now() when the query began. */
    started: number;
    logger: Logger;
  }) {
    this.request = p.request;
    this.retrieved = p.retrieved;
    this.llm = p.llm;
    this.#storages = p.storages;
    this.#started = p.started;
    this.#retrievalMs = performance.now() - p.started;
    this.#log = p.logger;
    const r = p.retrieved;
    const id =
      p.llm &&
      answerCacheKey(
        {
          ...p.request,
          keywords: r.keywords && { high: r.keywords.high_level, low: r.keywords.low_level },
        },
        p.llm.identity,
      );
    this.#cache =
      p.useCache && id
        ? {
            id,
            // What was retrieved, content included: an edited description (or a re-ingested
            // chunk) is a different context, so the answer cached for the old one is not served.
            fingerprint: md5(
              JSON.stringify([
                r.entities.map((e) => [e.entity, e.type, e.description]),
                r.relations.map((e) => [e.entity1, e.entity2, e.keywords, e.description]),
                r.chunks.map((c) => [c.chunk_id, c.content]),
              ]),
            ),
          }
        : undefined;
  }

  /** The answer's references (with their chunks' text when the request asked for it). */
  get references(): Reference[] {
    return withChunkContent(
      this.retrieved.references,
      this.retrieved.chunks,
      this.request.include_chunk_content,
    );
  }

  /**
   * With `only_need_prompt` (and not `only_need_context`): the full prompt an answer would be
   * asked with, which is then the answer; no LLM is called.
   */
  get promptOnly(): string | undefined {
    if (!this.request.only_need_prompt || this.request.only_need_context) return undefined;
    return promptText(this.retrieved.messages);
  }

  /** Retrieval found nothing in a mode that retrieves (LightRAG then answers FAIL_RESPONSE). */
  get noContext(): boolean {
    const r = this.retrieved;
    return (
      this.request.mode !== 'bypass' &&
      r.entities.length === 0 &&
      r.relations.length === 0 &&
      r.chunks.length === 0
    );
  }

  /** The response with `answer` (null: context only), timed from the query's start. */
  respond(answer: string | null, cached: boolean): QueryResponse {
    const r = this.retrieved;
    const totalMs = performance.now() - this.#started;
    return {
      mode: this.request.mode,
      workspace: this.#storages.workspace,
      ...(r.keywords
        ? {
            keywords: {
              high_level: r.keywords.high_level,
              low_level: r.keywords.low_level,
              source: r.keywords.source,
            },
          }
        : {}),
      context: { entities: r.entities, relationships: r.relations, chunks: r.chunks },
      references: this.references,
      answer,
      cached,
      timings: {
        retrievalMs: Math.round(this.#retrievalMs),
        generationMs: Math.round(totalMs - this.#retrievalMs),
        totalMs: Math.round(totalMs),
      },
    };
  }

  /** The cached answer to this query over this retrieval, if any (counted as a cache hit). */
  async cachedAnswer(): Promise<string | undefined> {
    if (!this.#cache || !this.llm) return undefined;
    const hit = await this.#storages.llmCache.getById(this.#cache.id);
    const stored = hit?.queryparam?.context_fingerprint;
    if (!hit || (stored !== undefined && stored !== this.#cache.fingerprint)) return undefined;
    recordUsage({
      workspace: this.#storages.workspace,
      purpose: 'answer',
      model: this.llm.identity.model ?? this.llm.name,
      cacheHit: true,
    });
    metricCount('LlmCacheHits');
    return hit.return;
  }

  /** Stores `answer` for this query and retrieval; a failure to store is logged, not thrown. */
  async cacheAnswer(answer: string): Promise<void> {
    if (!this.#cache) return;
    const request = this.request;
    await this.#storages.llmCache
      .upsert([
        {
          id: this.#cache.id,
          return: answer,
          original_prompt: request.query,
          cache_type: 'query',
          queryparam: {
            mode: request.mode,
            top_k: request.top_k,
            chunk_top_k: request.chunk_top_k,
            response_type: request.response_type,
            context_fingerprint: this.#cache.fingerprint,
          },
        },
      ])
      .catch((err: unknown) => this.#log.warn('could not cache the answer', errorFields(err)));
  }
}
