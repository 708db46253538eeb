/**
 * Password hashes for `AUTH_ACCOUNTS`: scrypt (node:crypto; memory-hard, no native addon), stored
 * as `scrypt$N$r$p$salt$hash` (base64url), so the parameters can be raised later without
 * invalidating stored hashes.
 *
 * @example
 * ```ts
 * const stored = await hashPassword('correct horse battery staple');
 * await verifyPassword('correct horse battery staple', stored); // true
 * ```
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** 2^15 × 8 × 128 B = 32 MiB and ~50 ms per hash: slow for guessing, fine for a login. */
const COST = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;
/** Longer passwords are refused before hashing (hashing is the expensive part). */
export const MAX_PASSWORD_LENGTH = 1024;

function derive(
  password: string,
  salt: Buffer,
  cost: { N: number; r: number; p: number },
  length: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, { ...cost, maxmem: 256 * cost.N * cost.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** A new salted hash of `password`, in the form `AUTH_ACCOUNTS` stores. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST, KEY_BYTES);
  return [
    'scrypt',
    COST.N,
    COST.r,
    COST.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

/** Parameters of a stored hash, or undefined when it is not one of ours. */
function parse(stored: string) {
  const [kind, n, r, p, salt, key] = stored.split('$');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (kind !== 'scrypt' || !salt || !key) return undefined;
  // Bounds keep a hand-edited hash from asking for gigabytes.
  if (!Number.isInteger(Math.log2(cost.N)) || cost.N < 2 ** 10 || cost.N > 2 ** 20)
    return undefined;
  if (!(cost.r >= 1 && cost.r <= 32 && cost.p >= 1 && cost.p <= 4)) return undefined;
  return { cost, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') };
}

/** Whether `stored` is a hash `verifyPassword` can check. */
export function isPasswordHash(stored: string): boolean {
  return parse(stored) !== undefined;
}

/** Whether `password` matches `stored`, compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed || password.length > MAX_PASSWORD_LENGTH) return false;
  const key = await derive(password, parsed.salt, parsed.cost, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}
