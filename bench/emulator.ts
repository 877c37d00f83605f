// The parent's handle on an emulator child process: start it with a layout of integrations and
// certificates, change its latency. Never runs the emulator here.

import { ChildProcessHandle } from "./ipc.js";

export interface EmulatorLayout {
  readonly integrations: number;
  readonly certificatesPerIntegration: number;
}

export interface BenchEmulator {
  readonly url: string;
  readonly apiKey: string;
  setLatency(ms: number): Promise<void>;
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
      close: () => child.close(),
    };
  } catch (error) {
    await child.close();
    throw error;
  }
}
