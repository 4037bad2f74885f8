import { describe, expect, it } from 'vitest';
import {
  Http1Error,
  Http1ResponseParser,
  type ResponseHead,
} from '../../../../src/engines/node/http1-response.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** Feeds `parts` one push each, overwriting every part after its push (as a reused read buffer is). */
function parse(parts: readonly Uint8Array[], o: { eof?: boolean; head?: boolean } = {}) {
  const heads: ResponseHead[] = [];
  const body: number[] = [];
  let ends = 0;
  const p = new Http1ResponseParser(
    {
      onHead: (h) => heads.push(h),
      onBody: (b) => body.push(...b),
      onEnd: () => ends++,
    },
    o.head ?? false,
  );
  for (const part of parts) {
    const copy = new Uint8Array(part);
    p.push(copy);
    copy.fill(0x21); // the caller reuses its buffer: nothing the parser kept may point into it
  }
  if (o.eof) p.end();
  return { heads, body: Buffer.from(body).toString('latin1'), ends, parser: p };
}

const split = (s: string, at: number): Uint8Array[] => [bytes(s.slice(0, at)), bytes(s.slice(at))];

const CHUNKED =
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\nX-Upstream: 127.0.0.1:8081\r\n\r\n' +
  '1a\r\ndata: {"a":"b"}\n\ndata: x\n\n\r\n' +
  '5;ext=1\r\nhello\r\n' +
  '0\r\nx-trailer: t\r\n\r\n';
const CHUNKED_BODY = 'data: {"a":"b"}\n\ndata: x\n\nhello';

describe('Http1ResponseParser', () => {
  it('reads a chunked response (extensions, trailers) the same at every split point, from copies', () => {
    for (let at = 0; at <= CHUNKED.length; at++) {
      const r = parse(split(CHUNKED, at));
      expect(r.body, `split at ${at}`).toBe(CHUNKED_BODY);
      expect(r.ends).toBe(1);
      expect(r.heads).toHaveLength(1);
      expect(r.heads[0]!.statusCode).toBe(200);
      expect(r.heads[0]!.rawHeaders).toEqual([
        'content-type',
        'text/event-stream',
        'Transfer-Encoding',
        'chunked',
        'X-Upstream',
        '127.0.0.1:8081',
      ]);
      expect(r.parser.reusable).toBe(true);
    }
  });

  it('reads it one byte at a time', () => {
    const r = parse([...bytes(CHUNKED)].map((b) => new Uint8Array([b])));
    expect(r.body).toBe(CHUNKED_BODY);
    expect(r.ends).toBe(1);
  });

  it('tolerates bare LF line ends, as Node does', () => {
    const r = parse([bytes('HTTP/1.1 200 OK\ntransfer-encoding: chunked\n\n3\nabc\n0\n\n')]);
    expect(r.body).toBe('abc');
    expect(r.ends).toBe(1);
  });

  it('Content-Length: the body ends after that many bytes; extra bytes make the socket not reusable', () => {
    const text = 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\n\r\nhello';
    for (let at = 0; at <= text.length; at++) {
      const r = parse(split(text, at));
      expect(r.body).toBe('hello');
      expect(r.ends).toBe(1);
      expect(r.heads[0]!.statusText).toBe('Bad Gateway');
    }
    const extra = parse([bytes(text + 'HTTP/1.1')]);
    expect(extra.ends).toBe(1);
    expect(extra.parser.excess).toBe(8);
    expect(extra.parser.reusable).toBe(false);
  });

  it('no framing: the body runs to EOF, which ends it; the socket is not reusable', () => {
    const r = parse([bytes('HTTP/1.1 200 OK\r\n\r\npart one '), bytes('part two')], { eof: true });
    expect(r.body).toBe('part one part two');
    expect(r.ends).toBe(1);
    expect(r.parser.reusable).toBe(false);
    expect(r.heads[0]!.keepAlive).toBe(false);
  });

  it('no body for 204, 304 and HEAD, whatever the headers say', () => {
    expect(parse([bytes('HTTP/1.1 204 No Content\r\n\r\n')]).ends).toBe(1);
    expect(parse([bytes('HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n')]).ends).toBe(1);
    const head = parse([bytes('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n')], { head: true });
    expect(head.ends).toBe(1);
    expect(head.parser.reusable).toBe(true);
  });

  it('skips interim 1xx heads (103 Early Hints) and reports the final one', () => {
    const r = parse([
      bytes(
        'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
      ),
    ]);
    expect(r.heads.map((h) => h.statusCode)).toEqual([200]);
    expect(r.body).toBe('ok');
  });

  it('keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with Connection: keep-alive', () => {
    const ka = (head: string): boolean =>
      parse([bytes(`${head}\r\ncontent-length: 0\r\n\r\n`)]).parser.reusable;
    expect(ka('HTTP/1.1 200 OK')).toBe(true);
    expect(ka('HTTP/1.1 200 OK\r\nConnection: Close')).toBe(false);
    expect(ka('HTTP/1.1 200 OK\r\nconnection: upgrade, close')).toBe(false);
    expect(ka('HTTP/1.0 200 OK')).toBe(false);
    expect(ka('HTTP/1.0 200 OK\r\nConnection: keep-alive')).toBe(true);
  });

  it('Transfer-Encoding other than chunked last: the body runs to EOF', () => {
    const r = parse(
      [bytes('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\ncontent-length: 3\r\n\r\nabcdef')],
      {
        eof: true,
      },
    );
    expect(r.body).toBe('abcdef');
    expect(r.parser.reusable).toBe(false);
  });

  it('EOF before the end of a framed body is an error (a truncated response)', () => {
    for (const text of [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel',
      'HTTP/1.1 200 OK\r\n',
      '',
    ]) {
      const r = parse([bytes(text)]);
      expect(() => r.parser.end(), JSON.stringify(text)).toThrow(/closed the connection mid-response/);
    }
  });

  it('refuses malformed responses with what was wrong', () => {
    const bad: [string, RegExp][] = [
      ['SSH-2.0-OpenSSH\r\n\r\n', /not an HTTP\/1.x status line/],
      ['HTTP/2 200\r\n\r\n', /not an HTTP\/1.x status line/],
      ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', /not a header line/],
      ['HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n', /conflicting Content-Length/],
      ['HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', /invalid Content-Length/],
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /invalid chunk size/],
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\r\n', /invalid chunk size/],
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcX', /not followed by CRLF/],
      ['HTTP/1.1 101 Switching Protocols\r\n\r\n', /switched protocols/],
    ];
    for (const [text, why] of bad) expect(() => parse([bytes(text)]), JSON.stringify(text)).toThrow(why);
    expect(() => parse([bytes('HTTP/1.1 200 OK\r\nx: ' + 'a'.repeat(70_000))])).toThrow(Http1Error);
    expect(() =>
      parse([bytes('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' + '0'.repeat(5000))]),
    ).toThrow(/chunk size line is longer/);
  });
});
