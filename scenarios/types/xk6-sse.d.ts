// Types of the xk6-sse extension's JS module (github.com/phymbert/xk6-sse), present only in k6
// binaries built with it. Only what lib/api-chat-xk6.ts uses.
declare module 'k6/x/sse' {
  export interface SseEvent {
    id: string;
    name: string;
    data: string;
  }
  export interface SseClient {
    on(event: 'open', handler: () => void): void;
    on(event: 'event', handler: (event: SseEvent) => void): void;
    on(event: 'error', handler: (error: { error(): string }) => void): void;
    close(): void;
  }
  export interface SseParams {
    method?: string;
    body?: string;
    headers?: Record<string, string>;
    tags?: Record<string, string>;
  }
  export interface SseResponse {
    status: number;
    error?: string;
  }
  const sse: { open(url: string, params: SseParams, handler: (client: SseClient) => void): SseResponse };
  export default sse;
}
