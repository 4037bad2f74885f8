// Small JSON shape guards shared by the protocol decoders (payloads arrive as `unknown`).

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
