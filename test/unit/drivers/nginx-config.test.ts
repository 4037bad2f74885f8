import { describe, expect, it } from 'vitest';
import {
  directiveValues,
  pidFileOf,
  setBufferingBytes,
  setDirective,
} from '../../../src/drivers/nginx/nginx-config.js';
import { BUFFERING_BEGIN, BUFFERING_END } from '../../../src/infra/nginx-buffering.js';

const conf = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('setDirective', () => {
  it('rewrites every occurrence and nothing else (comments, longer names, other bytes untouched)', () => {
    const original = conf(
      [
        '# proxy_buffering on; is the default  ü',
        'http {',
        '  proxy_buffering   on ;',
        '  proxy_buffering_size 8k;',
        '  server { location / { proxy_pass http://u; proxy_buffering on; } }',
        '  location /x { proxy_buffering "on"; } # proxy_buffering on;',
        '}',
        '',
      ].join('\r\n'),
    );
    const edit = setDirective(original, 'proxy_buffering', 'off');
    expect(edit.replaced).toBe(3);
    expect(edit.bytes.toString('latin1')).toBe(
      [
        '# proxy_buffering on; is the default  ü',
        'http {',
        '  proxy_buffering   off ;',
        '  proxy_buffering_size 8k;',
        '  server { location / { proxy_pass http://u; proxy_buffering off; } }',
        '  location /x { proxy_buffering off; } # proxy_buffering on;',
        '}',
        '',
      ].join('\r\n'),
    );
  });

  it('keeps non-UTF-8 bytes as they are', () => {
    const original = Buffer.concat([conf('# \xff\xfe\n'), conf('http {\n  proxy_buffering on;\n}\n')]);
    const out = setDirective(original, 'proxy_buffering', 'off').bytes;
    expect([...out.subarray(0, 4)]).toEqual([0x23, 0x20, 0xff, 0xfe]);
  });

  it('inserts into the http block when absent, else into the first server block', () => {
    const http = setDirective(conf('events {}\nhttp {\n  server {}\n}\n'), 'proxy_buffering', 'off');
    expect(http).toMatchObject({ replaced: 0, insertedInto: 'http' });
    expect(http.bytes.toString()).toBe('events {}\nhttp {\n    proxy_buffering off;\n  server {}\n}\n');

    const server = setDirective(conf('server {\r\n  listen 80;\r\n}\r\n'), 'proxy_buffering', 'on');
    expect(server.insertedInto).toBe('server');
    expect(server.bytes.toString()).toBe('server {\r\n    proxy_buffering on;\r\n  listen 80;\r\n}\r\n');
  });

  it('refuses what it cannot do safely', () => {
    expect(() => setDirective(conf('events {}\n'), 'proxy_buffering', 'off')).toThrow(
      /no `proxy_buffering` directive and no http or server block/,
    );
    expect(() => setDirective(conf('http {}\n'), 'proxy_buffering', 'off; include /etc/passwd')).toThrow(
      /not a valid value/,
    );
    expect(() => setDirective(conf('http {}\n'), 'proxy buffering', 'off')).toThrow(
      /not an nginx directive name/,
    );
  });
});

describe('setBufferingBytes', () => {
  it("swaps the lab's marked block (HTTP version and buffering together)", () => {
    const lab = conf(
      [
        'http {',
        '    location / {',
        `      ${BUFFERING_BEGIN}`,
        '      proxy_http_version 1.1;',
        '      proxy_buffering off;',
        `      ${BUFFERING_END}`,
        '    }',
        '}',
        '',
      ].join('\n'),
    );
    const on = setBufferingBytes(lab, true).toString();
    expect(on).toContain('proxy_http_version 1.0;\n      proxy_buffering on;');
    expect(setBufferingBytes(setBufferingBytes(lab, true), false).equals(lab)).toBe(true);
  });

  it('changes only proxy_buffering in any other config', () => {
    const plain = conf('http {\n  proxy_http_version 1.1;\n  proxy_buffering off;\n}\n');
    expect(setBufferingBytes(plain, true).toString()).toBe(
      'http {\n  proxy_http_version 1.1;\n  proxy_buffering on;\n}\n',
    );
  });
});

describe('directiveValues / pidFileOf', () => {
  it('reads values outside comments, and the pid file', () => {
    const c = conf('# pid /nope;\npid  /run/owui.pid ;\nhttp { proxy_buffering on; }\n');
    expect(directiveValues(c, 'proxy_buffering')).toEqual(['on']);
    expect(pidFileOf(c)).toBe('/run/owui.pid');
    expect(pidFileOf(conf('pid "logs/nginx.pid";\n'))).toBe('logs/nginx.pid');
    expect(pidFileOf(conf('http {}\n'))).toBeUndefined();
  });
});
