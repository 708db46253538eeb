/**
 * The graph-reading API shared by the HTTP routes and the CLI, served as `GET /graph`,
 * `GET /graph/labels/popular` and `GET /graph/labels/search` (what LightRAG 1.5 calls
 * `/graphs`, `/graph/label/popular` and `/graph/label/search`), with its parameters and limits.
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
import { GraphStorage } from '../storage/graph.ts';
import { type KnowledgeGraph, MAX_GRAPH_NODES } from '../storage/graph-explore.ts';
import { ensureSchema } from '../storage/schema.ts';

/** `GET /graph`'s parameters: the start label, the depth and the node limit. */
export interface KnowledgeGraphParams {
  label?: string;
  maxDepth?: number;
  maxNodes?: number;
}

export class GraphService {
  readonly #db: Database;
  readonly #config: Config;

  constructor(db: Database, config: Config) {
    this.#db = db;
    this.#config = config;
  }

  async #graph(workspace: string): Promise<GraphStorage> {
    await ensureSchema(this.#db, this.#config.vector);
    return new GraphStorage(this.#db, workspace);
  }

  /**
   * The subgraph around `label` ("*" for the highest-degree nodes).
   *
   * @example
   * ```ts
   * await service.knowledgeGraph('default', { label: 'Ada Lovelace', maxDepth: 2, maxNodes: 200 });
   * ```
   */
  async knowledgeGraph(workspace: string, params: KnowledgeGraphParams): Promise<KnowledgeGraph> {
    const label = params.label?.trim();
    if (!label) {
      throw new ValidationError(
        '"label" is required: a node name, or "*" for the most connected nodes.',
        {
          field: 'label',
        },
      );
    }
    return (await this.#graph(workspace)).getKnowledgeGraph(label, {
      maxDepth: params.maxDepth ?? 3,
      maxNodes: params.maxNodes ?? MAX_GRAPH_NODES,
    });
  }

  /** Every entity name of the workspace, sorted (LightRAG's `GET /graph/label/list`). */
  async allLabels(workspace: string): Promise<string[]> {
    return (await this.#graph(workspace)).getAllLabels();
  }

  /** Whether an entity of exactly this name is in the graph (LightRAG's `GET /graph/entity/exists`). */
  async entityExists(workspace: string, name: string | undefined): Promise<boolean> {
    if (!name?.trim())
      throw new ValidationError('"name" is required: the entity name to look up.', {
        field: 'name',
      });
    return (await this.#graph(workspace)).hasNode(name);
  }

  async popularLabels(workspace: string, limit = 300): Promise<string[]> {
    return (await this.#graph(workspace)).getPopularLabels(limit);
  }

  async searchLabels(workspace: string, query: string | undefined, limit = 50): Promise<string[]> {
    if (query === undefined) throw new ValidationError('"q" is required.', { field: 'q' });
    return (await this.#graph(workspace)).searchLabels(query, limit);
  }
}
