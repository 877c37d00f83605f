// Child process (started with --expose-gc): the daemon's scanning core run for many full scans, with a
// /metrics render after each as Prometheus would, reading RSS and heap after forced GCs at marks, and
// the highest RSS seen meanwhile (garbage included: what a container's memory limit must allow).
// No emulator and no bench bookkeeping live here: what the process holds is the scanning core's own.

import { setTimeout as sleep } from "node:timers/promises";
import { serve } from "./ipc.js";
import { benchMonitor, type BenchMonitor } from "./monitor.js";
import { fullScan } from "./scan.js";

export interface MemoryRun {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly concurrency: number;
  readonly certificates: number;
  readonly scans: number;
  /** Scan numbers after which memory is read. */
  readonly marks: readonly number[];
}

export interface MemoryMark {
  readonly scan: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
}

export interface MemoryUse {
  readonly marks: readonly MemoryMark[];
  /** Highest RSS sampled during the scans, before any forced GC. */
  readonly peakRssMb: number;
}

const MB = 1024 * 1024;
const SETTLE_MS = 500;
const PEAK_SAMPLE_MS = 10;

/** Full GCs, then a pause: V8 hands freed pages back to the system from a background thread. */
async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("memory bench needs node --expose-gc");
  // Twice: the first pass may only queue finalizers whose memory the second one frees.
  gc();
  gc();
  await sleep(SETTLE_MS);
}

/** The chunks the HTTP server writes, dropped before this returns: no frame holds them at the GC. */
async function scrape(core: BenchMonitor): Promise<number> {
  return (await core.metrics.renderChunks()).length;
}

serve({
  async run(options: MemoryRun): Promise<MemoryUse> {
    const core = benchMonitor({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      concurrency: options.concurrency,
      exposeRelative: false,
      processMetrics: true,
    });
    const marks: MemoryMark[] = [];
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), PEAK_SAMPLE_MS);
    try {
      for (let scan = 1; scan <= options.scans; scan++) {
        await fullScan(core, options.certificates);
        await scrape(core);
        if (options.marks.includes(scan)) {
          await collectGarbage();
          const usage = process.memoryUsage();
          marks.push({ scan, rssMb: usage.rss / MB, heapUsedMb: usage.heapUsed / MB });
        }
      }
    } finally {
      clearInterval(sampler);
      await core.close();
    }
    return { marks, peakRssMb: peak / MB };
  },
});
