// Decoding failures of the portable protocol code. protocol imports nothing of ours (DESIGN §2), so
// it cannot throw core's error classes; engines catch this and wrap it (e.g. in LoadGeneratorError)
// with the context they have (which server, which connection).

export class ProtocolError extends Error {
  /** The input that failed to decode, cut to 200 characters so messages stay printable. */
  readonly input: string;

  constructor(message: string, input: string) {
    super(`${message}: ${JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}…` : input)}`);
    this.name = 'ProtocolError';
    this.input = input.length > 200 ? input.slice(0, 200) : input;
  }
}
