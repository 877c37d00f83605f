// Resolves on the first SIGTERM or SIGINT. A container's PID 1 gets no default signal handlers, so the
// daemon must install its own; a second signal while shutting down forces the exit.

export function untilSignal(onSecond: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) return onSecond();
      received = true;
      resolve(signal);
    };
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
  });
}
