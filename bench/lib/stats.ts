/** Timing helpers: percentiles over samples in milliseconds. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summary(samples: readonly number[]) {
  return {
    n: samples.length,
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    p99: round(percentile(samples, 99)),
    mean: round(samples.reduce((a, b) => a + b, 0) / samples.length),
  };
}

export const round = (n: number, digits = 3) => Number(n.toFixed(digits));

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Deterministic pseudo-random numbers (benchmarks repeatable run to run). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Unit vectors around `clusters` random centres: realistic for embeddings (topics) and fair to
 * HNSW, unlike uniform noise in high dimensions.
 */
export function clusteredVectors(count: number, dim: number, seed = 7, clusters = 100): number[][] {
  const random = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, gauss));
  return Array.from({ length: count }, (_, i) => {
    const centre = centres[i % clusters]!;
    const v = centre.map((c) => c + 0.6 * gauss());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}
