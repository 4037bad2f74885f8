// The game day's terminal controls (sessions without a browser): single keys on a TTY —
// `i` inject (a one-line spec: `toxic.latency proxy=llm latency=500ms for=30s name=slow-llm`),
// `r` revert everything, `n` note (`h: …` hypothesis, `o: …` or plain text observation),
// `+` / `-` raise / lower the chat load one step (a quarter of it, docs/gameday.md),
// `q` end the session, Ctrl-C as usual. The live line above shows the state.

export interface KeyActions {
  inject(spec: {
    name?: string;
    action: string;
    params: Record<string, unknown>;
    for?: string | number;
  }): Promise<string>;
  revertAll(): Promise<string>;
  note(kind: 'hypothesis' | 'observation', text: string): string;
  /** One step of the load up (+1) or down (-1); returns what changed (throws when refused). */
  stepLoad(direction: 1 | -1): string;
  finish(): void;
  say(text: string): void;
  /** Pauses/resumes the live progress line while a prompt is open. */
  prompting(on: boolean): void;
}

/** `toxic.latency proxy=llm latency=500ms for=30s` → an inject request (numbers and booleans typed). */
export function parseInjectSpec(line: string): {
  name?: string;
  action: string;
  params: Record<string, unknown>;
  for?: string | number;
} {
  const [action = '', ...pairs] = line.trim().split(/\s+/);
  const params: Record<string, unknown> = {};
  let name: string | undefined;
  let forValue: string | number | undefined;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`\`${pair}\` is not key=value`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    const value: unknown = /^-?\d+(\.\d+)?$/.test(raw)
      ? Number(raw)
      : raw === 'true'
        ? true
        : raw === 'false'
          ? false
          : raw;
    if (key === 'name') name = raw;
    else if (key === 'for') forValue = typeof value === 'number' ? value : raw;
    else params[key] = value;
  }
  return {
    action,
    params,
    ...(name !== undefined ? { name } : {}),
    ...(forValue !== undefined ? { for: forValue } : {}),
  };
}

export function attachKeys(actions: KeyActions, input: NodeJS.ReadStream = process.stdin): () => void {
  if (!input.isTTY) return () => undefined;
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  let prompt: { kind: 'i' | 'n'; text: string } | undefined;
  const show = (): void => {
    if (prompt)
      process.stderr.write(`\r\x1b[K${prompt.kind === 'i' ? 'inject> ' : 'note (h: / o:)> '}${prompt.text}`);
  };
  const onData = (chunk: string): void => {
    for (const ch of chunk) {
      if (ch === '\x03') {
        process.kill(process.pid, 'SIGINT');
        continue;
      }
      if (prompt) {
        if (ch === '\r' || ch === '\n') {
          const { kind, text } = prompt;
          prompt = undefined;
          process.stderr.write('\r\x1b[K');
          actions.prompting(false);
          if (text.trim() === '') continue;
          if (kind === 'i') {
            let spec;
            try {
              spec = parseInjectSpec(text);
            } catch (err) {
              actions.say(`not injected: ${(err as Error).message}`);
              continue;
            }
            actions
              .inject(spec)
              .then(actions.say, (err: unknown) => actions.say(`not injected: ${(err as Error).message}`));
          } else {
            const m = /^\s*(h|o|hypothesis|observation)\s*:\s*(.*)$/i.exec(text);
            const kindOf = m && /^h/i.test(m[1]!) ? 'hypothesis' : 'observation';
            actions.say(actions.note(kindOf, m ? m[2]! : text));
          }
        } else if (ch === '\x1b') {
          prompt = undefined;
          process.stderr.write('\r\x1b[K');
          actions.prompting(false);
        } else if (ch === '\x7f' || ch === '\b') {
          prompt.text = prompt.text.slice(0, -1);
          show();
        } else if (ch >= ' ') {
          prompt.text += ch;
          show();
        }
        continue;
      }
      if (ch === 'i' || ch === 'n') {
        actions.prompting(true);
        prompt = { kind: ch, text: '' };
        show();
      } else if (ch === 'r') {
        actions
          .revertAll()
          .then(actions.say, (err: unknown) => actions.say(`revert failed: ${(err as Error).message}`));
      } else if (ch === '+' || ch === '-') {
        try {
          actions.say(actions.stepLoad(ch === '+' ? 1 : -1));
        } catch (err) {
          actions.say(`load not changed: ${(err as Error).message}`);
        }
      } else if (ch === 'q') {
        actions.say('q: ending the session (reverting everything)');
        actions.finish();
      } else if (ch === '?' || ch === 'h') {
        actions.say(
          'keys: i inject · r revert everything · n note · + / - load up / down · q end · Ctrl-C interrupt',
        );
      }
    }
  };
  input.on('data', onData);
  return () => {
    input.off('data', onData);
    input.setRawMode(false);
    input.pause();
  };
}
