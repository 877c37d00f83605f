// Turns measurements into the sections of results.json, each judged against GOALS. Pure.

import type { CheckRun, CheckSeries } from "./check-process.js";
import type { DaemonMemory } from "./daemon-memory.js";
import type { MemoryUse } from "./memory-process.js";
import {
  GOALS,
  type ColdCheckResults,
  type DaemonMemoryResults,
  type EventLoopResults,
  type FirstScanResults,
  type InProcessMemoryResults,
  type MetricsResults,
  type ReadyResults,
  type ScalingResults,
  type ScrapeResults,
  type StartupResults,
} from "./results.js";
import { growthRatio, perThousand, type ScalePoint } from "./scaling.js";
import type { ScrapeBench, ScrapeTimes } from "./scrape.js";
import { idealScanMs } from "./scan.js";
import { median, round } from "./stats.js";

export interface Layout {
  readonly integrations: number;
  readonly certificatesPerIntegration: number;
  readonly latencyMs: number;
  readonly concurrency: number;
}

const growthPct = (from: number, to: number) => round(((to - from) / from) * 100, 2);

export function startupResults(bareMs: number, versionMs: number, runs: number): StartupResults {
  const limit = GOALS.versionFactor * bareMs + GOALS.versionExtraMs;
  return {
    bare_node_ms: round(bareMs, 1),
    version_ms: round(versionMs, 1),
    version_limit_ms: round(limit, 1),
    runs,
    met: versionMs <= limit,
  };
}

/** Throws when a run did not answer for everything: such a series has no time to report. */
export function coldCheckResults(series: CheckSeries, layout: Layout, bareMs: number): ColdCheckResults {
  if (series.problem !== null) throw new Error(`cold check of ${series.integrations}: ${series.problem}`);
  const ideal = idealScanMs(layout.latencyMs, layout.integrations, layout.concurrency);
  const ratio = series.wallMs / (ideal + bareMs);
  const first = series.runs[0]!;
  const cpuOf = (run: CheckRun) => run.probe.cpuUserMs + run.probe.cpuSystemMs;
  return {
    integrations: layout.integrations,
    certificates_per_integration: layout.certificatesPerIntegration,
    latency_ms: layout.latencyMs,
    concurrency: layout.concurrency,
    runs: series.runs.length,
    wall_ms: round(series.wallMs, 1),
    walls_ms: series.runs.map((run) => round(run.wallMs, 1)),
    exit_codes: series.runs.map((run) => run.code),
    requests: series.runs[0]!.probe.requests,
    first_request_ms: round(median(series.runs.map((run) => run.probe.firstRequestAtMs ?? NaN)), 1),
    scan_ms: round(
      median(
        series.runs.map((run) => (run.probe.lastResponseAtMs ?? NaN) - (run.probe.firstRequestAtMs ?? NaN)),
      ),
      1,
    ),
    after_scan_ms: round(
      median(series.runs.map((run) => run.probe.exitAtMs - (run.probe.lastResponseAtMs ?? NaN))),
      1,
    ),
    first_run_wall_ms: round(first.wallMs, 1),
    first_run_cpu_ms: round(cpuOf(first), 1),
    cached_cpu_ms: round(median(series.runs.slice(1).map(cpuOf)), 1),
    ideal_ms: ideal,
    bare_node_ms: round(bareMs, 1),
    ratio: round(ratio, 3),
    met: ratio <= GOALS.scanRatio,
  };
}

export function eventLoopResults(series: CheckSeries): EventLoopResults {
  if (series.problem !== null) throw new Error(`cold check of ${series.integrations}: ${series.problem}`);
  const scans = series.runs.map((run) => run.probe.scan!);
  const whole = series.runs.map((run) => run.probe.process);
  const worst = Math.max(...scans.map((scan) => scan.maxDelayMs));
  const worstRun = series.runs.find((run) => run.probe.scan!.maxDelayMs === worst)!.probe;
  return {
    scan_max_delay_ms: round(worst, 1),
    scan_max_delay_end_ms: round(worstRun.scan!.maxDelayEndMs - worstRun.firstRequestAtMs!, 1),
    scan_max_delay_median_ms: round(median(scans.map((scan) => scan.maxDelayMs)), 1),
    scan_p99_delay_ms: round(median(scans.map((scan) => scan.p99DelayMs)), 1),
    scan_long_stalls: scans.reduce((n, scan) => n + scan.longStalls, 0),
    process_max_delay_ms: round(Math.max(...whole.map((w) => w.maxDelayMs)), 1),
    process_p99_delay_ms: round(median(whole.map((w) => w.p99DelayMs)), 1),
    met: worst <= GOALS.scanStallMs,
  };
}

export function readyResults(readyMs: number, layout: Layout, runs: number): ReadyResults {
  return {
    integrations: layout.integrations,
    concurrency: layout.concurrency,
    latency_ms: layout.latencyMs,
    runs,
    ready_ms: round(readyMs, 1),
    ideal_ms: idealScanMs(layout.latencyMs, layout.integrations, layout.concurrency),
  };
}

export function firstScanResults(ready: ReadyResults, bareMs: number): FirstScanResults {
  const ratio = ready.ready_ms / (ready.ideal_ms + bareMs);
  return { ...ready, bare_node_ms: round(bareMs, 1), ratio: round(ratio, 3), met: ratio <= GOALS.scanRatio };
}

export function daemonMemoryResults(
  memory: DaemonMemory,
  options: { settings: string; integrations: number; schedule: string },
): DaemonMemoryResults {
  const [at20, at200] = memory.marks;
  if (!at20 || !at200) throw new Error("memory marks missing");
  const growth = growthPct(at20.rssMb, at200.rssMb);
  return {
    image_settings: options.settings,
    integrations: options.integrations,
    schedule: options.schedule,
    scans: memory.scans,
    scrapes: memory.scrapes,
    elapsed_s: round(memory.elapsedS, 1),
    bad_scans: memory.badScans,
    rss_mb_scan20: round(at20.rssMb, 1),
    rss_mb_scan200: round(at200.rssMb, 1),
    growth_pct: growth,
    peak_rss_mb: round(memory.highestRssMb, 1),
    rotation: {
      integration: memory.rotation.integration,
      journal_phases: memory.rotation.phases,
      audit: memory.rotation.audit,
      // Uploaded, read back, and the old certificates disabled (overlap 0s): the rule matched and ran.
      done: memory.rotation.phases.includes("retired"),
    },
    met_rss: at200.rssMb <= GOALS.rssMb,
    met_growth: growth < GOALS.growthPct,
  };
}

export function inProcessMemoryResults(
  use: MemoryUse,
  nodeOptions: readonly string[],
): InProcessMemoryResults {
  const [at20, at200] = use.marks;
  if (!at20 || !at200) throw new Error("memory marks missing");
  return {
    node_options: nodeOptions.join(" "),
    rss_mb_scan20: round(at20.rssMb, 1),
    heap_mb_scan20: round(at20.heapUsedMb, 1),
    rss_mb_scan200: round(at200.rssMb, 1),
    heap_mb_scan200: round(at200.heapUsedMb, 1),
    growth_pct: growthPct(at20.rssMb, at200.rssMb),
    peak_rss_mb: round(use.peakRssMb, 1),
  };
}

function scrapeResults(times: ScrapeTimes): ScrapeResults {
  return {
    p50_ms: round(times.p50Ms, 1),
    p99_ms: round(times.p99Ms, 1),
    scrapes: times.scrapes,
    wire_bytes: times.wireBytes,
    text_bytes: times.textBytes,
    met: times.p99Ms <= GOALS.scrapeP99Ms,
  };
}

export function metricsResults(scrape: ScrapeBench, integrations: number): MetricsResults {
  const ratio = scrape.identity.wireBytes / scrape.gzip.wireBytes;
  return {
    integrations,
    samples: scrape.samples,
    scans_meanwhile: scrape.scansMeanwhile,
    client_gunzip_ms: round(scrape.clientGunzipMs, 1),
    gzip: scrapeResults(scrape.gzip),
    identity: scrapeResults(scrape.identity),
    size_ratio: round(ratio, 2),
    met_samples: scrape.samples >= GOALS.samples,
    met_ratio: ratio >= GOALS.gzipRatio,
  };
}

/** Needs the 1,000-integration series and one smaller and one larger; throws on a series with a problem. */
export function scalingResults(
  all: readonly CheckSeries[],
  layout: Omit<Layout, "integrations">,
): ScalingResults {
  for (const series of all)
    if (series.problem !== null) throw new Error(`cold check of ${series.integrations}: ${series.problem}`);
  const points: ScalePoint[] = [...all]
    .sort((a, b) => a.integrations - b.integrations)
    .map((series) => ({
      integrations: series.integrations,
      wallMs: series.wallMs,
      cpuMs: series.cpuMs,
      maxRssMb: series.maxRssMb,
    }));
  const base = points[0]!;
  const mid = points.find((point) => point.integrations === 1_000);
  const large = points.at(-1)!;
  if (!mid || points.length < 3)
    throw new Error("scaling needs 1,000 integrations and a smaller and a larger run");
  const ratio = growthRatio(base, mid, large);
  return {
    latency_ms: layout.latencyMs,
    concurrency: layout.concurrency,
    points: points.map((point) => ({
      integrations: point.integrations,
      runs: all.find((series) => series.integrations === point.integrations)!.runs.length,
      wall_ms: round(point.wallMs, 1),
      cpu_ms: round(point.cpuMs, 1),
      max_rss_mb: round(point.maxRssMb, 1),
    })),
    per_1000: points.slice(1).map((point) => {
      const cost = perThousand(base, point);
      return {
        integrations: point.integrations,
        wall_ms: round(cost.wallMs, 1),
        cpu_ms: round(cost.cpuMs, 1),
        max_rss_mb: round(cost.maxRssMb, 1),
      };
    }),
    ratio: { wall: round(ratio.wallMs, 3), cpu: round(ratio.cpuMs, 3), rss: round(ratio.maxRssMb, 3) },
    met: Math.max(ratio.wallMs, ratio.cpuMs, ratio.maxRssMb) <= GOALS.scalingRatio,
  };
}
