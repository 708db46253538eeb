/**
 * Turning an extraction reply into entity and relation records, with LightRAG's parser rules:
 * wrong field count or prefix, empty name/type/description, a type holding ' ( ) < > | / \ or
 * a comma-list, a self-relation, and names that are only digits (< 3) or digits and dots (< 6)
 * are dropped. Names are normalised (tags, outer quotes, full-width forms, CJK spacing) with
 * their case preserved.
 */

import { parseJsonObjectLoosely } from '../json-fields.ts';
import { canonicalEdge } from '../storage/graph-keys.ts';
import { sanitizeText } from '../text.ts';
import { COMPLETION_DELIMITER, TUPLE_DELIMITER } from './prompts.ts';

/** LightRAG's caps per reply. */
export const MAX_EXTRACTION_RECORDS = 100;
export const MAX_EXTRACTION_ENTITIES = 40;
/**
 * LightRAG truncates names at 256 characters; 253 keeps a relation's RELATION_CHUNKS key
 * (`a<SEP>b`) within that table's VARCHAR(512).
 */
export const MAX_ENTITY_NAME_LENGTH = 253;

/** An entity as the LLM extracted it from one chunk. */
export interface EntityRecord {
  name: string;
  type: string;
  description: string;
}
/** A relation as the LLM extracted it from one chunk. */
export interface RelationRecord {
  source: string;
  target: string;
  keywords: string;
  description: string;
  /** LightRAG's newest format has no strength field: every record weighs 1. */
  weight: number;
}
/** The entities and relations of one extraction reply. */
export interface Extraction {
  entities: EntityRecord[];
  relations: RelationRecord[];
}

const CJK = '\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uac00-\\ud7af';
const CJK_SPACE = new RegExp(`(?<=[${CJK}])\\s+(?=[${CJK}])`, 'g');
const OUTER_QUOTES = /^["'“”‘’「」『』`]+|["'“”‘’「」『』`]+$/g;

/** Full-width ASCII forms and the ideographic space to their half-width equivalents. */
function toHalfWidth(text: string): string {
  return text
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ');
}

/** Cleans a field: NUL and lone surrogates, HTML-like tags, outer quotes, runs of whitespace. */
function cleanField(text: string): string {
  return sanitizeText(text)
    .replace(/<\/?[A-Za-z][^<>]*>/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(OUTER_QUOTES, '')
    .trim();
}

/** LightRAG's entity-name normalisation; case is preserved. Empty when nothing usable is left. */
export function normalizeEntityName(raw: string): string {
  const name = toHalfWidth(cleanField(raw)).replace(CJK_SPACE, '').replace(OUTER_QUOTES, '').trim();
  return Array.from(name).slice(0, MAX_ENTITY_NAME_LENGTH).join('').trim();
}

/** Names LightRAG refuses: all digits shorter than 3, digits and dots shorter than 6. */
export function isUsableName(name: string): boolean {
  if (name === '') return false;
  if (/^\d+$/.test(name) && name.length < 3) return false;
  if (/^[\d.]+$/.test(name) && name.includes('.') && name.length < 6) return false;
  return true;
}

/** First token before a comma, spaces removed, lower-cased; empty when it holds a forbidden character. */
export function normalizeEntityType(raw: string): string {
  const type = cleanField(raw).split(/[,，]/)[0]!.replace(/\s+/g, '').toLowerCase();
  return /['()<>|/\\]/.test(type) ? '' : type;
}

function normalizeKeywords(raw: string): string {
  return cleanField(raw)
    .split(/[,，、;；]/)
    .map((k) => k.trim())
    .filter(Boolean)
    .join(',');
}

function entity(name: string, type: string, description: string): EntityRecord | undefined {
  const n = normalizeEntityName(name);
  const t = normalizeEntityType(type);
  const d = cleanField(description);
  if (!isUsableName(n) || t === '' || d === '') return undefined;
  return { name: n, type: t, description: d };
}

function relation(
  source: string,
  target: string,
  keywords: string,
  description: string,
): RelationRecord | undefined {
  const s = normalizeEntityName(source);
  const t = normalizeEntityName(target);
  const d = cleanField(description);
  if (!isUsableName(s) || !isUsableName(t) || s === t || d === '') return undefined;
  return { source: s, target: t, keywords: normalizeKeywords(keywords), description: d, weight: 1 };
}

/** Applies the per-reply caps: records beyond 100, entities beyond 40 are dropped. */
function capped(entities: EntityRecord[], relations: RelationRecord[]): Extraction {
  const e = entities.slice(0, MAX_EXTRACTION_ENTITIES);
  const r = relations.slice(0, Math.max(0, MAX_EXTRACTION_RECORDS - e.length));
  return { entities: e, relations: r };
}

/** Parses the `<|#|>` record format (older `<|>` tuples and `##` record separators accepted). */
export function parseRecords(reply: string): Extraction {
  const entities: EntityRecord[] = [];
  const relations: RelationRecord[] = [];
  const body = reply.split(COMPLETION_DELIMITER)[0] ?? '';
  for (const line of body.split(/\n|##/)) {
    let text = line.trim();
    if (text === '') continue;
    if (text.startsWith('(') && text.endsWith(')')) text = text.slice(1, -1);
    const fields = text.split(text.includes(TUPLE_DELIMITER) ? TUPLE_DELIMITER : '<|>');
    const kind = cleanField(fields[0] ?? '').toLowerCase();
    if (kind === 'entity' && fields.length === 4) {
      const e = entity(fields[1]!, fields[2]!, fields[3]!);
      if (e) entities.push(e);
    } else if ((kind === 'relation' || kind === 'relationship') && fields.length === 5) {
      const r = relation(fields[1]!, fields[2]!, fields[3]!, fields[4]!);
      if (r) relations.push(r);
    }
  }
  return capped(entities, relations);
}

/** Parses the JSON mode reply, tolerating code fences and text around the object. */
export function parseJsonExtraction(reply: string): Extraction | undefined {
  const obj = parseJsonObjectLoosely(reply);
  if (!obj) return undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
  const list = (v: unknown) => (Array.isArray(v) ? v : []) as Array<Record<string, unknown>>;
  const entities = list(obj.entities)
    .filter((e) => e && typeof e === 'object')
    .map((e) => entity(str(e.name), str(e.type), str(e.description)))
    .filter((e): e is EntityRecord => e !== undefined);
  const relations = list(obj.relationships ?? obj.relations)
    .filter((r) => r && typeof r === 'object')
    .map((r) =>
      relation(
        str(r.source),
        str(r.target),
        Array.isArray(r.keywords) ? r.keywords.map(str).join(',') : str(r.keywords),
        str(r.description),
      ),
    )
    .filter((r): r is RelationRecord => r !== undefined);
  return capped(entities, relations);
}

/**
 * Folds a gleaning pass into the first, as LightRAG does: every record of a pass is kept, also
 * when the reply lists an entity or a relation twice (they count twice in the type vote and the
 * weight, and both descriptions become fragments). Records are grouped by entity name and by
 * undirected relation; a gleaned group is added when new, and replaces the first pass's group
 * only when its first description is longer than the group's first.
 */
export function mergeGleaning(first: Extraction, gleaned: Extraction): Extraction {
  const relationKey = (r: RelationRecord) => canonicalEdge(r.source, r.target).join('\u0000');
  return {
    entities: foldGroups(first.entities, gleaned.entities, (e) => e.name),
    relations: foldGroups(first.relations, gleaned.relations, relationKey),
  };
}

function foldGroups<T extends { description: string }>(
  first: readonly T[],
  gleaned: readonly T[],
  key: (record: T) => string,
): T[] {
  const group = (records: readonly T[]) => {
    const groups = new Map<string, T[]>();
    for (const r of records) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
    return groups;
  };
  const groups = group(first);
  for (const [k, records] of group(gleaned)) {
    const old = groups.get(k);
    if (!old || records[0]!.description.length > old[0]!.description.length) groups.set(k, records);
  }
  return [...groups.values()].flat();
}
