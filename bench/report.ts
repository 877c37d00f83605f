// The rows of the bench's Markdown table, read from results.json's sections alone: one row per goal of
// issue 16 (met or not), context rows without a goal, and the old in-process memory rows as extras. A
// section that failed shows as a failed row naming why.

import { GOALS, type Results } from "./results.js";
import type { Row } from "./table.js";

const ms = (value: number) => Math.round(value).toLocaleString("en-US");
const mb = (value: number) => value.toFixed(1);
const n = (value: number) => value.toLocaleString("en-US");

function failedRow(measure: string, goal: string, results: Results, step: string): Row {
  const failure = results.failures.find((f) => f.step.startsWith(step));
  return { measure, value: `FAILED: ${failure?.error.split("\n")[0] ?? "not measured"}`, goal, met: false };
}

export function reportRows(results: Results): Row[] {
  const rows: Row[] = [];
  const {
    startup,
    cold_check: cold,
    event_loop: loop,
    daemon_first_scan: first,
    ready_small: small,
  } = results;
  const { memory, metrics, scaling } = results;

  rows.push(
    startup
      ? {
          measure: `Start-up: bare \`node -e 0\` (median of ${startup.runs})`,
          value: `${ms(startup.bare_node_ms)} ms`,
          goal: "",
          met: null,
        }
      : failedRow("Start-up: bare `node -e 0`", "", results, "node start-up"),
  );
  rows.push(
    startup
      ? {
          measure: `Start-up: \`node dist/cli.js --version\` (median of ${startup.runs})`,
          value: `${ms(startup.version_ms)} ms`,
          goal: `<= ${GOALS.versionFactor} x bare + ${GOALS.versionExtraMs} = ${ms(startup.version_limit_ms)} ms`,
          met: startup.met,
        }
      : failedRow("Start-up: `--version`", "", results, "node start-up"),
  );

  const coldMeasure = "Cold `check --json` process, 1,000 x 3 @ 20 ms, C=8";
  rows.push(
    cold
      ? {
          measure: `${coldMeasure} (median of ${cold.runs}; exits ${[...new Set(cold.exit_codes)].join("/")}, ${n(cold.requests)} requests): wall / (ideal + bare start-up)`,
          value: `${ms(cold.wall_ms)} / (${ms(cold.ideal_ms)} + ${ms(cold.bare_node_ms)}) = **${cold.ratio.toFixed(2)}**`,
          goal: `<= ${GOALS.scanRatio}`,
          met: cold.met,
        }
      : failedRow(coldMeasure, `<= ${GOALS.scanRatio}`, results, "cold check 1000"),
  );
  if (cold)
    rows.push({
      measure:
        "Same check, inside the process (medians): first API request sent after start; first request to last response (/ ideal); last response to exit",
      value: `${ms(cold.first_request_ms)}; ${ms(cold.scan_ms)} (${(cold.scan_ms / cold.ideal_ms).toFixed(2)}); ${ms(cold.after_scan_ms)} ms`,
      goal: "",
      met: null,
    });
  if (cold)
    rows.push({
      measure:
        "Same check: the first run, whose state_dir held no parse cache yet: wall; CPU user+sys / the other runs' CPU (median)",
      value: `${ms(cold.first_run_wall_ms)} ms; ${ms(cold.first_run_cpu_ms)} / ${ms(cold.cached_cpu_ms)} ms`,
      goal: "",
      met: null,
    });
  rows.push(
    loop && cold
      ? {
          measure: `Event loop during that check's scan (first request to last response): max delay, worst of ${cold.runs} (median; p99)`,
          value: `**${loop.scan_max_delay_ms.toFixed(1)}** (${loop.scan_max_delay_median_ms.toFixed(1)}; ${loop.scan_p99_delay_ms.toFixed(1)}) ms; ended ${ms(loop.scan_max_delay_end_ms)} ms after the first request; ${loop.scan_long_stalls} stalls > ${GOALS.scanStallMs} ms in all runs`,
          goal: `<= ${GOALS.scanStallMs} ms`,
          met: loop.met,
        }
      : failedRow(
          "Event loop during the cold check's scan",
          `<= ${GOALS.scanStallMs} ms`,
          results,
          "cold check 1000",
        ),
  );
  if (loop)
    rows.push({
      measure: "Same check, whole process (module loading included): max delay, worst run (p99)",
      value: `${loop.process_max_delay_ms.toFixed(1)} (${loop.process_p99_delay_ms.toFixed(1)}) ms`,
      goal: "",
      met: null,
    });

  const firstMeasure = "Daemon's first scan: `run` to the first `/readyz` 200, 1,000 x 3 @ 20 ms, C=8";
  rows.push(
    first
      ? {
          measure: `${firstMeasure} (median of ${first.runs} daemons on one state_dir: the first parses, the others find its parse cache): wall / (ideal + bare start-up)`,
          value: `${ms(first.ready_ms)} / (${ms(first.ideal_ms)} + ${ms(first.bare_node_ms)}) = **${first.ratio.toFixed(2)}**`,
          goal: `<= ${GOALS.scanRatio}`,
          met: first.met,
        }
      : failedRow(firstMeasure, `<= ${GOALS.scanRatio}`, results, "daemon's first scan"),
  );
  rows.push(
    small
      ? {
          measure: `Start-up: \`run\` to the first \`/readyz\` 200, ${n(small.integrations)} x 3 @ ${small.latency_ms} ms, C=${small.concurrency} (median of ${small.runs}; ideal ${ms(small.ideal_ms)} ms)`,
          value: `${ms(small.ready_ms)} ms`,
          goal: "reported",
          met: null,
        }
      : failedRow(
          "Start-up: `run` to the first `/readyz` 200, 100 x 3",
          "reported",
          results,
          "run to /readyz",
        ),
  );

  const memoryMeasure = "Memory: real `run` daemon, 1,000 x 3, started as the image starts it";
  if (memory) {
    const rotation = memory.rotation;
    rows.push(
      {
        measure: `${memoryMeasure}, scan every second, gzip scrape every 15 s, rotation on: VmRSS MB at scan 20 / 200`,
        value: `${mb(memory.rss_mb_scan20)} / **${mb(memory.rss_mb_scan200)}**`,
        goal: `<= ${GOALS.rssMb} (on Node 24)`,
        met: memory.met_rss,
      },
      {
        measure: "Same daemon: RSS growth scan 20 -> 200",
        value: `**${memory.growth_pct.toFixed(2)} %**`,
        goal: `< ${GOALS.growthPct} %`,
        met: memory.met_growth,
      },
      {
        measure: `Same daemon: highest RSS (VmHWM) over ${memory.scans} scans and ${memory.scrapes} scrapes in ${Math.round(memory.elapsed_s)} s`,
        value: `${mb(memory.peak_rss_mb)} MB`,
        goal: "",
        met: null,
      },
      {
        measure: `Same daemon: the rotation rule's integration (${rotation.integration}) in the journal; audit log; scans with failures`,
        value: `${rotation.journal_phases.join(", ") || "no rotation"}; ${rotation.audit.join(", ") || "empty"}; ${memory.bad_scans}`,
        goal: "retired; 0",
        met: rotation.done && memory.bad_scans === 0,
      },
    );
  } else rows.push(failedRow(memoryMeasure, `<= ${GOALS.rssMb}`, results, "memory: real daemon"));

  const extra = results.memory_in_process;
  const extraDefault = results.memory_in_process_default_heap;
  if (extra)
    rows.push({
      measure:
        "Extra: in-process scanning core (no server, logging, cron, rotation), image's heap flags, forced GC: RSS (heap) MB at scan 20 / 200; growth; peak",
      value: `${mb(extra.rss_mb_scan20)} (${mb(extra.heap_mb_scan20)}) / ${mb(extra.rss_mb_scan200)} (${mb(extra.heap_mb_scan200)}); ${extra.growth_pct.toFixed(2)} %; ${mb(extra.peak_rss_mb)}`,
      goal: "",
      met: null,
    });
  if (extraDefault)
    rows.push({
      measure: "Extra: the same with Node's default heap sizes",
      value: `${mb(extraDefault.rss_mb_scan20)} (${mb(extraDefault.heap_mb_scan20)}) / ${mb(extraDefault.rss_mb_scan200)} (${mb(extraDefault.heap_mb_scan200)}); ${extraDefault.growth_pct.toFixed(2)} %; ${mb(extraDefault.peak_rss_mb)}`,
      goal: "",
      met: null,
    });

  const metricsMeasure = "/metrics";
  if (metrics) {
    rows.push(
      {
        measure: `/metrics, ${n(metrics.integrations)} x 3 with \`expose_relative\`: samples in the exposition`,
        value: n(metrics.samples),
        goal: `>= ${n(GOALS.samples)}`,
        met: metrics.met_samples,
      },
      {
        measure: `/metrics during scans (${metrics.scans_meanwhile} scans), \`Accept-Encoding: gzip\`, decompressed by the scraper (gunzip alone: ${metrics.client_gunzip_ms.toFixed(0)} ms): p50 / p99 ms (${metrics.gzip.scrapes} scrapes)`,
        value: `${metrics.gzip.p50_ms.toFixed(1)} / **${metrics.gzip.p99_ms.toFixed(1)}**`,
        goal: `p99 <= ${GOALS.scrapeP99Ms}`,
        met: metrics.gzip.met,
      },
      {
        measure: `/metrics during scans, identity: p50 / p99 ms (${metrics.identity.scrapes} scrapes)`,
        value: `${metrics.identity.p50_ms.toFixed(1)} / **${metrics.identity.p99_ms.toFixed(1)}**`,
        goal: `p99 <= ${GOALS.scrapeP99Ms}`,
        met: metrics.identity.met,
      },
      {
        measure: "/metrics size: identity / gzip bytes",
        value: `${n(metrics.identity.wire_bytes)} / ${n(metrics.gzip.wire_bytes)} = **${metrics.size_ratio.toFixed(1)}**`,
        goal: `>= ${GOALS.gzipRatio}`,
        met: metrics.met_ratio,
      },
    );
  } else rows.push(failedRow(metricsMeasure, `p99 <= ${GOALS.scrapeP99Ms}`, results, "metrics"));

  if (scaling) {
    for (const point of scaling.points)
      rows.push({
        measure: `Scaling: cold check ${n(point.integrations)} x 3 @ ${scaling.latency_ms} ms, C=${scaling.concurrency} (median of ${point.runs}): wall; CPU user+sys; max RSS`,
        value: `${ms(point.wall_ms)} ms; ${ms(point.cpu_ms)} ms; ${mb(point.max_rss_mb)} MB`,
        goal: "",
        met: null,
      });
    const [low, high] = [scaling.per_1000[0], scaling.per_1000.at(-1)];
    const cost = (p: typeof low) =>
      p ? `${ms(p.wall_ms)} ms; ${ms(p.cpu_ms)} ms; ${mb(p.max_rss_mb)} MB` : "";
    rows.push({
      measure: `Scaling: cost of 1,000 more integrations (above ${n(scaling.points[0]!.integrations)}) at ${n(high?.integrations ?? 0)} / at ${n(low?.integrations ?? 0)}: wall; CPU; RSS`,
      value: `${cost(high)} / ${cost(low)} = **${scaling.ratio.wall.toFixed(2)}; ${scaling.ratio.cpu.toFixed(2)}; ${scaling.ratio.rss.toFixed(2)}**`,
      goal: `each <= ${GOALS.scalingRatio}`,
      met: scaling.met,
    });
  } else
    rows.push(
      failedRow(
        "Scaling: cold check 100 / 1,000 / 5,000 x 3",
        `<= ${GOALS.scalingRatio}`,
        results,
        "scaling",
      ),
    );
  return rows;
}
