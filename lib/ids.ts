/**
 * Document and chunk identity as LightRAG writes it (LIGHTRAG-1.5.md §4). LightRAG 1.5 names a
 * document by its file — `doc-` + md5(canonical basename) — and its chunks by position,
 * `{doc_id}-chunk-{NNN}`; a document without a file name keeps the content rule. LightRAG ≤ 1.4
 * named both by content (`doc-`/`chunk-` + md5), and both schemes live side by side in real
 * databases: ids are computed here only for what this project writes, and are opaque when read.
 */
import { randomUUID } from 'node:crypto';
import { computeMdhashId, documentId } from './text.ts';

/** Which LightRAG generation's rules new documents get (`LIGHTRAG_ID_RULES`). */
export const ID_RULES = ['1.5', '1.4'] as const;
/** Which LightRAG generation's id rules apply: 1.5 (file-path based) or 1.4 (content hashes). */
export type IdRules = (typeof ID_RULES)[number];

import { UNKNOWN_SOURCE } from './lightrag-constants.ts';

export { UNKNOWN_SOURCE } from './lightrag-constants.ts';

/**
 * Parser engines LightRAG 1.5 recognises in a `name.[engine-options].ext` hint; the hint is not
 * part of the document's name. An unknown `[xyz]` is kept.
 */
const PARSER_ENGINES = new Set(['legacy', 'native', 'mineru', 'docling', 'paddleocr_vl']);
const PARSER_HINT = /\.\[([^\]]*)\](\.[^.]+)$/;

/**
 * LightRAG 1.5's canonical file path: the POSIX basename (only `/` separates), a recognised
 * parser hint removed, surrounding whitespace stripped; empty, `no-file-path` and
 * `unknown_source` all become `unknown_source`.
 *
 * @example
 * ```ts
 * canonicalFilePath('reports/2026/q1.[mineru-Fi].pdf'); // 'q1.pdf'
 * canonicalFilePath('C:\\x\\a.pdf'); // 'C:\\x\\a.pdf' (backslashes do not separate)
 * ```
 */
export function canonicalFilePath(path: string | null | undefined): string {
  let name = (path ?? '').split('/').at(-1)!.trim();
  const hint = PARSER_HINT.exec(name);
  if (hint && PARSER_ENGINES.has(hint[1]!.trim().split('-', 1)[0]!.toLowerCase())) {
    name = `${name.slice(0, hint.index)}${hint[2]}`.trim();
  }
  return name === '' || name === 'no-file-path' || name === UNKNOWN_SOURCE ? UNKNOWN_SOURCE : name;
}

/** Whether a document has a real file name (not `unknown_source`). */
export function hasFileName(path: string | null | undefined): boolean {
  return canonicalFilePath(path) !== UNKNOWN_SOURCE;
}

/**
 * The id of a new document. 1.5: `doc-` + md5(canonical basename) when it has a file name, else
 * `doc-` + md5(cleaned content); 1.4: always the content rule.
 *
 * @example
 * ```ts
 * documentIdFor('hello', 'report.pdf', '1.5'); // 'doc-5c6813f49dfba292cc1008edce1c90e2'
 * ```
 */
export function documentIdFor(
  content: string,
  filePath: string | null | undefined,
  rules: IdRules,
): string {
  if (rules === '1.5' && hasFileName(filePath))
    return computeMdhashId(canonicalFilePath(filePath), 'doc-');
  return documentId(content);
}

/**
 * A chunk's id. 1.5: `{doc_id}-chunk-{order, at least 3 digits}`; 1.4: `chunk-` + md5(content)
 * (identical chunks of different documents then share a row).
 */
export function chunkIdFor(docId: string, order: number, content: string, rules: IdRules): string {
  return rules === '1.5'
    ? `${docId}-chunk-${String(order).padStart(3, '0')}`
    : computeMdhashId(content, 'chunk-');
}

/** The `file_path` stored for a document: 1.5 keeps the canonical basename, 1.4 the path as given. */
export function storedFilePath(path: string | null | undefined, rules: IdRules): string | null {
  if (rules === '1.5') return canonicalFilePath(path);
  return path ?? null;
}

/** LightRAG's duplicate marker row id: `dup-` + md5(`{doc_id}-{track_id}-{index}-{file_path}`). */
export function duplicateId(
  docId: string,
  trackId: string,
  index: number,
  filePath: string,
): string {
  return computeMdhashId(`${docId}-${trackId}-${index}-${filePath}`, 'dup-');
}

/** LightRAG's track id shape: `{prefix}_{YYYYMMDD_HHMMSS}_{8 hex}`. */
export function generateTrackId(prefix = 'insert', now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  return `${prefix}_${stamp}_${randomUUID().slice(0, 8)}`;
}
