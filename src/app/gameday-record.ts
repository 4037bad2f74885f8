// What a game-day session writes down (docs/gameday.md): its activities (load, injects, reverts),
// the notes people write, and warnings — and the journal built from them, live (faults still
// injected keep their window open until "now") or final. Nothing here touches the target.

import { parseHypothesisCheck, noteHypothesis, type Hypothesis } from '../core/gameday/hypotheses.js';
import type { Journal, JournalActivity, JournalLoadChange, JournalNote } from '../core/journal.js';

/** At most this many warnings are kept (a dead annotation endpoint must not grow the journal). */
const MAX_WARNINGS = 100;

export class SessionRecord {
  readonly activities: JournalActivity[] = [];
  readonly notes: JournalNote[] = [];
  readonly loadChanges: JournalLoadChange[] = [];
  private readonly warnings: string[] = [];

  constructor(
    private readonly meta: {
      runId: string;
      title: string;
      target: { name: string; url: string };
      engine: string;
      startedAt: number;
    },
  ) {}

  activity(a: JournalActivity): void {
    this.activities.push(a);
  }

  warn(text: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(text);
  }

  /** A note; a hypothesis may carry a measurable check (validated: throws ValidationError). */
  note(kind: JournalNote['kind'], text: string, faults: string[], check?: unknown): JournalNote {
    const parsed = kind === 'hypothesis' && check !== undefined ? parseHypothesisCheck(check) : undefined;
    const note: JournalNote = {
      at: Date.now(),
      kind,
      text: text.slice(0, 4000),
      faults,
      ...(parsed ? { check: parsed } : {}),
    };
    this.notes.push(note);
    return note;
  }

  /** The hypotheses the notes carry (those with a measurable check). */
  noteHypotheses(): Hypothesis[] {
    return this.notes.flatMap((n, i) =>
      n.kind === 'hypothesis' && n.check ? [noteHypothesis(n, `note-${i + 1}`)] : [],
    );
  }

  /**
   * The journal; with `openUntil` (live SLOs) the windows of faults still injected (`isInjected`)
   * stay open until then.
   */
  journal(isInjected: (name: string) => boolean, openUntil?: number): Journal {
    const failed = this.activities.some((a) => a.status === 'failed');
    const open = (a: JournalActivity): JournalActivity =>
      openUntil !== undefined && a.kind === 'inject' && a.status === 'succeeded' && isInjected(a.name)
        ? { ...a, windowEndsAt: openUntil }
        : a;
    return {
      schemaVersion: 1,
      runId: this.meta.runId,
      experiment: { title: `Game day: ${this.meta.title}` },
      target: this.meta.target,
      engine: this.meta.engine,
      startedAt: this.meta.startedAt,
      endedAt: Date.now(),
      status: failed ? 'failed' : 'completed',
      deviated: false,
      activities: this.activities.map(open).sort((a, b) => a.startedAt - b.startedAt),
      notes: [...this.notes],
      ...(this.loadChanges.length > 0 ? { loadChanges: [...this.loadChanges] } : {}),
      ...(this.warnings.length > 0 ? { warnings: [...this.warnings] } : {}),
    };
  }
}
