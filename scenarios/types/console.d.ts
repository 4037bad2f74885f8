// k6 provides a `console` global (its logger) that @types/k6 does not declare; without DOM or Node
// types we declare the part the scenarios use.
declare const console: {
  log(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
};
