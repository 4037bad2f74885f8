import { describe, expect, it } from 'vitest';
import { isLocalListen, parseSsTcpInfo } from '../../../src/infra/socket-traffic.js';

// `ss -H -t -i -n state established '( sport = :26270 )'` on this machine (iproute2 6.1): two
// connections of simulator replicas to the lab's redis-master proxy.
const SS = [
  '0      0      127.0.0.1:26270 127.0.0.1:57384',
  '\t bbr wscale:10,10 rto:208 rtt:6.568/12.334 ato:40 mss:54272 pmtu:65535 rcvmss:536 advmss:65483 cwnd:13 bytes_sent:5272 bytes_acked:5272 bytes_received:222 segs_out:9 segs_in:12 data_segs_out:3 data_segs_in:5 send 859361754bps lastsnd:34776 lastrcv:34776 lastack:4472 delivered:4 app_limited busy:56ms rcv_space:65483 minrtt:0.01 snd_wnd:108544   ',
  '0      0      127.0.0.1:26270 127.0.0.1:57280',
  '\t bbr wscale:10,10 rto:208 rtt:5.491/10.959 ato:40 mss:53760 cwnd:12 bytes_sent:5183 bytes_acked:5183 bytes_received:173 segs_out:8 segs_in:11 lastsnd:34856 ',
  '',
].join('\n');

describe('parseSsTcpInfo', () => {
  it('gives each peer its bytes received + acked (not bytes_sent: unacked data has not arrived)', () => {
    expect(parseSsTcpInfo(SS)).toEqual({ '127.0.0.1:57384': 5494, '127.0.0.1:57280': 5356 });
  });

  it('a connection without byte counters yet (no data) is there with 0; no output is no connection', () => {
    expect(parseSsTcpInfo('0 0 127.0.0.1:1 127.0.0.1:2\n\t cubic rto:200 cwnd:10\n')).toEqual({
      '127.0.0.1:2': 0,
    });
    expect(parseSsTcpInfo('')).toEqual({});
  });
});

describe('isLocalListen', () => {
  it('loopback and any-address are on this machine; another host is not', () => {
    for (const l of ['127.0.0.1:1', 'localhost:2', '[::1]:3', '0.0.0.0:4', '[::]:5', ':6', '127.0.1.1:7']) {
      expect(isLocalListen(l), l).toBe(true);
    }
    expect(isLocalListen('10.0.0.5:8666')).toBe(false);
    expect(isLocalListen('toxiproxy:8666')).toBe(false);
  });
});
