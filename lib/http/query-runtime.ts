/** The query function's container state: retrieval and answers, and the graph reads. */
import { createEmbedder } from '../embedding/index.ts';
import { GraphService } from '../graph/service.ts';
import { createLlm } from '../llm/index.ts';
import { QueryEngine } from '../query/engine.ts';
import { type ApiBase, getApiBase } from './runtime.ts';

export interface QueryRuntime extends ApiBase {
  engine: QueryEngine;
  graph: GraphService;
}

let runtime: QueryRuntime | undefined;

export function getQueryRuntime(): QueryRuntime {
  if (!runtime || runtime.db.ended) {
    const base = getApiBase();
    const { config, db, logger } = base;
    const embedder = createEmbedder(config, logger);
    runtime = {
      ...base,
      engine: new QueryEngine(db, config, embedder, createLlm(config.llm, logger), logger),
      graph: new GraphService(db, config),
    };
  }
  return runtime;
}
