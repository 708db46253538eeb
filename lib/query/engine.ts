/**
 * Retrieval and answers: `naive` (vector search over chunks, then the LLM answers from them)
 * and `bypass` (the LLM alone). Answers are cached in LIGHTRAG_LLM_CACHE under LightRAG's key
 * shape `{mode}:query:{md5}`; the hash covers the retrieved chunk ids, so a changed corpus never
 * serves a stale answer.
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { Embedder } from '../embedding/types.ts';
import { LlmNotConfiguredError } from '../errors.ts';
import type { ChatMessage, Llm } from '../llm/types.ts';
import { errorFields, type Logger } from '../logger.ts';
import { openStorages, type Storages } from '../storage/index.ts';
import { md5 } from '../text.ts';
import type { QueryRequest } from './request.ts';

export interface ContextChunk {
  reference_id: number;
  chunk_id: string;
  doc_id: string;
  file_path: string | null;
  content: string;
  /** Cosine similarity to the query (1 = same direction). */
  score: number;
}

export interface QueryResponse {
  mode: QueryRequest['mode'];
  workspace: string;
  context: { chunks: ContextChunk[] };
  references: Array<{ reference_id: number; file_path: string | null }>;
  /** Null when only context was asked for, or no LLM is configured. */
  answer: string | null;
  cached: boolean;
  timings: { retrievalMs: number; generationMs: number; totalMs: number };
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

  get llmName(): string {
    return this.#llm?.name ?? 'none';
  }

  /**
   * @example
   * ```ts
   * const res = await engine.query(parseQueryRequest({ query: 'What is HNSW?' }, config.query), 'default');
   * res.context.chunks[0].content; res.answer;
   * ```
   */
  async query(request: QueryRequest, workspace: string): Promise<QueryResponse> {
    const started = performance.now();
    if (request.mode === 'bypass' && !this.#llm) throw new LlmNotConfiguredError('Mode "bypass"');
    const s = await openStorages(this.#db, this.#config, this.#embedder, workspace);
    const chunks = request.mode === 'naive' ? await this.#retrieve(s, request) : [];
    const retrievalMs = performance.now() - started;
    const references = this.#references(chunks);
    const respond = (answer: string | null, cached: boolean): QueryResponse => ({
      mode: request.mode,
      workspace: s.workspace,
      context: { chunks },
      references,
      answer,
      cached,
      timings: {
        retrievalMs: Math.round(retrievalMs),
        generationMs: Math.round(performance.now() - started - retrievalMs),
        totalMs: Math.round(performance.now() - started),
      },
    });
    if (request.only_need_context || !this.#llm) return respond(null, false);

    const messages = this.#messages(request, chunks, references);
    const useCache =
      this.#config.llm.enableCache &&
      request.enable_cache &&
      request.conversation_history.length === 0;
    const cacheId = `${request.mode}:query:${md5(
      JSON.stringify([
        'query-answer-cache-v2',
        request.mode,
        request.query,
        request.response_type,
        request.top_k,
        this.#llm.name,
        chunks.map((c) => c.chunk_id),
      ]),
    )}`;
    if (useCache) {
      const hit = await s.llmCache.getById(cacheId);
      if (hit) return respond(hit.return, true);
    }
    const answer = await this.#llm.complete(messages);
    if (useCache) {
      await s.llmCache
        .upsert([
          {
            id: cacheId,
            return: answer,
            original_prompt: request.query,
            cache_type: 'query',
            queryparam: {
              mode: request.mode,
              top_k: request.top_k,
              response_type: request.response_type,
            },
          },
        ])
        .catch((err: unknown) => this.#log.warn('could not cache the answer', errorFields(err)));
    }
    return respond(answer, false);
  }

  /** Nearest chunks, then as many as fit the context token budget. */
  async #retrieve(s: Storages, request: QueryRequest): Promise<ContextChunk[]> {
    const matches = await s.chunksVdb.query(request.query, request.top_k);
    const chunks: ContextChunk[] = [];
    let tokens = 0;
    for (const match of matches) {
      tokens += Number(match.tokens ?? 0);
      if (chunks.length > 0 && tokens > this.#config.query.maxContextTokens) break;
      chunks.push({
        reference_id: 0,
        chunk_id: match.id,
        doc_id: String(match.full_doc_id ?? ''),
        file_path: (match.file_path as string | null) ?? null,
        content: String(match.content ?? ''),
        score: Number((1 - match.distance).toFixed(6)),
      });
    }
    return chunks;
  }

  /** One reference per distinct file path, numbered in order of first use (LightRAG's [n]). */
  #references(chunks: ContextChunk[]): QueryResponse['references'] {
    const byPath = new Map<string, number>();
    for (const chunk of chunks) {
      const key = chunk.file_path ?? 'unknown_source';
      if (!byPath.has(key)) byPath.set(key, byPath.size + 1);
      chunk.reference_id = byPath.get(key)!;
    }
    return [...byPath].map(([file_path, reference_id]) => ({
      reference_id,
      file_path: file_path === 'unknown_source' ? null : file_path,
    }));
  }

  #messages(
    request: QueryRequest,
    chunks: ContextChunk[],
    references: QueryResponse['references'],
  ): ChatMessage[] {
    const history = request.conversation_history;
    if (request.mode === 'bypass') return [...history, { role: 'user', content: request.query }];
    const context = chunks
      .map((c) => JSON.stringify({ reference_id: c.reference_id, content: c.content }))
      .join('\n');
    const referenceList = references
      .map((r) => `[${r.reference_id}] ${r.file_path ?? 'unknown source'}`)
      .join('\n');
    const system = [
      '---Role---',
      'You answer questions using the document chunks of a knowledge base, given below.',
      '',
      '---Instructions---',
      '- Answer only from the Document Chunks. If they do not contain the answer, say that you do not know.',
      '- Do not invent facts, sources or numbers.',
      `- Format: ${request.response_type}, in Markdown, in the language of the question.`,
      '- End with a "### References" section listing at most 5 of the references you used, as "- [n] source".',
      '',
      '---Document Chunks---',
      context || '(no relevant chunks were found)',
      '',
      '---References---',
      referenceList || '(none)',
    ].join('\n');
    return [
      { role: 'system', content: system },
      ...history,
      { role: 'user', content: request.query },
    ];
  }
}
