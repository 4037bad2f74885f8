// The mock LLM as a real server on a free port, observed through a raw TCP client (so socket
// writes, splits and timings are what the wire carries) and through fetch.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatDirective,
  generateText,
  type GroundTruthDirective,
} from '../../../src/protocol/ground-truth.js';
import { MOCK_LLM_MODEL, startMockLlm, type MockLlmServer } from '../../../src/lab/mock-llm/server.js';

interface RawRead {
  at: number;
  bytes: Buffer;
}

interface RawEvent {
  text: string;
  /** Indices of the socket reads the event's bytes arrived in. */
  reads: Set<number>;
  /** performance.now() of the read that completed the event. */
  completedAt: number;
}

interface RawResponse {
  status: number;
  headers: string;
  startedAt: number;
  reads: RawRead[];
  /** De-chunked body bytes and, per byte, the index of the read it arrived in. */
  body: Buffer;
  readOf: Int32Array;
  events: RawEvent[];
}

function rawPost(
  port: number,
  payload: unknown,
  opts: { abortAfterEvents?: number; http10?: boolean } = {},
): Promise<RawResponse> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const reads: RawRead[] = [];
    const startedAt = performance.now();
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /v1/chat/completions HTTP/1.${opts.http10 ? 0 : 1}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    socket.setNoDelay(true);
    const timeout = setTimeout(() => {
      socket.destroy();
      reject(new Error('raw request did not finish within 10 s'));
    }, 10_000);
    socket.on('data', (bytes: Buffer) => {
      reads.push({ at: performance.now(), bytes });
      if (opts.abortAfterEvents !== undefined) {
        const all = Buffer.concat(reads.map((r) => r.bytes)).toString('utf8');
        if ((all.match(/\n\n/g) ?? []).length >= opts.abortAfterEvents + 1) {
          socket.destroy();
          clearTimeout(timeout);
          resolve(decode(startedAt, reads));
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timeout);
      resolve(decode(startedAt, reads));
    });
  });
}

/** Splits the HTTP response, de-chunks the body and maps every body byte to its read. */
function decode(startedAt: number, reads: RawRead[]): RawResponse {
  const all = Buffer.concat(reads.map((r) => r.bytes));
  const owner = new Int32Array(all.length);
  let pos = 0;
  reads.forEach((r, i) => {
    owner.fill(i, pos, pos + r.bytes.length);
    pos += r.bytes.length;
  });
  const headerEnd = all.indexOf('\r\n\r\n');
  const headers = all.subarray(0, headerEnd).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d+)/.exec(headers)?.[1]);
  const chunked = /transfer-encoding: chunked/i.test(headers);
  const bodyParts: Buffer[] = [];
  const ownerParts: Int32Array[] = [];
  let i = headerEnd + 4;
  if (!chunked) {
    bodyParts.push(all.subarray(i));
    ownerParts.push(owner.subarray(i));
  } else {
    while (i < all.length) {
      const lineEnd = all.indexOf('\r\n', i);
      if (lineEnd < 0) break;
      const size = parseInt(all.subarray(i, lineEnd).toString('latin1'), 16);
      if (!Number.isFinite(size) || size === 0) break;
      bodyParts.push(all.subarray(lineEnd + 2, lineEnd + 2 + size));
      ownerParts.push(owner.subarray(lineEnd + 2, lineEnd + 2 + size));
      i = lineEnd + 2 + size + 2;
    }
  }
  const body = Buffer.concat(bodyParts);
  const readOf = new Int32Array(body.length);
  let o = 0;
  for (const part of ownerParts) {
    readOf.set(part, o);
    o += part.length;
  }
  const events: RawEvent[] = [];
  let from = 0;
  for (;;) {
    const end = body.indexOf('\n\n', from);
    if (end < 0) break;
    const reads = new Set<number>();
    for (let b = from; b < end + 2; b++) reads.add(readOf[b] as number);
    const last = readOf[end + 1] as number;
    events.push({ text: body.subarray(from, end).toString('utf8'), reads, completedAt: readOfAt(last) ?? 0 });
    from = end + 2;
  }
  function readOfAt(index: number): number | undefined {
    return reads[index]?.at;
  }
  return { status, headers, startedAt, reads, body, readOf, events };
}

function chatBody(
  directive: GroundTruthDirective,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    model: MOCK_LLM_MODEL,
    stream: true,
    messages: [
      { role: 'user', content: 'an earlier question [owui-chaos seed=999 tokens=3]' },
      { role: 'assistant', content: 'earlier answer' },
      { role: 'user', content: formatDirective(directive) },
    ],
    ...extra,
  };
}

type Chunk = {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: unknown;
  owui_chaos: { sent_at: number };
};

function dataEvents(res: RawResponse): string[] {
  return res.events.map((e) => {
    expect(e.text.startsWith('data: ')).toBe(true);
    return e.text.slice(6);
  });
}

function chunks(res: RawResponse): Chunk[] {
  return dataEvents(res)
    .filter((d) => d !== '[DONE]')
    .map((d) => JSON.parse(d) as Chunk);
}

function contentOf(res: RawResponse): string {
  return chunks(res)
    .map((c) => c.choices[0]?.delta.content ?? '')
    .join('');
}

function contentEvents(res: RawResponse): RawEvent[] {
  return res.events.filter((e) => e.text.includes('"delta":{"content":'));
}

describe('mock LLM', () => {
  let llm: MockLlmServer;

  beforeAll(async () => {
    llm = await startMockLlm({ port: 0, pacing: { firstTokenMs: 20, tokensPerSecond: 400 } });
  });

  afterAll(async () => {
    await llm.close();
  });

  it('lists its model in OpenAI list shape at /v1/models and /models', async () => {
    for (const path of ['/v1/models', '/models']) {
      const res = await fetch(`${llm.url}${path}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        object: string;
        data: { id: string; object: string; owned_by: string }[];
      };
      expect(body.object).toBe('list');
      expect(body.data).toEqual([expect.objectContaining({ id: MOCK_LLM_MODEL, object: 'model' })]);
    }
  });

  it('streams OpenAI chunks: one id, role first, finish_reason stop, usage chunk, then [DONE]', async () => {
    const before = Date.now();
    const res = await rawPost(
      llm.port,
      chatBody({ seed: 7, tokens: 12 }, { stream_options: { include_usage: true } }),
    );
    expect(res.status).toBe(200);
    expect(res.headers).toMatch(/content-type: text\/event-stream/i);
    const data = dataEvents(res);
    expect(data.at(-1)).toBe('[DONE]');
    const all = chunks(res);
    expect(new Set(all.map((c) => c.id)).size).toBe(1);
    expect(all[0]?.id).toMatch(/^chatcmpl-/);
    for (const c of all) {
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.model).toBe(MOCK_LLM_MODEL);
      expect(c.owui_chaos.sent_at).toBeGreaterThanOrEqual(before - 1);
      expect(c.owui_chaos.sent_at).toBeLessThanOrEqual(Date.now() + 1);
    }
    expect(all[0]?.choices[0]?.delta.role).toBe('assistant');
    const usage = all.at(-1);
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage).toMatchObject({ completion_tokens: 12 });
    const finish = all.at(-2);
    expect(finish?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(all.slice(0, -2).every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
    // sent_at never decreases along the stream.
    const sent = all.map((c) => c.owui_chaos.sent_at);
    expect([...sent].sort((a, b) => a - b)).toEqual(sent);
  });

  it('sends no usage chunk unless stream_options.include_usage is true', async () => {
    const res = await rawPost(llm.port, chatBody({ seed: 7, tokens: 3 }));
    const all = chunks(res);
    expect(all.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(all.some((c) => 'usage' in c)).toBe(false);
  });

  it("streams exactly generateText(seed, n), from the LAST user message's directive", async () => {
    const res = await rawPost(llm.port, chatBody({ seed: 4242, tokens: 150 }));
    expect(contentOf(res)).toBe(generateText(4242, 150));
  });

  it('is deterministic: the same directive gives the same content bytes', async () => {
    const [a, b] = await Promise.all([
      rawPost(llm.port, chatBody({ seed: 31337, tokens: 80 })),
      rawPost(llm.port, chatBody({ seed: 31337, tokens: 80 })),
    ]);
    expect(Buffer.from(contentOf(a))).toEqual(Buffer.from(contentOf(b)));
    expect(chunks(a)[0]?.id).not.toBe(chunks(b)[0]?.id);
  });

  it('answers a prompt without directive deterministically, with the default length', async () => {
    const body = {
      model: MOCK_LLM_MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'hello there' }],
    };
    const [a, b] = await Promise.all([rawPost(llm.port, body), rawPost(llm.port, body)]);
    expect(contentOf(a)).toBe(contentOf(b));
    expect(contentEvents(a)).toHaveLength(200);
    const other = await rawPost(llm.port, {
      ...body,
      messages: [{ role: 'user', content: 'something else' }],
    });
    expect(contentOf(other)).not.toBe(contentOf(a));
  });

  it('streams to HTTP/1.0 clients without chunked framing', async () => {
    const res = await rawPost(llm.port, chatBody({ seed: 8, tokens: 20 }), { http10: true });
    expect(res.status).toBe(200);
    expect(res.headers).not.toMatch(/transfer-encoding/i);
    expect(contentOf(res)).toBe(generateText(8, 20));
    expect(dataEvents(res).at(-1)).toBe('[DONE]');
  });

  it('answers non-streaming requests with a chat.completion object', async () => {
    const res = await fetch(`${llm.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...chatBody({ seed: 5, tokens: 40 }), stream: false }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & {
      choices: { message: { role: string; content: string }; finish_reason: string }[];
    };
    expect(body['object']).toBe('chat.completion');
    expect(body.choices[0]?.message).toMatchObject({ role: 'assistant', content: generateText(5, 40) });
    expect(body.choices[0]?.finish_reason).toBe('stop');
    expect(body['usage']).toMatchObject({ completion_tokens: 40 });
  });

  it('serves /chat/completions without the /v1 prefix too', async () => {
    const res = await fetch(`${llm.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ ...chatBody({ seed: 5, tokens: 4 }), stream: false }),
    });
    expect(res.status).toBe(200);
  });

  it('rejects an unknown model with 404 and bad JSON with 400, as OpenAI error JSON', async () => {
    const unknown = await fetch(`${llm.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'gpt-nope', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: {
        message: expect.stringContaining('gpt-nope'),
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    });
    const bad = await fetch(`${llm.url}/v1/chat/completions`, { method: 'POST', body: '{"model": ' });
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { error: { message: string; type: string } };
    expect(badBody.error.type).toBe('invalid_request_error');
    expect(badBody.error.message).toMatch(/parse the JSON body/);
  });

  it('event mode: one event per write, never split across reads', async () => {
    const res = await rawPost(
      llm.port,
      chatBody({ seed: 11, tokens: 30, tokensPerSecond: 100, write: 'event' }),
    );
    const content = contentEvents(res);
    expect(content).toHaveLength(30);
    expect(content.every((e) => e.reads.size === 1)).toBe(true);
    // Reads carrying more than one content event are rare (only when the reader falls behind).
    const perRead = new Map<number, number>();
    for (const e of content) for (const r of e.reads) perRead.set(r, (perRead.get(r) ?? 0) + 1);
    expect([...perRead.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(3);
  });

  it('batch mode: several events per write', async () => {
    const res = await rawPost(
      llm.port,
      chatBody({ seed: 11, tokens: 30, tokensPerSecond: 100, write: 'batch' }),
    );
    const content = contentEvents(res);
    expect(content).toHaveLength(30);
    expect(content.every((e) => e.reads.size === 1)).toBe(true);
    const perRead = new Map<number, number>();
    for (const e of content) for (const r of e.reads) perRead.set(r, (perRead.get(r) ?? 0) + 1);
    const multi = [...perRead.values()].filter((n) => n >= 3).length;
    expect(multi).toBeGreaterThanOrEqual(8);
    expect(contentOf(res)).toBe(generateText(11, 30));
  });

  it('split mode: events arrive split across reads, some cuts inside a multi-byte character', async () => {
    // seed 3 yields plenty of CJK and emoji tokens.
    const res = await rawPost(
      llm.port,
      chatBody({ seed: 3, tokens: 60, tokensPerSecond: 200, write: 'split' }),
    );
    expect(contentOf(res)).toBe(generateText(3, 60));
    const all = res.events;
    const splitShare = all.filter((e) => e.reads.size > 1).length / all.length;
    expect(splitShare).toBeGreaterThan(0.9);
    expect(all.some((e) => e.reads.size >= 3)).toBe(true);
    // A read boundary where the next byte is a UTF-8 continuation byte = a cut inside a character.
    let insideChar = 0;
    for (let b = 1; b < res.body.length; b++) {
      if (res.readOf[b] !== res.readOf[b - 1] && ((res.body[b] as number) & 0xc0) === 0x80) insideChar++;
    }
    expect(insideChar).toBeGreaterThan(5);
  });

  it('paces the stream: first-token delay and tokens per second within 30 %', async () => {
    const res = await rawPost(
      llm.port,
      chatBody({ seed: 1, tokens: 21, firstTokenMs: 300, tokensPerSecond: 40 }),
    );
    const content = contentEvents(res);
    expect(content).toHaveLength(21);
    const ttft = (content[0]?.completedAt ?? 0) - res.startedAt;
    expect(ttft).toBeGreaterThan(300 * 0.7);
    expect(ttft).toBeLessThan(300 * 1.3);
    const span = (content.at(-1)?.completedAt ?? 0) - (content[0]?.completedAt ?? 0);
    // 20 intervals of 25 ms.
    expect(span).toBeGreaterThan(500 * 0.7);
    expect(span).toBeLessThan(500 * 1.3);
  });

  it('applies jitter: intervals vary but the average rate holds', async () => {
    const res = await rawPost(
      llm.port,
      chatBody({ seed: 1, tokens: 41, firstTokenMs: 10, tokensPerSecond: 100, jitter: 0.8 }),
    );
    const at = contentEvents(res).map((e) => e.completedAt);
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeGreaterThan(10 * 0.7);
    expect(mean).toBeLessThan(10 * 1.3);
    expect(sd).toBeGreaterThan(2);
  });

  it('stops the stream when the client disconnects (no more timers or tokens)', async () => {
    const before = llm.stats();
    await rawPost(llm.port, chatBody({ seed: 2, tokens: 5000, firstTokenMs: 0, tokensPerSecond: 50 }), {
      abortAfterEvents: 3,
    });
    const deadline = Date.now() + 2000;
    while (llm.stats().activeStreams > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    const afterAbort = llm.stats();
    expect(afterAbort.activeStreams).toBe(0);
    expect(afterAbort.abortedStreams).toBe(before.abortedStreams + 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(llm.stats().tokensSent).toBe(afterAbort.tokensSent);
  });

  it('reports stats at /stats', async () => {
    const stats = (await (await fetch(`${llm.url}/stats`)).json()) as Record<string, number>;
    expect(stats).toMatchObject({ activeStreams: 0 });
    expect(stats['totalStreams']).toBeGreaterThan(5);
    expect(stats['tokensSent']).toBeGreaterThan(100);
  });
});
