// The doctor's verdicts as pure functions of what was measured (docs/doctor.md): each takes the
// measurements of one check and returns its status, one-line summary, evidence and fix. The
// measuring lives in src/app/doctor; keeping the judging here lets unit tests pin every branch
// (each mistake it must catch, and the healthy case it must leave alone) without a network.
// Each group of checks has its own module under checks/; this is the one import for callers.

export { skipped, type Verdict } from './checks/verdict.js';
export * from './checks/http.js';
export * from './checks/streaming.js';
export * from './checks/cluster.js';
export * from './checks/limits.js';
