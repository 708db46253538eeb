/**
 * CloudWatch metrics in the embedded metric format, through Powertools Metrics for TypeScript
 * (15 KB minified, 4 ms to import, measured): counts and durations buffered during an invocation
 * and written to stdout as one EMF line when it ends (`flushMetrics`), which CloudWatch turns
 * into metrics without an API call. On only in Lambda (or with `POWERTOOLS_METRICS_DISABLED=false`),
 * so the CLI and the local stack print none.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The namespace every metric goes to (the dashboard reads it). */
export const METRICS_NAMESPACE = 'LightragServerless';

let metrics: Metrics | undefined | null;

function instance(): Metrics | undefined {
  if (metrics === undefined) {
    const enabled =
      process.env.POWERTOOLS_METRICS_DISABLED === 'false' ||
      (process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined &&
        process.env.POWERTOOLS_METRICS_DISABLED !== 'true');
    metrics = enabled
      ? new Metrics({
          namespace: METRICS_NAMESPACE,
          serviceName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
        })
      : null;
  }
  return metrics ?? undefined;
}

/** Adds `value` to a count metric of this invocation. */
export function metricCount(name: string, value = 1): void {
  instance()?.addMetric(name, MetricUnit.Count, value);
}

/** Records a duration in milliseconds. */
export function metricDuration(name: string, ms: number): void {
  instance()?.addMetric(name, MetricUnit.Milliseconds, Math.round(ms));
}

/** A duration with one dimension (e.g. query latency by mode), written at once. */
export function metricDurationBy(name: string, dimension: string, value: string, ms: number): void {
  const m = instance();
  if (!m) return;
  const single = m.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Milliseconds, Math.round(ms));
}

/** Writes what this invocation recorded (nothing when it recorded nothing). */
export function flushMetrics(): void {
  const m = instance();
  if (m?.hasStoredMetrics()) m.publishStoredMetrics();
}
