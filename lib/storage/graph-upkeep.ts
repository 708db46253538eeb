/**
 * Graph elements whose description summary or vector is due (this project's own table; LightRAG
 * never reads it). A document's merge is applied under short per-entity locks without any LLM or
 * embedding call, so when other writers got to an element first, the element is written with its
 * fragments appended and marked here; one writer at a time — the holder of the element's lease —
 * then brings its summary and vector up to date (lib/graph/upkeep.ts). A lease expires, so a
 * crashed holder delays the work, never loses it.
 */

import type { Queryable } from '../db/database.ts';
import { TABLES } from './tables.ts';
import { WorkspaceBound } from './workspace-bound.ts';

/** An entity (`target` empty) or an undirected relation, ends in canonical order. */
export interface UpkeepElement {
  kind: 'entity' | 'relation';
  source: string;
  target: string;
}

const TABLE = TABLES.graphUpkeep;

export const upkeepKey = (e: UpkeepElement) => `${e.kind}\u0000${e.source}\u0000${e.target}`;

export class GraphUpkeepStorage extends WorkspaceBound {
  /** Marks elements due (kept due if they already are). Call under their entity locks. */
  async markDue(marked: readonly UpkeepElement[]): Promise<void> {
    // One row per element: ON CONFLICT cannot update a row twice in one statement.
    const elements = [...new Map(marked.map((e) => [upkeepKey(e), e])).values()];
    if (elements.length === 0) return;
    await this.q.query(
      `INSERT INTO ${TABLE} (workspace, kind, source, target, due_at)
       SELECT $1, k, s, t, now() FROM unnest($2::text[], $3::text[], $4::text[]) AS e(k, s, t)
        ORDER BY k, s, t
       ON CONFLICT (workspace, kind, source, target)
       DO UPDATE SET due_at = coalesce(${TABLE}.due_at, now())`,
      [
        this.workspace,
        elements.map((e) => e.kind),
        elements.map((e) => e.source),
        elements.map((e) => e.target),
      ],
    );
  }

  /**
   * Takes the element's lease for `ttlSeconds` unless another owner holds an unexpired one.
   * Autocommit (never in a transaction held across the work it guards). Returns whether taken.
   */
  async claim(element: UpkeepElement, owner: string, ttlSeconds: number): Promise<boolean> {
    const { rows } = await this.q.query(
      `INSERT INTO ${TABLE} AS u (workspace, kind, source, target, lease_owner, lease_until)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
       ON CONFLICT (workspace, kind, source, target) DO UPDATE
         SET lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until
       WHERE u.lease_owner IS NULL OR u.lease_owner = EXCLUDED.lease_owner
          OR u.lease_until < now()
       RETURNING 1`,
      [this.workspace, element.kind, element.source, element.target, owner, ttlSeconds],
    );
    return rows.length > 0;
  }

  /**
   * Ends `owner`'s lease on the element: the row goes when the element is no longer due,
   * otherwise it stays due with its lease freed. Call under the element's entity locks, in the
   * transaction that wrote the element, so no mark can slip in between.
   */
  async settle(element: UpkeepElement, owner: string, due: boolean): Promise<void> {
    const args = [this.workspace, element.kind, element.source, element.target, owner];
    const mine = `workspace = $1 AND kind = $2 AND source = $3 AND target = $4
      AND (lease_owner IS NULL OR lease_owner = $5 OR lease_until < now())`;
    if (due) {
      await this.q.query(
        `UPDATE ${TABLE} SET lease_owner = NULL, lease_until = NULL, due_at = coalesce(due_at, now())
          WHERE ${mine}`,
        args,
      );
    } else {
      await this.q.query(`DELETE FROM ${TABLE} WHERE ${mine}`, args);
    }
  }

  /** Frees `owner`'s lease without touching the due mark (a failed attempt). */
  async release(element: UpkeepElement, owner: string): Promise<void> {
    await this.q.query(
      `UPDATE ${TABLE} SET lease_owner = NULL, lease_until = NULL
        WHERE workspace = $1 AND kind = $2 AND source = $3 AND target = $4 AND lease_owner = $5`,
      [this.workspace, element.kind, element.source, element.target, owner],
    );
  }

  /** Due elements nobody holds a live lease on, oldest first. */
  async due(limit: number): Promise<UpkeepElement[]> {
    const { rows } = await this.q.query(
      `SELECT kind, source, target FROM ${TABLE}
        WHERE workspace = $1 AND due_at IS NOT NULL
          AND (lease_owner IS NULL OR lease_until < now())
        ORDER BY due_at LIMIT $2`,
      [this.workspace, limit],
    );
    return rows.map((r) => ({
      kind: r.kind as UpkeepElement['kind'],
      source: r.source as string,
      target: r.target as string,
    }));
  }

  /** How many elements are due, leased or not (operations: `doctor`, the benchmark). */
  async countDue(): Promise<number> {
    const { rows } = await this.q.query(
      `SELECT count(*)::int AS n FROM ${TABLE} WHERE workspace = $1 AND due_at IS NOT NULL`,
      [this.workspace],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Forgets elements that no longer exist (a deletion removed them). */
  async forget(elements: readonly UpkeepElement[]): Promise<void> {
    if (elements.length === 0) return;
    await this.q.query(
      `DELETE FROM ${TABLE} WHERE workspace = $1
         AND (kind, source, target) IN (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))`,
      [
        this.workspace,
        elements.map((e) => e.kind),
        elements.map((e) => e.source),
        elements.map((e) => e.target),
      ],
    );
  }

  /** Forgets every due element of the workspace (the workspace was cleared). */
  async drop(): Promise<void> {
    await this.q.query(`DELETE FROM ${TABLE} WHERE workspace = $1`, [this.workspace]);
  }
}

/** Due elements per workspace, and how long the oldest has waited (doctor, `upkeep`). */
export async function dueByWorkspace(
  q: Queryable,
): Promise<Array<{ workspace: string; due: number; oldestSeconds: number }>> {
  const { rows } = await q.query(
    `SELECT workspace, count(*)::int AS due,
            floor(extract(epoch FROM now() - min(due_at)))::int AS oldest
       FROM ${TABLE} WHERE due_at IS NOT NULL GROUP BY workspace ORDER BY workspace`,
  );
  return rows.map((r) => ({
    workspace: r.workspace as string,
    due: Number(r.due),
    oldestSeconds: Number(r.oldest),
  }));
}
