// How per-stream recorders hand samples out: the metric, when, the value and the tags already
// serialised as JSON text (serialising once per stream instead of once per sample is what keeps
// the Node engine's per-token cost low). The Node engine writes them as NDJSON; the k6 scenarios
// turn them into k6 custom metrics.

import type { MetricName } from '../../core/metrics.js';

export type Emit = (metric: MetricName, timeMs: number, value: number, tagsJsonText: string) => void;
