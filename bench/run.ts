// `npm run bench`: scan efficiency, parse cost, /metrics rendering, memory and start-up against the
// emulator on 127.0.0.1, as ratios to their limits (issue 7). Prints a Markdown table and writes
// bench/results.json. Never part of `npm test`: it takes minutes and its numbers depend on the machine.

import { availableParallelism } from "node:os";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { benchCertificates } from "./certs.js";
import { startBenchEmulator, type BenchEmulator } from "./emulator.js";
import { imageNodeOptions } from "./image-options.js";
import { memoryBench } from "./memory.js";
import { parseBench } from "./parse.js";
import { renderBench } from "./render.js";
import type { Results } from "./results.js";
import { scanBench } from "./scan.js";
import { scrapeBench } from "./scrape.js";
import { round } from "./stats.js";
import { distIsStale, startupBench } from "./startup.js";
import { markdownTable, type Row } from "./table.js";

const RESULTS_FILE = fileURLToPath(new URL("../../bench/results.json", import.meta.url));

const INTEGRATIONS = 1_000;
const PER_INTEGRATION = 3;
const CERTIFICATES = INTEGRATIONS * PER_INTEGRATION;
const PARSE_WARMUP = 300;
const LATENCY_MS = 20;
const CONCURRENCIES = [1, 4, 8, 16];
const SCAN_RUNS = 3;
const GOAL_CONCURRENCY = 8;
const STARTUP_INTEGRATIONS = 100;
const SCRAPE_WARMUPS = 10;

const GOALS = {
  scanRatio: 1.15,
  cachedShare: 0.05,
  renderRatio: 1.3,
  p99Ms: 100,
  rssMb: 120,
  growthPct: 5,
};

function progress(step: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${step}`);
}

async function withEmulator<T>(
  layout: { integrations: number; certificatesPerIntegration: number },
  work: (emulator: BenchEmulator) => Promise<T>,
): Promise<T> {
  const emulator = await startBenchEmulator(layout);
  try {
    return await work(emulator);
  } finally {
    await emulator.close();
  }
}

const fixed = (value: number, digits: number) => value.toFixed(digits);

async function main(): Promise<void> {
  const imageFlags = imageNodeOptions();
  progress(`certificates (${CERTIFICATES + PARSE_WARMUP}, generated once and kept in a temp file)`);
  await benchCertificates(CERTIFICATES + PARSE_WARMUP);

  const layout = { integrations: INTEGRATIONS, certificatesPerIntegration: PER_INTEGRATION };
  const big = await withEmulator(layout, async (emulator) => {
    progress(`scan: ${INTEGRATIONS} integrations x ${PER_INTEGRATION}, ${LATENCY_MS} ms latency`);
    const scan = await scanBench(emulator, {
      integrations: INTEGRATIONS,
      certificates: CERTIFICATES,
      latencyMs: LATENCY_MS,
      concurrencies: CONCURRENCIES,
      runs: SCAN_RUNS,
    });
    progress("metrics: render vs prom-client baseline");
    const render = await renderBench(emulator, CERTIFICATES);
    progress(`metrics: ${SCRAPE_WARMUPS} + 200 scrapes over HTTP while scans run`);
    const scrape = await scrapeBench(emulator, {
      scrapes: 200,
      warmups: SCRAPE_WARMUPS,
      pauseMs: 20,
      latencyMs: LATENCY_MS,
      concurrency: 4,
      certificates: CERTIFICATES,
    });
    const memoryRun = { concurrency: 8, certificates: CERTIFICATES, scans: 200, marks: [20, 200] };
    progress(`memory: 200 scans in a child process with the image's ${imageFlags.join(" ")}`);
    const memory = await memoryBench(emulator, memoryRun, imageFlags);
    progress("memory: the same with Node's default heap sizes");
    const memoryDefaults = await memoryBench(emulator, memoryRun, []);
    return { scan, render, scrape, memory, memoryDefaults };
  });

  progress("parse: 3 fresh processes");
  const parse = await parseBench(
    { integrations: INTEGRATIONS, certificatesPerIntegration: PER_INTEGRATION, warmup: PARSE_WARMUP },
    3,
  );

  progress(`startup: node dist/cli.js run, ${STARTUP_INTEGRATIONS} integrations`);
  const stale = await distIsStale();
  const readyMs = await withEmulator(
    { integrations: STARTUP_INTEGRATIONS, certificatesPerIntegration: PER_INTEGRATION },
    (emulator) => startupBench(emulator, 5),
  );

  const [at20, at200] = big.memory.marks;
  const [default20, default200] = big.memoryDefaults.marks;
  if (!at20 || !at200 || !default20 || !default200) throw new Error("memory marks missing");
  const results: Results = {
    machine: { cores: availableParallelism(), node: process.version, date: new Date().toISOString() },
    scan: big.scan,
    parse: parse.results,
    metrics: {
      render_ms: round(big.render.renderMs, 2),
      baseline_ms: round(big.render.baselineMs, 2),
      ratio: round(big.render.renderMs / big.render.baselineMs, 2),
      p50_ms: round(big.scrape.p50Ms, 2),
      p99_ms: round(big.scrape.p99Ms, 2),
    },
    memory: {
      rss_mb_scan20: round(at20.rssMb, 1),
      rss_mb_scan200: round(at200.rssMb, 1),
      growth_pct: round(((at200.rssMb - at20.rssMb) / at20.rssMb) * 100, 2),
      peak_rss_mb: round(big.memory.peakRssMb, 1),
      node_options: imageFlags.join(" "),
    },
    startup: { ready_ms: round(readyMs, 0) },
  };
  await writeFile(RESULTS_FILE, JSON.stringify(results, null, 2) + "\n");

  const expectedRequests = 1 + INTEGRATIONS;
  const rows: Row[] = [
    ...results.scan.map((row): Row => ({
      measure: `scan, concurrency ${row.concurrency} (median of ${SCAN_RUNS}): requests; wall / ideal ms (bare client's floor)`,
      value: `${row.requests}; ${fixed(row.wall_ms, 0)} / ${row.ideal_ms} = ${fixed(row.ratio, 3)} (${fixed(row.floor_ratio, 3)})`,
      goal:
        row.concurrency === GOAL_CONCURRENCY
          ? `${expectedRequests}; <= ${GOALS.scanRatio}`
          : `${expectedRequests}`,
      met:
        row.requests === expectedRequests &&
        (row.concurrency !== GOAL_CONCURRENCY || row.ratio <= GOALS.scanRatio),
    })),
    {
      measure: `parse ${CERTIFICATES} new PEMs: @peculiar/x509 / node:crypto ms`,
      value: `${fixed(results.parse.peculiar_ms, 0)} / ${fixed(results.parse.native_ms, 0)} = ${fixed(results.parse.ratio, 2)}`,
      goal: "",
      met: null,
    },
    {
      measure: "parse, repeated scan: share of first scan's time (parse calls)",
      value: `${fixed(results.parse.cached_share * 100, 2)}% (${parse.repeatedScanCalls}; first: ${parse.firstScanParses})`,
      goal: `< ${GOALS.cachedShare * 100}% (0)`,
      met: results.parse.cached_share < GOALS.cachedShare && parse.repeatedScanCalls === 0,
    },
    {
      measure: "parse, repeated: with parseCertificate's DER-hash cache alone",
      value: `${fixed(parse.hashCacheShare * 100, 2)}%`,
      goal: "",
      met: null,
    },
    {
      measure: `/metrics render, ${big.render.samples} samples: ours / prom-client ms`,
      value: `${fixed(results.metrics.render_ms, 1)} / ${fixed(results.metrics.baseline_ms, 1)} = ${fixed(results.metrics.ratio, 2)}`,
      goal: `<= ${GOALS.renderRatio}`,
      met: results.metrics.ratio <= GOALS.renderRatio,
    },
    {
      measure: `/metrics over HTTP during scans (${big.scrape.scrapes} scrapes, ${big.scrape.scansMeanwhile} scans): p50 / p99 ms`,
      value: `${fixed(results.metrics.p50_ms, 1)} / ${fixed(results.metrics.p99_ms, 1)}`,
      goal: `p99 < ${GOALS.p99Ms}`,
      met: results.metrics.p99_ms < GOALS.p99Ms,
    },
    {
      measure: `/metrics: first scrape of the fresh process (of ${SCRAPE_WARMUPS} warm-up scrapes, not counted above)`,
      value: `${fixed(big.scrape.firstMs, 1)} ms`,
      goal: "",
      met: null,
    },
    {
      measure: `memory after scan 20 / 200, image's ${results.memory.node_options}: RSS MB (heap MB)`,
      value: `${fixed(at20.rssMb, 1)} (${fixed(at20.heapUsedMb, 1)}) / ${fixed(at200.rssMb, 1)} (${fixed(at200.heapUsedMb, 1)})`,
      goal: `< ${GOALS.rssMb}`,
      met: at200.rssMb < GOALS.rssMb && at20.rssMb < GOALS.rssMb,
    },
    {
      measure: "memory: highest RSS during the 200 scans, garbage included",
      value: `${fixed(big.memory.peakRssMb, 1)}`,
      goal: "",
      met: null,
    },
    {
      measure: "memory with Node's default heap sizes (not in results.json): RSS MB (heap MB); peak",
      value: `${fixed(default20.rssMb, 1)} (${fixed(default20.heapUsedMb, 1)}) / ${fixed(default200.rssMb, 1)} (${fixed(default200.heapUsedMb, 1)}); ${fixed(big.memoryDefaults.peakRssMb, 1)}`,
      goal: "",
      met: null,
    },
    {
      measure: "memory: RSS growth scan 20 -> 200",
      value: `${fixed(results.memory.growth_pct, 2)}%`,
      goal: `< ${GOALS.growthPct}%`,
      met: results.memory.growth_pct < GOALS.growthPct,
    },
    {
      measure: `start-up to /readyz 200, ${STARTUP_INTEGRATIONS} integrations (median of 5)`,
      value: `${fixed(results.startup.ready_ms, 0)} ms`,
      goal: "",
      met: null,
    },
  ];
  console.log(markdownTable(rows));
  console.log(
    `\n${results.machine.cores} cores, Node ${results.machine.node}, ${results.machine.date}; results in bench/results.json`,
  );
  if (stale)
    console.log("warning: dist/ is older than src/; run `npm run build` first for a current start-up time");
}

await main();
