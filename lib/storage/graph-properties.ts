/**
 * Node and edge properties as LightRAG stores them (JSONB), decoded once when read so the rest
 * of the code works with types instead of coercing `unknown` at every use. Keys another writer
 * added (LightRAG's `truncate`, say) are kept and absent fields stay absent, so the graph routes
 * show what is stored; a merge writes the element's properties whole, as LightRAG's does. A value
 * of the wrong type is converted (`"2.0"` → 2; unusable → `''` / 0); a JSONB value that is not an
 * object (or a JSON string of one) reads as no properties.
 */

/** A node's or edge's properties as stored (LightRAG's JSON). */
export type GraphProperties = Record<string, unknown>;

/** An entity node's properties; a field another writer left out stays absent. */
export interface EntityProperties extends GraphProperties {
  entity_id?: string;
  entity_type?: string;
  description?: string;
  /** Source chunk ids joined with `<SEP>`. */
  source_id?: string;
  /** File paths joined with `<SEP>`. */
  file_path?: string;
  /** Unix seconds of the last merge. */
  created_at?: number;
}

/** A relation edge's properties; a field another writer left out stays absent. */
export interface RelationProperties extends GraphProperties {
  weight?: number;
  /** Comma-separated. */
  keywords?: string;
  description?: string;
  source_id?: string;
  file_path?: string;
  created_at?: number;
}

function object(raw: unknown): GraphProperties {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return {};
    }
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as GraphProperties)
    : {};
}

const text = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : '';

function number(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : 0;
  return Number.isFinite(n) ? n : 0;
}

/** The known keys present in `p`, each as its type (the rest of `p` kept as it is). */
function typed<T extends GraphProperties>(
  p: GraphProperties,
  kinds: Record<string, 'text' | 'number'>,
): T {
  const out: GraphProperties = { ...p };
  for (const [key, kind] of Object.entries(kinds)) {
    if (!(key in p) || p[key] === null || p[key] === undefined) {
      delete out[key];
      continue;
    }
    out[key] = kind === 'text' ? text(p[key]) : number(p[key]);
  }
  return out as T;
}

/**
 * @example
 * ```ts
 * decodeEntity({ entity_type: 'person', created_at: '1700000000' }).created_at; // 1700000000
 * ```
 */
export function decodeEntity(raw: unknown): EntityProperties {
  return typed(object(raw), {
    entity_id: 'text',
    entity_type: 'text',
    description: 'text',
    source_id: 'text',
    file_path: 'text',
    created_at: 'number',
  });
}

/** @example decodeRelation({ weight: '2.0', keywords: 'design' }).weight; // 2 */
export function decodeRelation(raw: unknown): RelationProperties {
  return typed(object(raw), {
    weight: 'number',
    keywords: 'text',
    description: 'text',
    source_id: 'text',
    file_path: 'text',
    created_at: 'number',
  });
}
