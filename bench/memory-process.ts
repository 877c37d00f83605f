// Child process (started with --expose-gc): the daemon's scanning core run for many full scans, with a
// /metrics render after each as Prometheus would, reading RSS and heap after a forced GC at marks.
// Nothing else lives in this process, so what it holds is what the daemon holds.

import { serve } from "./ipc.js";
import { benchMonitor } from "./monitor.js";
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

const MB = 1024 * 1024;

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("memory bench needs node --expose-gc");
  // Twice: the first pass may only queue finalizers whose memory the second one frees.
  gc();
  gc();
}

serve({
  async run(options: MemoryRun): Promise<MemoryMark[]> {
    const core = benchMonitor({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      concurrency: options.concurrency,
      exposeRelative: false,
      processMetrics: true,
    });
    const marks: MemoryMark[] = [];
    try {
      for (let scan = 1; scan <= options.scans; scan++) {
        await fullScan(core, options.certificates);
        await core.metrics.render();
        if (options.marks.includes(scan)) {
          collectGarbage();
          const usage = process.memoryUsage();
          marks.push({ scan, rssMb: usage.rss / MB, heapUsedMb: usage.heapUsed / MB });
        }
      }
    } finally {
      await core.close();
    }
    return marks;
  },
});
