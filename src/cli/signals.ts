// Resolves on the first SIGINT or SIGTERM, so a long-running lab server command can close its
// server and return normally (exit 0). Used by `mock-llm` and `lab toxiproxy-server`.

export function waitForSignal(signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      for (const s of signals) process.off(s, onSignal);
      resolve(signal);
    };
    for (const s of signals) process.on(s, onSignal);
  });
}
