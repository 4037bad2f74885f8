// Per browser client: what became of its connection attempts (docs/browser-measure.md). Pure and
// portable, shared by the Node engine and the k6 scenarios, so both give the same samples.
//
// Contract (times epoch ms, tags as pre-serialised JSON from `tags()` at the moment of the sample):
// - `attempt()` opens an attempt; the FIRST `fail()` of an open attempt gives one
//   `ws_connect_errors` sample (value 1) tagged `reason` (and `status` for a refused handshake);
//   later failures of the same attempt (the close that follows a refused handshake) are ignored.
// - `joined()` closes the attempt as a success.
// - `abandon()` closes an attempt without a sample (the run itself stopped the client).
// - `end()` once per client that was started: `ws_never_joined` = 1 if it never joined during its
//   life, else 0 (so "every client joined" is a measured 0, never an absence of data).

import type { ConnectFailure } from '../../protocol/browser-session.js';
import type { Emit } from './emit.js';
import { withTags } from './stream-recorder.js';

export class ConnectRecorder {
  private open = false;
  private everJoined = false;
  private ended = false;
  /** Failed attempts so far (for progress and tests). */
  failures = 0;
  lastFailure: ConnectFailure | undefined;

  constructor(private readonly o: { emit: Emit; tags: () => string }) {}

  get hasJoined(): boolean {
    return this.everJoined;
  }

  attempt(): void {
    this.open = true;
  }

  fail(nowMs: number, failure: ConnectFailure): void {
    if (!this.open) return;
    this.open = false;
    this.failures++;
    this.lastFailure = failure;
    const extra: Record<string, string> = { reason: failure.reason };
    if (failure.status !== undefined) extra['status'] = failure.status;
    this.o.emit('ws_connect_errors', nowMs, 1, withTags(this.o.tags(), extra));
  }

  joined(): void {
    this.open = false;
    this.everJoined = true;
  }

  abandon(): void {
    this.open = false;
  }

  end(nowMs: number): void {
    if (this.ended) return;
    this.ended = true;
    this.open = false;
    this.o.emit('ws_never_joined', nowMs, this.everJoined ? 0 : 1, this.o.tags());
  }
}
