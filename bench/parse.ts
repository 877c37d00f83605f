// Parse cost, measured in fresh child processes (the parse cache is per process and must start cold):
// the scanner's parse step with @peculiar/x509 against node:crypto, and a repeated scan of unchanged
// certificates against the first.

import { ChildProcessHandle } from "./ipc.js";
import type { ParseMeasurement, ParseRun } from "./parse-process.js";
import type { ParseResults } from "./results.js";
import { median, round } from "./stats.js";

export interface ParseBench {
  readonly results: ParseResults;
  /** Real parses in the first scan of the last run. */
  readonly firstScanParses: number;
  /** parseCertificate calls (parses and cache hits) in the repeated scan of the last run. */
  readonly repeatedScanCalls: number;
  /** What a repeated scan would cost with parseCertificate's own DER-hash cache alone. */
  readonly hashCacheShare: number;
}

async function measureOnce(run: ParseRun): Promise<ParseMeasurement> {
  const child = ChildProcessHandle.start(new URL("./parse-process.js", import.meta.url));
  try {
    return await child.call<ParseMeasurement>("run", run);
  } finally {
    await child.close();
  }
}

/** The medians of `runs` fresh processes. */
export async function parseBench(run: ParseRun, runs: number): Promise<ParseBench> {
  const measurements: ParseMeasurement[] = [];
  for (let i = 0; i < runs; i++) measurements.push(await measureOnce(run));
  const peculiar = median(measurements.map((m) => m.peculiarMs));
  const native = median(measurements.map((m) => m.nativeMs));
  const last = measurements[measurements.length - 1]!;
  return {
    results: {
      peculiar_ms: round(peculiar, 1),
      native_ms: round(native, 1),
      ratio: round(peculiar / native, 2),
      cached_share: round(median(measurements.map((m) => m.repeatedMs / m.peculiarMs)), 4),
    },
    firstScanParses: last.firstPass.parses,
    repeatedScanCalls: last.secondPass.parses + last.secondPass.cacheHits,
    hashCacheShare: median(measurements.map((m) => m.hashCacheMs / m.peculiarMs)),
  };
}
