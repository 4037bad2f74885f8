// Every verdict of the doctor, pinned on measurements: each mistake a check must catch, and the
// healthy measurement it must leave alone (docs/doctor.md).

import { describe, expect, it } from 'vitest';
import {
  judgeCors,
  judgeDelivery,
  judgeIdentity,
  judgeLimits,
  judgeRedis,
  judgeSecret,
  judgeSse,
  judgeTimeouts,
  judgeWebsocket,
  pinnedAddress,
  type HandshakeMeasure,
  type HttpProbe,
  type RedisMeasure,
  type SseStreamMeasure,
} from '../../../../src/core/doctor/judge.js';
import { buildReport, parseOnly } from '../../../../src/core/doctor/report.js';
import { renderDoctorReport } from '../../../../src/core/doctor/render.js';

const ok: HttpProbe = { status: 200, contentType: 'application/json', json: { status: true } };
const version = (v: string, d = ''): HttpProbe => ({ status: 200, json: { version: v, deployment_id: d } });
const replica = (
  name: string,
  over: Partial<{ health: HttpProbe; ready: HttpProbe; version: HttpProbe }> = {},
) => ({
  name,
  url: `http://r/${name}`,
  health: ok,
  ready: ok,
  version: version('0.11.0'),
  ...over,
});

describe('judgeIdentity', () => {
  const lb = { url: 'http://lb', health: ok, version: version('0.11.0') };
  it('passes a healthy deployment and says when replicas are not listed', () => {
    expect(judgeIdentity({ ...lb, replicas: [replica('a'), replica('b')] }).status).toBe('pass');
    const v = judgeIdentity({ ...lb, replicas: [] });
    expect(v.status).toBe('pass');
    expect(v.summary).toContain('openwebui.replicas');
  });
  it('fails an unreachable URL, a non-Open WebUI server and a missing /api/version', () => {
    expect(
      judgeIdentity({ ...lb, health: { status: 0, error: 'ECONNREFUSED' }, replicas: [] }),
    ).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('ECONNREFUSED'),
    });
    const html = judgeIdentity({ ...lb, health: { status: 200, contentType: 'text/html' }, replicas: [] });
    expect(html.status).toBe('fail');
    expect(html.summary).toContain('not Open WebUI');
    expect(judgeIdentity({ ...lb, version: { status: 404 }, replicas: [] }).status).toBe('fail');
  });
  it('fails a replica that is down or not ready, and different versions; warns on deployment ids', () => {
    expect(
      judgeIdentity({ ...lb, replicas: [replica('a'), replica('b', { health: { status: 0 } })] }).summary,
    ).toContain('b');
    const notReady = judgeIdentity({
      ...lb,
      replicas: [replica('a', { ready: { status: 503, json: { detail: 'Redis not ready' } } })],
    });
    expect(notReady.status).toBe('fail');
    expect(notReady.summary).toContain('Redis not ready');
    // /ready 404 is a version before 0.8.11, not a failure
    expect(judgeIdentity({ ...lb, replicas: [replica('a', { ready: { status: 404 } })] }).status).toBe(
      'pass',
    );
    expect(
      judgeIdentity({ ...lb, replicas: [replica('a'), replica('b', { version: version('0.10.0') })] }).status,
    ).toBe('fail');
    const ids = judgeIdentity({
      ...lb,
      replicas: [replica('a', { version: version('0.11.0', 'x') }), replica('b')],
    });
    expect(ids.status).toBe('warn');
    expect(ids.fix?.action).toContain('DEPLOYMENT_ID');
  });
});

const stream = (over: Partial<SseStreamMeasure> = {}): SseStreamMeasure => ({
  outcome: 'completed',
  tokens: 60,
  events: 62,
  splitEvents: 0,
  reads: 62,
  contentReads: 60,
  maxTokensPerRead: 1,
  ttftMs: 300,
  e2eMs: 2700,
  garbledRate: 0,
  ...over,
});

describe('judgeSse', () => {
  it('passes tokens that arrive one by one', () => {
    const v = judgeSse({ url: 'u', verified: true, streams: [stream(), stream()] });
    expect(v.status).toBe('pass');
    expect(v.evidence['integrity']).toContain('garbled 0 %');
  });
  it('fails bursts and a first token at the end of the stream, naming the nginx fix', () => {
    const bursts = judgeSse({
      url: 'u',
      verified: true,
      streams: [stream({ contentReads: 5, maxTokensPerRead: 15 })],
    });
    expect(bursts.status).toBe('fail');
    expect(bursts.fix?.action).toContain('proxy_buffering off; proxy_cache off; proxy_http_version 1.1');
    expect(judgeSse({ url: 'u', verified: true, streams: [stream({ ttftMs: 2600 })] }).status).toBe('fail');
  });
  it('fails garbled text against the ground truth, and says "unverified" against a real model', () => {
    expect(judgeSse({ url: 'u', verified: true, streams: [stream({ garbledRate: 0.05 })] }).status).toBe(
      'fail',
    );
    const real = judgeSse({
      url: 'u',
      verified: false,
      streams: [(({ garbledRate: _g, ...rest }) => rest)(stream())],
    });
    expect(real.status).toBe('pass');
    expect(real.evidence['integrity']).toContain('unverified');
  });
  it('fails a stream that did not complete, and warns when streams are too short to judge', () => {
    expect(
      judgeSse({ url: 'u', verified: true, streams: [stream({ outcome: 'http_error', status: '502' })] })
        .status,
    ).toBe('fail');
    expect(
      judgeSse({ url: 'u', verified: false, streams: [stream({ tokens: 3, contentReads: 1 })] }).status,
    ).toBe('warn');
  });
});

const hs = (over: Partial<HandshakeMeasure> = {}): HandshakeMeasure => ({
  url: 'http://lb',
  status: 101,
  eioOpen: true,
  sioConnected: true,
  ...over,
});
const upgradeRefused = hs({
  status: 400,
  body: '{"detail":"Invalid WebSocket upgrade request"}',
  eioOpen: false,
  sioConnected: false,
});
const originRefused = hs({
  status: 400,
  body: '"http://x is not an accepted origin."',
  eioOpen: false,
  sioConnected: false,
});

describe('judgeWebsocket and judgeCors', () => {
  it('passes a proxied upgrade; fails a dropped Upgrade header, naming it and the proxy', () => {
    expect(judgeWebsocket({ site: hs() }).status).toBe('pass');
    const v = judgeWebsocket({ site: upgradeRefused, direct: { ...hs(), replica: 'owui-1' } });
    expect(v.status).toBe('fail');
    expect(v.summary).toContain('Upgrade/Connection');
    expect(v.summary).toContain('directly on owui-1 it works');
    expect(judgeWebsocket({ site: hs({ status: 426, eioOpen: false, sioConnected: false }) }).status).toBe(
      'fail',
    );
    expect(judgeWebsocket({ site: hs({ status: 502, eioOpen: false, sioConnected: false }) }).status).toBe(
      'fail',
    );
  });
  it('leaves an origin refusal to the CORS check when the handshake works without an Origin', () => {
    expect(judgeWebsocket({ site: originRefused, noOrigin: hs() }).status).toBe('pass');
  });
  const cors = (site: HandshakeMeasure, foreign: HandshakeMeasure) =>
    judgeCors({ siteOrigin: 'http://lb', foreignOrigin: 'https://f.invalid', site, foreign, where: 'lb' });
  it('passes site accepted + foreign refused; fails own origin refused; warns when anything goes', () => {
    expect(cors(hs(), originRefused).status).toBe('pass');
    const own = cors(originRefused, originRefused);
    expect(own.status).toBe('fail');
    expect(own.fix?.action).toContain('CORS_ALLOW_ORIGIN');
    expect(cors(hs(), hs()).status).toBe('warn');
    expect(cors(upgradeRefused, upgradeRefused).status).toBe('skip');
    // real Open WebUI 0.12.4: a bare 403 for a refused Origin
    const bare403 = hs({
      status: 403,
      body: '',
      eioOpen: false,
      sioConnected: false,
      origin: 'https://f.invalid',
    });
    expect(cors(hs(), bare403).status).toBe('pass');
    expect(cors(bare403, bare403).status).toBe('fail');
    expect(judgeWebsocket({ site: bare403, noOrigin: hs() }).status).toBe('pass');
  });
});

describe('judgeSecret, judgeDelivery', () => {
  it('fails a token refused by another replica with WEBUI_SECRET_KEY as the fix', () => {
    const v = judgeSecret({
      issuer: 'a',
      checks: [
        { replica: 'a', status: 200 },
        { replica: 'b', status: 401 },
      ],
    });
    expect(v.status).toBe('fail');
    expect(v.fix?.action).toContain('WEBUI_SECRET_KEY');
    expect(
      judgeSecret({
        issuer: 'a',
        checks: [
          { replica: 'a', status: 200 },
          { replica: 'b', status: 200 },
        ],
      }).status,
    ).toBe('pass');
  });
  it('fails a chat that never reaches the socket on another replica, naming WEBSOCKET_MANAGER=redis', () => {
    const lost = judgeDelivery({
      postedTo: 'a',
      socketOn: 'b',
      joined: true,
      outcome: 'timeout',
      waitedMs: 15_000,
    });
    expect(lost.status).toBe('fail');
    expect(lost.fix?.action).toContain('WEBSOCKET_MANAGER=redis');
    expect(judgeDelivery({ postedTo: 'a', socketOn: 'b', joined: false, waitedMs: 10_000 }).status).toBe(
      'fail',
    );
    expect(
      judgeDelivery({ postedTo: 'a', socketOn: 'b', joined: true, outcome: 'completed', waitedMs: 1 }).status,
    ).toBe('pass');
  });
});

describe('judgeRedis', () => {
  const s = (address: string, master = '127.0.0.1:7000') => ({
    address,
    reachable: true,
    master,
    quorum: 2,
    otherSentinels: 2,
    downAfterMs: 5000,
    failoverTimeoutMs: 60_000,
    ckquorum: 'OK 3 usable Sentinels',
    ckquorumOk: true,
  });
  const healthy: RedisMeasure = {
    masterName: 'mymaster',
    sentinels: [s('s1'), s('s2'), s('s3')],
    master: {
      address: '127.0.0.1:7000',
      role: 'master',
      offset: 1000,
      replicas: [{ address: 'r', state: 'online', offset: 990, lagS: 0 }],
    },
  };
  it('passes agreeing Sentinels with a synced replica, reporting down-after and failover timeout', () => {
    const v = judgeRedis(healthy);
    expect(v.status).toBe('pass');
    expect(v.evidence['down-after-milliseconds']).toBe(5000);
    expect(v.evidence['failover-timeout']).toBe(60_000);
  });
  it('fails disagreement, no quorum, no replica or a lagging one', () => {
    expect(judgeRedis({ ...healthy, sentinels: [s('s1'), s('s2', '127.0.0.1:7001')] }).status).toBe('fail');
    expect(
      judgeRedis({ ...healthy, sentinels: [{ ...s('s1'), ckquorumOk: false, ckquorum: 'NOQUORUM' }] }).status,
    ).toBe('fail');
    expect(judgeRedis({ ...healthy, master: { ...healthy.master!, replicas: [] } }).status).toBe('fail');
    expect(
      judgeRedis({
        ...healthy,
        master: {
          ...healthy.master!,
          replicas: [{ address: 'r', state: 'wait_bgsave', offset: 0, lagS: 0 }],
        },
      }).status,
    ).toBe('fail');
    expect(
      judgeRedis({
        ...healthy,
        sentinels: healthy.sentinels.map(({ master: _m, ...x }) => ({ ...x, reachable: false })),
      }).status,
    ).toBe('fail');
  });
  it('warns on an address pinned instead of the master name', () => {
    expect(
      pinnedAddress({ redisUrl: 'redis://mymaster:6379/0', sentinelHosts: 's1,s2' }, 'mymaster'),
    ).toBeUndefined();
    expect(
      pinnedAddress({ redisUrl: 'redis://127.0.0.1:7000/0', sentinelHosts: undefined }, 'mymaster'),
    ).toBe('127.0.0.1:7000');
    const v = judgeRedis({
      ...healthy,
      configured: { redisUrl: 'redis://127.0.0.1:7000/0', sentinelHosts: undefined, source: 'env' },
    });
    expect(v.status).toBe('warn');
    expect(v.fix?.action).toContain('REDIS_SENTINEL_HOSTS');
  });
});

describe('judgeTimeouts, judgeLimits', () => {
  it('fails a cut slow stream or a dropped idle socket; passes when both survive', () => {
    const good = {
      firstTokenDelayMs: 65_000,
      slowStream: { outcome: 'completed' },
      idleSocket: { joined: true, heldMs: 65_000, disconnects: 0 },
    };
    expect(judgeTimeouts(good).status).toBe('pass');
    expect(
      judgeTimeouts({ ...good, slowStream: { outcome: 'http_error', status: '504' } }).fix?.action,
    ).toContain('proxy_read_timeout');
    expect(
      judgeTimeouts({ ...good, idleSocket: { joined: true, heldMs: 65_000, disconnects: 2 } }).status,
    ).toBe('fail');
    const noSocket = judgeTimeouts({
      firstTokenDelayMs: 65_000,
      slowStream: { outcome: 'completed' },
      idleSocketSkipped: 'websockets fail (see websocket)',
    });
    expect(noSocket.status).toBe('skip');
    expect(noSocket.summary).toContain('see websocket');
    expect(
      judgeTimeouts({ firstTokenDelayMs: 65_000, slowStream: { outcome: 'timeout' }, idleSocketSkipped: 'x' })
        .status,
    ).toBe('fail');
  });
  it('fails a 413 upload and an expired certificate, warns on one expiring soon, skips plain http without --body-size', () => {
    expect(judgeLimits({ https: false, body: { bytes: 20 * 1024 * 1024, status: 413 } }).status).toBe('fail');
    expect(judgeLimits({ https: false, body: { bytes: 1024, status: 404 } }).status).toBe('pass');
    expect(judgeLimits({ https: true, tls: { daysLeft: -1, notAfter: 'x', subject: 'y' } }).status).toBe(
      'fail',
    );
    expect(judgeLimits({ https: true, tls: { daysLeft: 3, notAfter: 'x', subject: 'y' } }).status).toBe(
      'warn',
    );
    expect(judgeLimits({ https: false }).status).toBe('skip');
  });
});

describe('report', () => {
  it('exit 10 when a check failed, 0 otherwise; a skip is counted, never a pass', () => {
    const pass = {
      id: 'sse' as const,
      title: 't',
      status: 'pass' as const,
      summary: 's',
      evidence: {},
      durationMs: 1,
    };
    const skip = { ...pass, id: 'redis' as const, status: 'skip' as const };
    const fail = { ...pass, id: 'cors' as const, status: 'fail' as const };
    expect(buildReport({ name: 'n', url: 'u' }, [pass, skip], 0, 5)).toMatchObject({
      exitCode: 0,
      counts: { pass: 1, skip: 1 },
    });
    const failed = buildReport({ name: 'n', url: 'u' }, [pass, fail], 0, 5);
    expect(failed).toMatchObject({ exitCode: 10, verdict: 'fail' });
    expect(renderDoctorReport(failed)).toContain('FAIL  cors');
    expect(buildReport({ name: 'n', url: 'u' }, [skip], 0, 5).summary).toContain('nothing was checked');
  });
  it('--only keeps the catalogue order and reports unknown names', () => {
    expect(parseOnly('cors,identity,bogus')).toEqual({ ids: ['identity', 'cors'], unknown: ['bogus'] });
    expect(parseOnly(undefined).ids).toHaveLength(10);
  });
});
