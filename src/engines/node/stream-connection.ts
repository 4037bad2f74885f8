// The engine's own HTTP/1.1 connection for SSE chat streams (docs/engine-bench.md "Own HTTP/1.1
// reader"): one keep-alive socket, one request at a time, bytes read with `net`'s `onread` into one
// buffer per thread and parsed by http1-response.ts. It replaces undici's Client on the hot path
// because undici's parser and stream machinery cost about a third of the engine's CPU per event
// (undici stays for every other request).
//
// Contract: `dispatch(options, handler)` implements the part of undici's Dispatcher that
// api-client.ts uses, with the same handler calls: onConnect(abort) first; onHeaders(status,
// rawHeaders, resume, statusText) once (interim 1xx heads are skipped); onData(chunk) per body
// piece; then onComplete([]) or onError(err), exactly one of them, once. `chunk` is a view of the
// thread's read buffer, valid only during the call: a handler that keeps bytes copies them.
// `abort(err)` closes the socket and ends the request with onError(err).
// - A socket is reused when the response allowed it (keep-alive, body fully read, nothing extra)
//   and it was idle less than `idleMs`; otherwise a new one is opened.
// - A reused socket that closes before any byte of the response is a keep-alive race (the server
//   timed the idle socket out as we sent): the request is sent once more on a new socket, as
//   browsers do. A new socket's failure is the request's error.
// - `https:` origins use TLS (with 'data' events: `onread` is for plain sockets).

import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Dispatcher } from 'undici';
import { Http1ResponseParser, type ResponseHead } from './http1-response.js';

/** One read buffer per thread: each read is parsed and handed on before the next one lands. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export interface StreamConnectionOptions {
  connectTimeoutMs?: number;
  /** A socket idle longer than this is not reused (uvicorn drops idle sockets after 5 s). */
  idleMs?: number;
  /** Extra CA certificates (PEM) for an `https:` origin signed by a private CA. */
  ca?: string | Buffer;
}

interface Exchange {
  handler: Dispatcher.DispatchHandler;
  request: Buffer;
  parser: Http1ResponseParser;
  /** Bytes of the response seen: a reused socket that dies before any is retried once. */
  received: number;
  retried: boolean;
  ended: boolean;
  /** The socket the request went out on: events of an older socket are not this request's. */
  socket: Socket | undefined;
}

export class StreamConnection {
  private socket: Socket | undefined;
  private idleSince = 0;
  private current: Exchange | undefined;
  private closed = false;
  private readonly secure: boolean;
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private readonly connectTimeoutMs: number;
  private readonly idleMs: number;
  private readonly ca: string | Buffer | undefined;

  constructor(origin: string, o: StreamConnectionOptions = {}) {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new Error(`stream connection: ${origin} is not an http(s) origin`);
    this.secure = u.protocol === 'https:';
    this.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(u.port || (this.secure ? 443 : 80));
    this.hostHeader = u.host;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    this.idleMs = o.idleMs ?? 4_000;
    this.ca = o.ca;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.current) throw new Error('stream connection: one request at a time');
    if (this.closed) throw new Error('stream connection: closed');
    const ex: Exchange = {
      handler,
      request: this.requestBytes(options),
      parser: undefined as unknown as Http1ResponseParser,
      received: 0,
      retried: false,
      ended: false,
      socket: undefined,
    };
    ex.parser = this.parserFor(ex, options.method === 'HEAD');
    this.current = ex;
    handler.onConnect?.((err?: Error) => this.fail(ex, err ?? new Error('aborted')));
    if (ex.ended) return true;
    const reuse =
      this.socket !== undefined && !this.socket.destroyed && Date.now() - this.idleSince < this.idleMs;
    if (!reuse) {
      this.socket?.destroy();
      this.socket = undefined;
      ex.retried = true; // a new socket's failure is not a keep-alive race
    }
    this.send(ex);
    return true;
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.current) this.fail(this.current, new Error('connection closed'));
    this.socket?.destroy();
    this.socket = undefined;
    return Promise.resolve();
  }

  private send(ex: Exchange): void {
    const socket = this.socket ?? this.open();
    ex.socket = socket;
    socket.write(ex.request);
  }

  private open(): Socket {
    const onBytes = (bytes: Uint8Array): void => {
      const ex = this.current;
      if (ex === undefined || ex.socket !== socket) {
        socket.destroy(); // bytes nobody asked for: the socket cannot be trusted any more
        return;
      }
      ex.received += bytes.length;
      try {
        ex.parser.push(bytes);
      } catch (err) {
        this.fail(ex, err instanceof Error ? err : new Error(String(err)));
      }
    };
    const socket: Socket = this.secure
      ? tlsConnect({
          host: this.host,
          port: this.port,
          ALPNProtocols: ['http/1.1'],
          ...(this.ca !== undefined ? { ca: this.ca } : {}),
          ...(isIP(this.host) === 0 ? { servername: this.host } : {}),
        })
      : netConnect({
          host: this.host,
          port: this.port,
          noDelay: true,
          onread: {
            buffer: READ_BUFFER,
            callback: (n: number, buf: Uint8Array) => {
              onBytes(buf.subarray(0, n));
              return true;
            },
          },
        });
    if (this.secure) {
      socket.setNoDelay(true);
      socket.on('data', onBytes);
    }
    const connectTimer = setTimeout(
      () =>
        socket.destroy(new Error(`connect timeout after ${this.connectTimeoutMs} ms to ${this.hostHeader}`)),
      this.connectTimeoutMs,
    );
    socket.once(this.secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    // 'close' follows every 'error'; the request ends there, with this error when there was one.
    let socketError: Error | undefined;
    socket.on('error', (err) => (socketError = err));
    socket.on('close', () => {
      clearTimeout(connectTimer);
      if (this.socket === socket) this.socket = undefined;
      const ex = this.current;
      if (ex === undefined || ex.ended || ex.socket !== socket) return;
      if (!ex.retried && ex.received === 0 && !this.closed) {
        // The server closed an idle keep-alive socket as we reused it: one more try on a new one.
        ex.retried = true;
        this.send(ex);
        return;
      }
      try {
        ex.parser.end(); // a close-delimited body ends here
      } catch (err) {
        this.fail(ex, socketError ?? (err instanceof Error ? err : new Error(String(err))));
      }
    });
    this.socket = socket;
    return socket;
  }

  private parserFor(ex: Exchange, head: boolean): Http1ResponseParser {
    return new Http1ResponseParser(
      {
        onHead: (h: ResponseHead) => {
          ex.handler.onHeaders?.(
            h.statusCode,
            h.rawHeaders as unknown as Buffer[],
            () => undefined,
            h.statusText,
          );
        },
        onBody: (bytes) => {
          if (!ex.ended) ex.handler.onData?.(bytes as Buffer);
        },
        onEnd: () => this.complete(ex),
      },
      head,
    );
  }

  private complete(ex: Exchange): void {
    if (ex.ended) return;
    ex.ended = true;
    this.current = undefined;
    const socket = this.socket;
    if (socket !== undefined) {
      if (ex.parser.reusable && !this.closed) this.idleSince = Date.now();
      else {
        socket.destroy();
        this.socket = undefined;
      }
    }
    ex.handler.onComplete?.([]);
  }

  /**
   * Ends the request with `err`; the socket it went out on is never reused (mid-response state
   * unknown). Aborted before it was sent, it leaves an idle socket alone.
   */
  private fail(ex: Exchange, err: Error): void {
    if (ex.ended) return;
    ex.ended = true;
    if (this.current === ex) this.current = undefined;
    if (ex.socket !== undefined) {
      ex.socket.destroy();
      if (this.socket === ex.socket) this.socket = undefined;
    }
    ex.handler.onError?.(err);
  }

  private requestBytes(o: Dispatcher.DispatchOptions): Buffer {
    const body = typeof o.body === 'string' ? o.body : o.body == null ? '' : undefined;
    if (body === undefined) throw new Error('stream connection: the body must be a string');
    let head = `${o.method} ${o.path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\nconnection: keep-alive\r\n`;
    const headers = (o.headers ?? {}) as Record<string, string>;
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(String(value)))
        throw new Error(`stream connection: header ${JSON.stringify(name)} holds a line break`);
      head += `${name}: ${value}\r\n`;
    }
    if (body !== '' || o.method === 'POST') head += `content-length: ${Buffer.byteLength(body)}\r\n`;
    return Buffer.from(head + '\r\n' + body);
  }
}
