// Scan efficiency: full scans at each concurrency level against an emulator that delays every answer,
// compared with the least time that latency allows (one list, then ceil(N / concurrency) rounds) and
// with the floor of a bare client (floor.ts). Each row is the median of a few scans, since one scan on
// a shared machine moves by more than the daemon's own cost. Requests are counted by the emulator.

import type { BenchEmulator } from "./emulator.js";
import { bareScanMs } from "./floor.js";
import { benchMonitor, certificateCount, type BenchMonitor } from "./monitor.js";
import type { ScanRow } from "./results.js";
import { median, round, timed } from "./stats.js";

export interface ScanBenchOptions {
  readonly integrations: number;
  readonly certificates: number;
  readonly latencyMs: number;
  readonly concurrencies: readonly number[];
  /** Scans per row (and bare scans for its floor); the row shows the medians. */
  readonly runs: number;
}

export const idealScanMs = (latencyMs: number, integrations: number, concurrency: number): number =>
  latencyMs * (1 + Math.ceil(integrations / concurrency));

/** One scan; throws when it did not read everything, since its timing would then mean nothing. */
export async function fullScan(core: BenchMonitor, expectedCertificates: number): Promise<void> {
  const result = await core.monitor.scan();
  if (!result) throw new Error("scan skipped: another was running");
  if (result.failures.length > 0) {
    throw new Error(`scan met ${result.failures.length} failures, first: ${result.failures[0]!.message}`);
  }
  const seen = certificateCount(core.monitor);
  if (seen !== expectedCertificates)
    throw new Error(`scan saw ${seen} certificates, not ${expectedCertificates}`);
}

export async function scanBench(emulator: BenchEmulator, options: ScanBenchOptions): Promise<ScanRow[]> {
  const withMonitor = async <T>(
    concurrency: number,
    work: (core: BenchMonitor) => Promise<T>,
  ): Promise<T> => {
    const core = benchMonitor({
      baseUrl: emulator.url,
      apiKey: emulator.apiKey,
      concurrency,
      exposeRelative: false,
      processMetrics: false,
    });
    try {
      return await work(core);
    } finally {
      await core.close();
    }
  };

  await emulator.setLatency(options.latencyMs);
  // Untimed: compiles the hot paths and fills the parse cache, so each row measures the requests only.
  await withMonitor(Math.max(...options.concurrencies), (core) => fullScan(core, options.certificates));

  const rows: ScanRow[] = [];
  for (const concurrency of options.concurrencies) {
    const walls: number[] = [];
    const floors: number[] = [];
    let requests = 0;
    for (let run = 0; run < options.runs; run++) {
      await emulator.clearLog();
      const { ms } = await withMonitor(concurrency, (core) =>
        timed(() => fullScan(core, options.certificates)),
      );
      walls.push(ms);
      // Any run that made other than 1 + N requests shows, not just the last one's count.
      const made = (await emulator.requests()).total;
      if (run === 0 || made !== 1 + options.integrations) requests = made;
      floors.push(await bareScanMs(emulator, concurrency));
    }
    const ideal = idealScanMs(options.latencyMs, options.integrations, concurrency);
    const wall = median(walls);
    const floor = median(floors);
    rows.push({
      concurrency,
      requests,
      wall_ms: round(wall, 1),
      ideal_ms: ideal,
      ratio: round(wall / ideal, 3),
      floor_ms: round(floor, 1),
      floor_ratio: round(floor / ideal, 3),
    });
  }
  return rows;
}
