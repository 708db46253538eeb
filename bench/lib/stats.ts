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
 * Unit vectors like real embeddings: points of a Gaussian mixture (`clusters` topics) in a
 * low-dimensional latent space (16), mapped into `dim` dimensions by a fixed random projection.
 * Real embeddings have low intrinsic dimension; isotropic noise in all dimensions would make
 * every neighbour nearly equidistant, which no real corpus looks like.
 */
export function clusteredVectors(
  count: number,
  dim: number,
  seed = 7,
  clusters = 100,
  latent = 16,
): number[][] {
  const random = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const projection = Array.from({ length: dim }, () => Array.from({ length: latent }, gauss));
  const centres = Array.from({ length: clusters }, () =>
    Array.from({ length: latent }, () => 3 * gauss()),
  );
  return Array.from({ length: count }, () => {
    const centre = centres[Math.floor(random() * clusters)]!;
    const z = centre.map((c) => c + gauss());
    const v = projection.map((row) => row.reduce((sum, w, k) => sum + w * z[k]!, 0));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}
