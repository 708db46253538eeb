/**
 * Identity of graph elements: node ids, and the one stored form of an undirected edge (its ends
 * in Unicode code-point order, computed here because database collations disagree on non-ASCII
 * names).
 */
import { ValidationError } from '../errors.ts';

/** LightRAG truncates entity names to 256 characters; ids here allow the column's 512. */
export const MAX_NODE_ID_LENGTH = 512;

/**
 * Compares strings by Unicode code point (UTF-16 `<` puts astral characters before U+E000–U+FFFF;
 * code-point order, like PostgreSQL's "C" collation on UTF-8, puts them after).
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const surrogateX = x >= 0xd800 && x <= 0xdfff;
    const surrogateY = y >= 0xd800 && y <= 0xdfff;
    if (surrogateX !== surrogateY) return surrogateX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** The stored form of an undirected edge: its ends in code-point order. */
export function canonicalEdge(a: string, b: string): [string, string] {
  return compareCodePoints(a, b) <= 0 ? [a, b] : [b, a];
}

/** A map key for an undirected edge (same for both directions). */
export function edgeKey(a: string, b: string): string {
  const [x, y] = canonicalEdge(a, b);
  return `${x}\u0000${y}`;
}

export function checkNodeId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_NODE_ID_LENGTH) {
    throw new ValidationError(
      `Graph node ids are non-empty strings of at most ${MAX_NODE_ID_LENGTH} characters, got ${JSON.stringify(typeof id === 'string' ? id.slice(0, 80) : id)}.`,
      { field: 'id' },
    );
  }
  if (id.includes('\u0000')) throw new ValidationError('Graph node ids cannot contain NUL.');
  return id;
}

export function checkPair(a: unknown, b: unknown): [string, string] {
  const x = checkNodeId(a);
  const y = checkNodeId(b);
  if (x === y) throw new ValidationError(`An edge needs two different nodes, got ${x} twice.`);
  return canonicalEdge(x, y);
}
