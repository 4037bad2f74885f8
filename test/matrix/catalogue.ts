// The sensitivity matrix (docs/sensitivity-matrix.md): for each of the HA guides' mistakes (lab
// switches, src/lab/misconfig.ts) the built-in experiments that must catch it, the exit code they
// must give and what must name the cause (a failing SLO, a stop code, a diagnosis); and for the
// healthy lab every built-in experiment's documented outcome. Shared by the full matrix
// (`npm run test:matrix`) and the fast subset in the default suite.

export interface MatrixRow {
  /** `lab up --misconfig` value; `healthy` for none. */
  misconfig: string;
  experiment: string;
  /** Expected exit code. */
  exit: number;
  /**
   * What must name the cause, any of: `slo:<sloId>` (a failing SLO), `stop:<CODE>` (the early stop
   * or preflight error code), `diagnosis:<id>`, `recovery:never`.
   */
  caughtBy: string[];
  /** A shorter duration (`--duration`) for load-only experiments where the symptom shows early. */
  duration?: string;
  note?: string;
}

export const MATRIX: MatrixRow[] = [
  // Healthy lab: every built-in gives its documented outcome.
  { misconfig: 'healthy', experiment: 'failover', exit: 0, caughtBy: [] },
  { misconfig: 'healthy', experiment: 'replica-kill', exit: 0, caughtBy: [] },
  { misconfig: 'healthy', experiment: 'redis-latency', exit: 0, caughtBy: [] },
  { misconfig: 'healthy', experiment: 'llm-latency', exit: 0, caughtBy: [] },
  {
    misconfig: 'healthy',
    experiment: 'proxy-buffering',
    exit: 10,
    caughtBy: ['slo:burst_size:p95:api'],
    note: 'meant to fail in its fault phase (it switches buffering on)',
  },
  { misconfig: 'healthy', experiment: 'long-silence', exit: 0, caughtBy: [] },
  // The mistakes.
  {
    misconfig: 'buffering',
    experiment: 'failover',
    exit: 4,
    caughtBy: ['stop:STEADY_STATE_BROKEN', 'slo:burst_size:p95:api', 'diagnosis:proxy-buffering'],
  },
  {
    misconfig: 'no-upgrade-headers',
    experiment: 'failover',
    exit: 4,
    // Caught before any load by run's doctor preflight (websocket check); measured after the merge.
    caughtBy: ['stop:PREFLIGHT_CHECK_FAILED'],
  },
  {
    misconfig: 'cors-mismatch',
    experiment: 'failover',
    exit: 4,
    caughtBy: [
      'stop:STEADY_STATE_BROKEN',
      'slo:ws_connect_errors:count:browser',
      'diagnosis:cors-allow-origin',
    ],
  },
  {
    misconfig: 'secret-per-replica',
    experiment: 'failover',
    exit: 4,
    // Caught by the doctor preflight's secret check (token of replica A refused by B).
    caughtBy: ['stop:PREFLIGHT_CHECK_FAILED'],
  },
  {
    misconfig: 'local-websocket-manager',
    experiment: 'failover',
    exit: 4,
    caughtBy: ['stop:STEADY_STATE_BROKEN'],
  },
  {
    misconfig: 'pinned-redis-master',
    experiment: 'failover',
    exit: 10,
    caughtBy: ['slo:http_errors:count', 'recovery:never', 'diagnosis:pinned-redis-master'],
  },
  {
    misconfig: 'short-read-timeout=5s',
    experiment: 'long-silence',
    exit: 10,
    caughtBy: ['slo:stream_outcome:rate:outcome=completed', 'diagnosis:short-read-timeout'],
    duration: '90s',
  },
  {
    misconfig: 'buffering',
    experiment: 'long-silence',
    exit: 10,
    caughtBy: ['slo:burst_size:p95:api'],
    duration: '90s',
  },
  {
    misconfig: 'http1.0-upstream',
    experiment: 'failover',
    exit: 0,
    caughtBy: [],
    note: 'benign on nginx 1.22 (websockets still upgrade, SSE still streams): nothing to catch',
  },
];

/** The rows the default suite runs (a few minutes): each stops at the steady state or preflight. */
export const FAST_SUBSET: Array<Pick<MatrixRow, 'misconfig' | 'experiment'>> = [
  { misconfig: 'no-upgrade-headers', experiment: 'failover' },
  { misconfig: 'secret-per-replica', experiment: 'failover' },
];
