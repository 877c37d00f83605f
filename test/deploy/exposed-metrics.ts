// The metric names a real daemon exposes: one scan of the demo emulator, then /metrics read over HTTP.
// Families without samples yet (rotations, backoff) still carry their HELP/TYPE lines, so every metric the
// registry defines is listed, and a renamed metric disappears from this set.

import { startTestDaemon } from "../helpers/start-daemon.js";
import { startTestEmulator } from "../helpers/start-emulator.js";

/** Series names Prometheus itself adds next to what it scrapes. */
export const PROMETHEUS_SERIES = ["up", "ALERTS", "ALERTS_FOR_STATE"] as const;

export async function exposedMetricNames(): Promise<Set<string>> {
  const emulator = await startTestEmulator({ seed: { kind: "demo" } });
  try {
    const test = await startTestDaemon({ emulator });
    try {
      await test.daemon.tick();
      await test.daemon.monitor.idle();
      const exposition = await test.scrape();
      const names = new Set<string>();
      for (const family of exposition.families.values()) {
        names.add(family.name);
        const suffixes =
          family.type === "histogram"
            ? ["_bucket", "_sum", "_count"]
            : family.type === "summary"
              ? ["_sum", "_count"]
              : [];
        for (const suffix of suffixes) names.add(family.name + suffix);
      }
      return names;
    } finally {
      await test.close();
    }
  } finally {
    await emulator.close();
  }
}
