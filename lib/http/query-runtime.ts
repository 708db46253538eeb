/** The query function's container state: retrieval and answers, and the graph reads. */
import { type ContainerBase, containerRuntime } from '../container.ts';
import { createEmbedder } from '../embedding/index.ts';
import { GraphService } from '../graph/service.ts';
import { createLlm } from '../llm/index.ts';
import { QueryEngine } from '../query/engine.ts';

/** What the query and stream functions keep in their container. */
export interface QueryRuntime extends ContainerBase {
  engine: QueryEngine;
  graph: GraphService;
}

export const getQueryRuntime: () => QueryRuntime = containerRuntime(({ config, db, logger }) => ({
  engine: new QueryEngine(
    db,
    config,
    createEmbedder(config, logger),
    createLlm(config.llm, logger),
    logger,
  ),
  graph: new GraphService(db, config),
}));
