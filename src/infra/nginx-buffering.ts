// The buffering block of a lab-rendered nginx config: the marked lines that the lab writes
// (src/lab/nginx/nginx-config.ts) and the `nginx.buffering` fault swaps in place
// (src/drivers/nginx). Both sides share this one definition of the markers and the block, so the
// fault always recognises what the lab rendered. Pure text, no I/O.

/** Swaps the marked buffering block of a rendered config (the buffering fault); nothing else changes. */
export function setProxyBuffering(config: string, buffering: 'on' | 'off'): string {
  const block = (): RegExp =>
    new RegExp(
      `^[ \\t]*${escapeRe(BUFFERING_BEGIN)}\\n[\\s\\S]*?^[ \\t]*${escapeRe(BUFFERING_END)}\\n`,
      'gm',
    );
  if (!block().test(config))
    throw new Error('the nginx config has no owui-chaos buffering block (was it rendered by the lab?)');
  return config.replace(block(), `${bufferingBlock(buffering).join('\n')}\n`);
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What `proxy_buffering on` means in the lab. nginx (≥ 1.1.4) forwards every complete chunk of an
 * HTTP/1.1 chunked response at once even with buffering on, so buffering alone does not delay SSE.
 * The bursts people see (open-webui/docs#308) come from buffering on together with nginx's default
 * `proxy_http_version 1.0`: the upstream then sends a close-delimited body and nginx holds it until
 * a 4/8 KB buffer fills. `on` reproduces that misconfiguration for plain HTTP (`location /`);
 * websockets keep their own HTTP/1.1 location either way. The markers let the buffering fault
 * swap exactly this block and restore the original bytes.
 */
export function bufferingBlock(buffering: 'on' | 'off', httpVersion: '1.1' | '1.0' = '1.1'): string[] {
  return [
    `      ${BUFFERING_BEGIN}`,
    ...(buffering === 'on'
      ? ['      proxy_http_version 1.0;', '      proxy_buffering on;']
      : [`      proxy_http_version ${httpVersion};`, '      proxy_buffering off;']),
    `      ${BUFFERING_END}`,
  ];
}

export const BUFFERING_BEGIN = '# owui-chaos:buffering begin';
export const BUFFERING_END = '# owui-chaos:buffering end';
