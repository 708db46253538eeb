/**
 * Bringing contended graph elements up to date. A document's merge never waits for a hot entity:
 * under its locks it appends fragments and chunk links with the LLM-free merge rules and marks
 * the element due (lib/graph/merge.ts). Here one writer at a time per element — the holder of
 * its lease (lib/storage/graph-upkeep.ts) — summarises the fragments when LightRAG would
 * (FORCE_LLM_SUMMARY_ON_MERGE / SUMMARY_MAX_TOKENS), embeds the new text, and writes both in a
 * short transaction where the summary replaces the fragments it stands for and anything
 * appended meanwhile stays after it. So a hub hit by 500 documents at once is summarised a
 * handful of times — each time over everything that arrived while the last summary ran — and
 * never by two writers at once; no lock or connection is held across the LLM or embedding call.
 */
import { randomUUID } from 'node:crypto';
import { withConflictRetry } from '../db/conflicts.ts';
import type { Database } from '../db/database.ts';
import { lockEntities } from '../db/locks.ts';
import { GRAPH_FIELD_SEP } from '../lightrag-constants.ts';
import { errorFields, type Logger } from '../logger.ts';
import type { EntityProperties, RelationProperties } from '../storage/graph.ts';
import { type UpkeepElement, upkeepKey } from '../storage/graph-upkeep.ts';
import type { Storages } from '../storage/index.ts';
import {
  entityContent,
  entityVectorId,
  type GraphMerger,
  type PlannedSummary,
  relationContent,
  relationVectorIds,
  withSummary,
} from './merge.ts';
import { splitField } from './merge-rules.ts';

/** How long an upkeep lease lasts; renewed every round, so only a crashed holder lets it lapse. */
export const UPKEEP_LEASE_SECONDS = 120;

/** What a round of graph upkeep did. */
export interface UpkeepStats {
  /** Elements brought up to date (nothing left due). */
  settled: number;
  /** Elements another holder was already working on. */
  busy: number;
  /** Elements still due when the deadline came (the next sweep takes them). */
  left: number;
  summaries: number;
  failed: number;
}

/** Adds `more` into `into` (a sweep after a refresh; sweeps in a row). */
export function addUpkeepStats(into: UpkeepStats, more: UpkeepStats): UpkeepStats {
  for (const k of Object.keys(into) as Array<keyof UpkeepStats>) into[k] += more[k];
  return into;
}

/** When graph upkeep must stop starting rounds. */
export interface UpkeepOptions {
  /** Epoch ms after which no new round starts (the invocation's remaining time). */
  deadline?: number;
}

type Stored = EntityProperties | RelationProperties;

export class GraphUpkeep {
  readonly #db: Database;
  readonly #merger: GraphMerger;
  readonly #log: Logger | undefined;

  constructor(db: Database, merger: GraphMerger, logger?: Logger) {
    this.#db = db;
    this.#merger = merger;
    this.#log = logger;
  }

  /**
   * Brings `elements` up to date, one at a time, each under its lease. Elements another holder
   * works on are left to it (it loops until nothing is due).
   *
   * @example
   * ```ts
   * const { due } = await db.withTransaction((tx) => merger.apply(tx, s, plan));
   * await upkeep.refresh(s, due, { deadline: Date.now() + context.getRemainingTimeInMillis() - 5000 });
   * ```
   */
  async refresh(
    s: Storages,
    elements: readonly UpkeepElement[],
    options: UpkeepOptions = {},
  ): Promise<UpkeepStats> {
    const stats: UpkeepStats = { settled: 0, busy: 0, left: 0, summaries: 0, failed: 0 };
    const owner = randomUUID();
    const unique = new Map(elements.map((e) => [upkeepKey(e), e]));
    for (const element of unique.values()) {
      try {
        const outcome = await this.#refreshOne(s, element, owner, options.deadline, stats);
        stats[outcome]++;
      } catch (err) {
        stats.failed++;
        await s.graphUpkeep.release(element, owner).catch(() => undefined);
        // The element stays due: the next sweep tries again.
        this.#log?.warn('graph upkeep failed; the element stays due', {
          element: `${element.source}${element.target ? ` - ${element.target}` : ''}`,
          ...errorFields(err),
        });
      }
    }
    return stats;
  }

  /** Due elements of the workspace that nobody holds (a crashed holder's, or left at a deadline). */
  async sweep(s: Storages, options: UpkeepOptions & { limit?: number } = {}) {
    return this.refresh(s, await s.graphUpkeep.due(options.limit ?? 50), options);
  }

  async #refreshOne(
    s: Storages,
    element: UpkeepElement,
    owner: string,
    deadline: number | undefined,
    stats: UpkeepStats,
  ): Promise<'settled' | 'busy' | 'left'> {
    const summarizer = this.#merger.summarizer;
    for (;;) {
      if (!(await s.graphUpkeep.claim(element, owner, UPKEEP_LEASE_SECONDS))) return 'busy';
      const current = await read(s, element);
      let summary: PlannedSummary | undefined;
      let content: string | undefined;
      let vector: number[] | undefined;
      if (current) {
        const fragments = splitField(current.description);
        if (await summarizer.needsSummary(fragments)) {
          const text = await summarizer.summarize(
            s.llmCache,
            element.kind,
            label(element),
            fragments,
          );
          summary = { covers: fragments, text };
          stats.summaries++;
        }
        content = contentOf(element, current, summary?.text ?? current.description ?? '');
        [vector] = await s.entitiesVdb.embedder.embed([content]);
      }
      const due = await withConflictRetry(this.#db, async (tx) => {
        await lockEntities(tx, s.workspace, ends(element));
        const t = s.in(tx);
        const now = await read(t, element);
        if (!now || !vector) {
          await t.graphUpkeep.settle(element, owner, false);
          return false;
        }
        const merged = withSummary(splitField(now.description), summary);
        const description = merged.fragments.join(GRAPH_FIELD_SEP);
        const nowContent = contentOf(element, now, description);
        await write(t, element, now, description, nowContent, vector);
        const stillDue =
          nowContent !== content || (await summarizer.needsSummary(merged.fragments));
        await t.graphUpkeep.settle(element, owner, stillDue);
        return stillDue;
      });
      if (!due) return 'settled';
      if (deadline !== undefined && Date.now() >= deadline) return 'left';
    }
  }
}

const label = (e: UpkeepElement) => (e.kind === 'entity' ? e.source : `${e.source} - ${e.target}`);
const ends = (e: UpkeepElement) => (e.kind === 'entity' ? [e.source] : [e.source, e.target]);

async function read(s: Storages, e: UpkeepElement): Promise<Stored | null> {
  return e.kind === 'entity' ? s.graph.getNode(e.source) : s.graph.getEdge(e.source, e.target);
}

function contentOf(e: UpkeepElement, stored: Stored, description: string): string {
  if (e.kind === 'entity') return entityContent({ id: e.source, properties: { description } });
  const keywords = (stored as RelationProperties).keywords ?? '';
  return relationContent({ pair: [e.source, e.target], properties: { keywords, description } });
}

/** The element's new description and its vector row (the rest of its properties as stored). */
async function write(
  t: Storages,
  e: UpkeepElement,
  stored: Stored,
  description: string,
  content: string,
  vector: number[],
): Promise<void> {
  const properties = { ...stored, description };
  if (e.kind === 'entity') {
    await t.graph.upsertNodes([{ id: e.source, properties }]);
    await t.entitiesVdb.upsert([
      {
        id: entityVectorId(e.source),
        entity_name: e.source,
        content,
        source_id: stored.source_id ?? '',
        file_path: stored.file_path ?? '',
        vector,
      },
    ]);
    return;
  }
  await t.graph.upsertEdges([{ source: e.source, target: e.target, properties }]);
  await t.relationshipsVdb.upsert([
    {
      id: relationVectorIds(e.source, e.target).id,
      src_id: e.source,
      tgt_id: e.target,
      content,
      source_id: stored.source_id ?? '',
      file_path: stored.file_path ?? '',
      vector,
    },
  ]);
}
