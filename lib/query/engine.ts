/**
 * Retrieval and answers in LightRAG's six modes. `naive` searches chunk vectors; `local`,
 * `global`, `hybrid` and `mix` read the knowledge graph (graph-retrieval.ts) with keywords from
 * the request or the LLM; `bypass` sends the question to the LLM alone. Answers are cached in
 * LIGHTRAG_LLM_CACHE under LightRAG 1.5's `{mode}:query:{hash}`, with a fingerprint of what was
 * retrieved so a changed corpus never serves one of our stale answers.
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { Embedder } from '../embedding/types.ts';
import { LlmNotConfiguredError } from '../errors.ts';
import { FAIL_RESPONSE } from '../lightrag-constants.ts';
import type { Llm } from '../llm/types.ts';
import type { Logger } from '../logger.ts';
import { metricDurationBy } from '../ops/metrics.ts';
import { openStorages, type Storages } from '../storage/index.ts';
import { getTokenizer } from '../tokenizer.ts';
import {
  assignReferences,
  chunkFromMatch,
  chunkLine,
  formatGraphContext,
  type Reference,
  truncateByTokens,
} from './context.ts';
import { retrieveGraph } from './graph-retrieval.ts';
import { boundHistory } from './history.ts';
import { queryKeywords } from './keywords.ts';
import { contextText } from './lightrag.ts';
import { PreparedQuery, type QueryResponse, type Retrieved } from './prepared.ts';
import { bypassMessages, graphMessages, naiveMessages } from './prompt.ts';
import { GRAPH_MODES, type QueryRequest } from './request.ts';

export type { ContextChunk, ContextEntity, ContextRelation, Reference } from './context.ts';
export type { QueryResponse } from './prepared.ts';

/** A streamed answer: the references first, then the text as it comes. */
export interface QueryStream {
  mode: QueryRequest['mode'];
  references: Reference[];
  /** The answer comes from the cache (still streamed, in pieces). */
  cached: boolean;
  pieces: AsyncIterable<string>;
}

async function* once(text: string): AsyncIterable<string> {
  yield text;
}

/** A cached answer streamed in pieces of about 64 characters (at word ends where possible). */
async function* inPieces(text: string): AsyncIterable<string> {
  for (const piece of text.match(/[\s\S]{1,64}(?:\s|$)|[\s\S]{1,64}/g) ?? [text]) yield piece;
}

export class QueryEngine {
  readonly #db: Database;
  readonly #config: Config;
  readonly #embedder: Embedder;
  readonly #llm: Llm | undefined;
  readonly #log: Logger;

  constructor(
    db: Database,
    config: Config,
    embedder: Embedder,
    llm: Llm | undefined,
    logger: Logger,
  ) {
    this.#db = db;
    this.#config = config;
    this.#embedder = embedder;
    this.#llm = llm;
    this.#log = logger;
  }

  /**
   * @example
   * ```ts
   * const res = await engine.query(parseQueryRequest({ query: 'Who built the engine?' }, queryDefaults(config)), 'default');
   * res.context.entities; res.context.chunks; res.answer;
   * ```
   */
  async query(
    asked: QueryRequest,
    workspace: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<QueryResponse> {
    const p = await this.#prepare(asked, workspace);
    const done = (res: QueryResponse) => {
      metricDurationBy('QueryLatency', 'mode', res.mode, res.timings.totalMs);
      return res;
    };
    const prompt = p.promptOnly;
    if (prompt !== undefined) return done(p.respond(prompt, false));
    if (!p.llm) return done(p.respond(null, false));
    // Nothing retrieved: LightRAG's fixed failure response, without asking the LLM.
    if (p.noContext) return done(p.respond(FAIL_RESPONSE, false));
    const hit = await p.cachedAnswer();
    if (hit !== undefined) return done(p.respond(hit, true));
    const answer = await p.llm.complete(p.retrieved.messages, { signal: options.signal });
    await p.cacheAnswer(answer);
    return done(p.respond(answer, false));
  }

  /**
   * The answer as it is generated: retrieval first (its failures are thrown before anything is
   * streamed), then text pieces from the LLM, or from the cache in pieces. Only an answer whose
   * stream ended normally is cached. Aborting `signal` (the client went away) stops the LLM.
   * With `only_need_context` or no LLM, the one piece is the context text (LightRAG's).
   *
   * @example
   * ```ts
   * const s = await engine.stream(request, 'default', controller.signal);
   * for await (const piece of s.pieces) process.stdout.write(piece);
   * ```
   */
  async stream(asked: QueryRequest, workspace: string, signal?: AbortSignal): Promise<QueryStream> {
    const p = await this.#prepare(asked, workspace);
    const base = { mode: p.request.mode, references: p.references };
    const prompt = p.promptOnly;
    if (prompt !== undefined) return { ...base, cached: false, pieces: once(prompt) };
    if (!p.llm) {
      return { ...base, cached: false, pieces: once(contextText(p.respond(null, false))) };
    }
    if (p.noContext) return { ...base, cached: false, pieces: once(FAIL_RESPONSE) };
    const hit = await p.cachedAnswer();
    if (hit !== undefined) return { ...base, cached: true, pieces: inPieces(hit) };
    const llm = p.llm;
    const encoding = this.#config.chunking.encoding;
    const started = performance.now();
    // Streams report no usage: the LLM client counts the call with the configured tokenizer.
    const tokenizer = await getTokenizer(encoding);
    const countTokens = (text: string) => tokenizer.encode(text).length;
    async function* generate(): AsyncIterable<string> {
      const parts: string[] = [];
      for await (const piece of llm.stream(p.retrieved.messages, { signal, countTokens })) {
        parts.push(piece);
        yield piece;
      }
      const answer = parts.join('');
      metricDurationBy('QueryLatency', 'mode', p.request.mode, performance.now() - started);
      await p.cacheAnswer(answer);
    }
    return { ...base, cached: false, pieces: generate() };
  }

  /** Retrieval, and what answering needs: the LLM (unless only context), the answer cache. */
  async #prepare(asked: QueryRequest, workspace: string): Promise<PreparedQuery> {
    const started = performance.now();
    const tokenizer = await getTokenizer(this.#config.chunking.encoding);
    // Only the recent, bounded part of the history goes to the LLM (HISTORY_TURNS, MAX_HISTORY_TOKENS).
    const request: QueryRequest = {
      ...asked,
      conversation_history: boundHistory(asked.conversation_history, {
        turns: this.#config.query.historyTurns,
        maxTokens: this.#config.query.maxHistoryTokens,
        count: (text) => tokenizer.encode(text).length,
      }),
    };
    if (request.mode === 'bypass' && !this.#llm) throw new LlmNotConfiguredError('Mode "bypass"');
    const s = await openStorages(this.#db, this.#config, this.#embedder, workspace);
    const useCache =
      this.#config.llm.enableCache &&
      request.enable_cache &&
      request.conversation_history.length === 0;
    const retrieved = await this.#retrieve(s, request, useCache);
    return new PreparedQuery({
      request,
      retrieved,
      llm: request.only_need_context ? undefined : this.#llm,
      storages: s,
      useCache,
      started,
      logger: this.#log,
    });
  }

  async #retrieve(s: Storages, request: QueryRequest, useCache: boolean): Promise<Retrieved> {
    const empty = { entities: [], relations: [], chunks: [], references: [] };
    if (request.mode === 'bypass') return { ...empty, messages: bypassMessages(request) };
    const tokenizer = await getTokenizer(this.#config.chunking.encoding);
    const [queryVector] = await this.#embedder.embed([request.query], { purpose: 'query' });
    if (request.mode === 'naive') {
      // LightRAG's naive mode takes chunk_top_k chunks (top_k is for graph elements).
      const matches = await s.chunksVdb.queryByVector(queryVector!, request.chunk_top_k);
      const chunks = truncateByTokens(
        matches.map(chunkFromMatch),
        chunkLine,
        request.max_total_tokens,
        tokenizer,
      );
      const references = assignReferences(chunks);
      return { ...empty, chunks, references, messages: naiveMessages(request, chunks, references) };
    }
    if (!GRAPH_MODES.includes(request.mode)) throw new Error(`unhandled mode ${request.mode}`);
    const keywords = await queryKeywords(request, this.#llm, s.llmCache, {
      useCache,
      language: this.#config.graph.language,
      logger: this.#log,
    });
    const graph = await retrieveGraph(s, request, keywords, queryVector!, {
      relatedChunkNumber: this.#config.graphQuery.relatedChunkNumber,
      chunkPickMethod: this.#config.graphQuery.chunkPickMethod,
      tokenizer,
    });
    // Chunks get what the entities, relations and the prompt itself leave of the total budget.
    const count = (text: string) => tokenizer.encode(text).length;
    const overhead = count(
      graphMessages(request, formatGraphContext(graph.entities, graph.relations, [], []))
        .map((m) => m.content)
        .join('\n'),
    );
    const chunks = truncateByTokens(
      graph.chunks,
      chunkLine,
      Math.max(0, request.max_total_tokens - overhead),
      tokenizer,
    );
    const references = assignReferences(chunks);
    return {
      keywords,
      entities: graph.entities,
      relations: graph.relations,
      chunks,
      references,
      messages: graphMessages(
        request,
        formatGraphContext(graph.entities, graph.relations, chunks, references),
      ),
    };
  }
}
