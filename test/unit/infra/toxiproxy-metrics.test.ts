import { describe, expect, it } from 'vitest';
import { receivedBytesOf } from '../../../src/infra/toxiproxy-api.js';

// As toxiproxy-server v2.12.0 -proxy-metrics printed it (one proxy `t` behind a stalling toxic: the
// bytes it received grew, the bytes it sent on did not), plus a second proxy.
const EXPOSITION = [
  '# HELP toxiproxy_proxy_received_bytes_total The number of bytes received from the client',
  '# TYPE toxiproxy_proxy_received_bytes_total counter',
  'toxiproxy_proxy_received_bytes_total{direction="downstream",listener="127.0.0.1:18998",proxy="t",upstream="127.0.0.1:18999"} 4628',
  'toxiproxy_proxy_received_bytes_total{direction="upstream",listener="127.0.0.1:18998",proxy="t",upstream="127.0.0.1:18999"} 158',
  'toxiproxy_proxy_received_bytes_total{direction="upstream",listener="127.0.0.1:1",proxy="t2",upstream="127.0.0.1:2"} 7',
  'toxiproxy_proxy_sent_bytes_total{direction="downstream",listener="127.0.0.1:18998",proxy="t",upstream="127.0.0.1:18999"} 2314',
  'promhttp_metric_handler_errors_total{cause="encoding"} 0',
  '',
].join('\n');

describe('receivedBytesOf', () => {
  it('sums both directions of one proxy and ignores sent bytes and other proxies', () => {
    expect(receivedBytesOf(EXPOSITION, 't')).toBe(4786);
    expect(receivedBytesOf(EXPOSITION, 't2')).toBe(7);
  });

  it('a proxy no byte has reached yet has no series: 0', () => {
    expect(receivedBytesOf(EXPOSITION, 'redis-master')).toBe(0);
    expect(receivedBytesOf('', 'llm')).toBe(0);
  });
});
