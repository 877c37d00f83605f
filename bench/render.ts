// /metrics rendering cost: Metrics.render() for a full inventory against prom-client rendering the very
// same samples (names, label sets, values) from plain Gauges set once, which is the library's own cost.

import { Gauge, Registry } from "prom-client";
import { parsePrometheusText, type Family } from "../test/helpers/prom-text.js";
import type { BenchEmulator } from "./emulator.js";
import { benchMonitor } from "./monitor.js";
import { fullScan } from "./scan.js";
import { median, timed } from "./stats.js";

export interface RenderBench {
  readonly renderMs: number;
  readonly baselineMs: number;
  readonly samples: number;
}

const WARMUPS = 10;
const RUNS = 40;

function sampleCount(text: string): number {
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).length;
}

/** One bare Gauge per sample name (a histogram family gives _bucket, _sum and _count), set once. */
function addFamily(registry: Registry, family: Family): void {
  const byName = new Map<string, Family["samples"]>();
  for (const sample of family.samples) byName.set(sample.name, [...(byName.get(sample.name) ?? []), sample]);
  for (const [name, samples] of byName) {
    const labelNames = [...new Set(samples.flatMap((sample) => Object.keys(sample.labels)))];
    const gauge = new Gauge({ name, help: family.help ?? name, labelNames, registers: [registry] });
    for (const sample of samples) gauge.set(sample.labels, sample.value);
  }
}

export function baselineRegistry(text: string): Registry {
  const registry = new Registry();
  for (const family of parsePrometheusText(text).families.values()) addFamily(registry, family);
  return registry;
}

/** Times both renderings alternately, so load on the machine falls on both alike. */
export async function renderBench(emulator: BenchEmulator, certificates: number): Promise<RenderBench> {
  await emulator.setLatency(0);
  const core = benchMonitor({
    baseUrl: emulator.url,
    apiKey: emulator.apiKey,
    concurrency: 16,
    exposeRelative: true,
    processMetrics: false,
  });
  try {
    await fullScan(core, certificates);
    const text = await core.metrics.render();
    const baseline = baselineRegistry(text);
    const samples = sampleCount(text);
    const baselineSamples = sampleCount(await baseline.metrics());
    if (baselineSamples !== samples)
      throw new Error(`baseline renders ${baselineSamples} samples, not ${samples}`);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < WARMUPS + RUNS; i++) {
      const a = await timed(() => core.metrics.render());
      const b = await timed(() => baseline.metrics());
      if (i >= WARMUPS) {
        ours.push(a.ms);
        theirs.push(b.ms);
      }
    }
    return { renderMs: median(ours), baselineMs: median(theirs), samples };
  } finally {
    await core.close();
  }
}
