// Parse cost, measured in fresh child processes (the parse cache is per process and must start cold):
// @peculiar/x509 through parseCertificate against node:crypto, and a repeated pass over unchanged PEMs.

import { ChildProcessHandle } from "./ipc.js";
import type { ParseMeasurement, ParseRun } from "./parse-process.js";
import type { ParseResults } from "./results.js";
import { median, round } from "./stats.js";

export interface ParseBench {
  readonly results: ParseResults;
  /** Real parses in the first and the repeated pass of the last run: the cache at work. */
  readonly firstPassParses: number;
  readonly secondPassParses: number;
}

async function measureOnce(run: ParseRun): Promise<ParseMeasurement> {
  const child = ChildProcessHandle.start(new URL("./parse-process.js", import.meta.url));
  try {
    return await child.call<ParseMeasurement>("run", run);
  } finally {
    await child.close();
  }
}

/** The median of `runs` fresh processes, each parsing `count` distinct PEMs after `warmup` others. */
export async function parseBench(run: ParseRun, runs: number): Promise<ParseBench> {
  const measurements: ParseMeasurement[] = [];
  for (let i = 0; i < runs; i++) measurements.push(await measureOnce(run));
  const peculiar = median(measurements.map((m) => m.peculiarMs));
  const native = median(measurements.map((m) => m.nativeMs));
  const shares = measurements.map((m) => m.cachedMs / m.peculiarMs);
  const last = measurements[measurements.length - 1]!;
  return {
    results: {
      peculiar_ms: round(peculiar, 1),
      native_ms: round(native, 1),
      ratio: round(peculiar / native, 2),
      cached_share: round(median(shares), 4),
    },
    firstPassParses: last.firstPass.parses,
    secondPassParses: last.secondPass.parses,
  };
}
