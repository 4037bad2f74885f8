// Text from user files (titles, timeline names, values quoted in messages) reaches the terminal.
// A control character in it — ESC starting a colour, a cursor move, an OSC title change or a
// hyperlink, BEL, backspace, a C1 control, a bidi override — would act on the operator's terminal
// instead of showing. `escapeTerminal` makes every such character visible (`\x1b`, `\u202e`) and
// keeps newlines and tabs; the CLI applies it to every line it prints that can carry user text.

// C0 controls except \t and \n, DEL, C1 controls, and the bidi overrides/isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
