// The parent's handle on an emulator child process: start it with a layout of integrations and
// certificates, change its latency, read how many requests it has seen. Never runs the emulator here.

import { ChildProcessHandle } from "./ipc.js";

export interface EmulatorLayout {
  readonly integrations: number;
  readonly certificatesPerIntegration: number;
}

export interface RequestCount {
  readonly total: number;
  /** GET /v3/sso/integrations: one per account scan. */
  readonly integrationLists: number;
  /** Dropped or answered with a 4xx/5xx. */
  readonly failed: number;
}

export interface BenchEmulator {
  readonly url: string;
  readonly apiKey: string;
  setLatency(ms: number): Promise<void>;
  requests(): Promise<RequestCount>;
  clearLog(): Promise<void>;
  close(): Promise<void>;
}

export const BENCH_API_KEY = "SG.bench-emulator-key";

export async function startBenchEmulator(layout: EmulatorLayout): Promise<BenchEmulator> {
  const child = ChildProcessHandle.start(new URL("./emulator-process.js", import.meta.url));
  try {
    const url = await child.call<string>("start", layout);
    return {
      url,
      apiKey: BENCH_API_KEY,
      setLatency: (ms) => child.call("latency", ms),
      requests: () => child.call("requests"),
      clearLog: () => child.call("clearLog"),
      close: () => child.close(),
    };
  } catch (error) {
    await child.close();
    throw error;
  }
}
