/**
 * Helpers for the reliability suite: hostile-case expansion, database snapshots and the results
 * table. Simulated containers come from lib/local/simulated-container.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Database } from '../../lib/db/database.ts';

/** Expands the data file's markers: `$repeat` (long strings), `$nest` (deep objects), `$raw` (JSON escapes). */
export function expandBody(value: unknown, raws: string[] = []): unknown {
  if (Array.isArray(value)) return value.map((v) => expandBody(v, raws));
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('$repeat' in v) return String(v.$repeat).repeat(Number(v.times));
    if ('$nest' in v) {
      let nested: unknown = 'leaf';
      for (let i = 0; i < Number(v.$nest); i++) nested = { n: nested };
      return nested;
    }
    if ('$raw' in v) {
      raws.push(String(v.$raw));
      return `__RAW_${raws.length - 1}__`;
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandBody(x, raws)]));
  }
  return value;
}

/** The JSON text for a case's body, with `$raw` strings inserted unescaped (lone surrogates). */
export function bodyText(body: unknown): string {
  const raws: string[] = [];
  let text = JSON.stringify(expandBody(body, raws));
  raws.forEach((raw, i) => {
    text = text.replace(`"__RAW_${i}__"`, `"${raw}"`);
  });
  return text;
}

const TABLES = [
  'lightrag_doc_full',
  'lightrag_doc_chunks',
  'lightrag_doc_status',
  'lightrag_llm_cache',
];

/** Row counts of every table (and every vector table), to prove a refused input changed nothing. */
export async function snapshot(db: Database): Promise<string> {
  const { rows } = await db.query<{ relname: string }>(
    "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'lightrag_%' ORDER BY relname",
  );
  const names = rows
    .map((r) => r.relname)
    .filter((n) => TABLES.includes(n) || n.startsWith('lightrag_vdb_'));
  const counts = await db.query(
    `SELECT ${names.map((n) => `(SELECT count(*) FROM ${n})::int AS ${n}`).join(', ')}`,
  );
  return JSON.stringify(counts.rows[0]);
}

export interface ReportRow {
  scenario: string;
  inputs: string;
  outcome: string;
  sent?: number;
  processed?: number;
  failed?: number;
  dlq?: number;
}

/** Collects the rows and writes docs/RELIABILITY.md (and prints it). */
export class Report {
  readonly rows: ReportRow[] = [];
  readonly hostile: Array<{
    id: string;
    via: string;
    name: string;
    expected: string;
    outcome: string;
  }> = [];

  add(row: ReportRow): void {
    this.rows.push(row);
  }

  write(path: string, header: string): string {
    const cell = (v: unknown) =>
      String(v ?? '')
        .replaceAll('|', '\\|')
        .replaceAll('\n', ' ');
    const lines = [
      '# Reliability suite results',
      '',
      header,
      '',
      '## Faults and load',
      '',
      'Accounting for every scenario: messages sent = documents processed + documents failed with a reason + messages in the DLQ.',
      '',
      '| scenario | inputs | outcome | sent | processed | failed | DLQ |',
      '|---|---|---|---|---|---|---|',
      ...this.rows.map(
        (r) =>
          `| ${cell(r.scenario)} | ${cell(r.inputs)} | ${cell(r.outcome)} | ${cell(r.sent)} | ${cell(r.processed)} | ${cell(r.failed)} | ${cell(r.dlq)} |`,
      ),
      '',
      `## Hostile input (${this.hostile.length} cases, test/reliability/hostile-cases.json)`,
      '',
      '| id | via | input | expected | outcome |',
      '|---|---|---|---|---|',
      ...this.hostile.map(
        (h) =>
          `| ${h.id} | ${h.via} | ${cell(h.name)} | ${cell(h.expected)} | ${cell(h.outcome)} |`,
      ),
      '',
    ];
    const text = lines.join('\n');
    mkdirSync(path.replace(/\/[^/]+$/, ''), { recursive: true });
    writeFileSync(path, text);
    return text;
  }
}
