import { describe, expect, it } from 'vitest';
import { compareVersions, versionFeatures } from '../../../../src/lab/owui-sim/version.js';

describe('versionFeatures', () => {
  it('v0.11: events to the user room, output-only frames, task_ids, full JWT claims', () => {
    expect(versionFeatures('0.11.0')).toMatchObject({
      eventName: 'events',
      originCheck: 'normal',
      emitToUserRoom: true,
      userPool: false,
      heartbeat: true,
      deploymentId: true,
      jwtFullClaims: true,
      apiKeySwitch: { env: 'ENABLE_API_KEYS', defaultOn: false },
      readyEndpoint: true,
      taskIdsReply: true,
      payload: 'output',
      configReadsInRedis: false,
    });
  });

  it('0.6.30: chat-events, content frames, per-sid emits, no Origin check', () => {
    expect(versionFeatures('0.6.30')).toMatchObject({
      eventName: 'chat-events',
      originCheck: 'none',
      emitToUserRoom: false,
      userPool: true,
      heartbeat: false,
      deploymentId: false,
      jwtFullClaims: false,
      readyEndpoint: false,
      taskIdsReply: false,
      payload: 'content',
      configReadsInRedis: true,
    });
  });

  it('0.12: Responses-API deltas (verified on 0.12.4); 0.11 still cumulative output', () => {
    expect(versionFeatures('0.12.4').payload).toBe('responses');
    expect(versionFeatures('0.12.0').payload).toBe('responses');
    expect(versionFeatures('0.11.9').payload).toBe('output');
  });

  it('places the matrix boundaries exactly', () => {
    expect(versionFeatures('0.6.33').eventName).toBe('chat-events');
    expect(versionFeatures('0.6.34').eventName).toBe('events');
    expect(versionFeatures('0.6.35').originCheck).toBe('literal-star');
    expect(versionFeatures('0.6.36').originCheck).toBe('normal');
    expect(versionFeatures('0.6.36').emitToUserRoom).toBe(false);
    expect(versionFeatures('0.6.37').emitToUserRoom).toBe(true);
    expect(versionFeatures('0.6.40').userPool).toBe(true);
    expect(versionFeatures('0.6.41').heartbeat).toBe(true);
    expect(versionFeatures('0.8.10').payload).toBe('content');
    expect(versionFeatures('0.8.12').payload).toBe('content'); // verified on real 0.8.12
    expect(versionFeatures('0.8.11').readyEndpoint).toBe(true);
    expect(versionFeatures('0.8.12').taskIdsReply).toBe(false);
    expect(versionFeatures('0.9.0').taskIdsReply).toBe(true);
    expect(versionFeatures('0.9.5').configReadsInRedis).toBe(true);
    expect(versionFeatures('0.9.6').configReadsInRedis).toBe(false);
    expect(versionFeatures('0.9.6').payload).toBe('content');
    expect(versionFeatures('0.10.0').payload).toBe('output');
  });

  it('compares numerically and rejects garbage', () => {
    expect(compareVersions('0.10.0', '0.9.6')).toBe(1);
    expect(compareVersions('v0.6.30', '0.6.30')).toBe(0);
    expect(() => versionFeatures('latest')).toThrow(/not an Open WebUI version/);
  });
});
