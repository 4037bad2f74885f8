// The Toxiproxy toxic types owui-chaos injects, written once: the `toxic.*` actions, the toxic
// specs the drivers send, the revert records and the lab's Toxiproxy-compatible server all take
// their list from here.

export const TOXIC_TYPES = [
  'latency',
  'bandwidth',
  'slow_close',
  'timeout',
  'reset_peer',
  'slicer',
  'limit_data',
] as const;

export type ToxicType = (typeof TOXIC_TYPES)[number];

/** Each toxic type's attributes, as the Toxiproxy HTTP API names them. */
export const TOXIC_ATTRIBUTES: { readonly [T in ToxicType]: readonly string[] } = {
  latency: ['latency', 'jitter'],
  bandwidth: ['rate'],
  slow_close: ['delay'],
  timeout: ['timeout'],
  reset_peer: ['timeout'],
  slicer: ['average_size', 'size_variation', 'delay'],
  limit_data: ['bytes'],
};
