/**
 * Text rules shared by every storage. Postgres TEXT and JSONB cannot hold NUL (U+0000), and
 * JSONB rejects lone UTF-16 surrogates; both are defined here once instead of failing in SQL.
 */
import { createHash } from 'node:crypto';

/**
 * Makes a string storable: lone surrogates become U+FFFD and NUL characters are removed.
 *
 * @example
 * ```ts
 * sanitizeText('a\u0000b'); // 'ab'
 * ```
 */
export function sanitizeText(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '') : wellFormed;
}

/** {@link sanitizeText} for an optional column value: null and undefined become SQL NULL. */
export function sanitizeOptional(text: string | null | undefined): string | null {
  return text === null || text === undefined ? null : sanitizeText(text);
}

/** {@link sanitizeText} applied to every string (keys included) inside a JSON-like value. */
export function sanitizeJson(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeText(value);
  if (Array.isArray(value)) return value.map(sanitizeJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [sanitizeText(k), sanitizeJson(v)]),
    );
  }
  return value;
}

/** JSON text for a JSONB parameter, sanitised; undefined and null become SQL NULL. */
export function toJsonParam(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(sanitizeJson(value));
}

/** Hex md5, as LightRAG's `compute_mdhash_id` uses. */
export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** LightRAG's id: `prefix` + md5 of the text. */
export function computeMdhashId(text: string, prefix = ''): string {
  return prefix + md5(text);
}

/**
 * LightRAG's content document id (≤ 1.4, and 1.5 for a document without a file name): `doc-` +
 * md5 of the content with NUL and surrounding whitespace removed. lib/ids.ts picks the rule.
 */
export function documentId(content: string): string {
  return computeMdhashId(sanitizeText(content).trim(), 'doc-');
}
