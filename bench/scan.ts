// Scan efficiency: one full scan per concurrency level against an emulator that delays every answer,
// compared with the least time that latency allows (one list, then ceil(N / concurrency) rounds).
// Requests are counted by the emulator, not by the client.

import type { BenchEmulator } from "./emulator.js";
import { benchMonitor, certificateCount, type BenchMonitor } from "./monitor.js";
import type { ScanRow } from "./results.js";
import { round, timed } from "./stats.js";

export interface ScanBenchOptions {
  readonly integrations: number;
  readonly certificates: number;
  readonly latencyMs: number;
  readonly concurrencies: readonly number[];
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
    await emulator.clearLog();
    const { ms } = await withMonitor(concurrency, (core) =>
      timed(() => fullScan(core, options.certificates)),
    );
    const requests = (await emulator.requests()).total;
    const ideal = idealScanMs(options.latencyMs, options.integrations, concurrency);
    rows.push({ concurrency, requests, wall_ms: round(ms, 1), ideal_ms: ideal, ratio: round(ms / ideal, 3) });
  }
  return rows;
}
