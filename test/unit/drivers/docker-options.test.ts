import { describe, expect, it } from 'vitest';
import {
  DockerodeReplicaDriver,
  dockerodeOptions,
} from '../../../src/drivers/docker/dockerode-replica-driver.js';
import { FaultError } from '../../../src/core/errors.js';

describe('dockerodeOptions', () => {
  it('turns DOCKER_HOST-style addresses into host/port/protocol', () => {
    expect(dockerodeOptions({ host: 'tcp://10.0.0.5:2376' })).toEqual({
      host: '10.0.0.5',
      port: 2376,
      protocol: 'http',
    });
    expect(dockerodeOptions({ host: 'https://docker.example:443' })).toEqual({
      host: 'docker.example',
      port: 443,
      protocol: 'https',
    });
    expect(dockerodeOptions({ host: 'tcp://10.0.0.5' })).toEqual({
      host: '10.0.0.5',
      port: 2375,
      protocol: 'http',
    });
  });

  it('passes sockets and plain host names through, and nothing means the default socket', () => {
    expect(dockerodeOptions({ socketPath: '/run/user/1000/docker.sock' })).toEqual({
      socketPath: '/run/user/1000/docker.sock',
    });
    expect(dockerodeOptions({ host: 'engine', port: 2375 })).toEqual({ host: 'engine', port: 2375 });
    expect(dockerodeOptions()).toEqual({});
  });
});

describe('DockerodeReplicaDriver selector', () => {
  it('needs names, labels or a compose service', () => {
    expect(() => new DockerodeReplicaDriver({})).toThrow(FaultError);
    expect(() => new DockerodeReplicaDriver({ composeService: 'open-webui' })).not.toThrow();
  });
});
