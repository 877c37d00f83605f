// `npm run soak`: the daemon as `run` builds it (startDaemon from a YAML config, its schedule firing every
// second, rotation on with one rule) against the bench's emulator child with SOAK_INTEGRATIONS (1,000)
// integrations, for SOAK_CYCLES (500) completed scans, /metrics scraped after each. Every 10 cycles it
// prints RSS, heap and event-loop delay; at the end, the growth of RSS from cycle 50 to the last.
// Never part of `npm test`: it runs for many minutes, and its numbers belong to the machine.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { loadConfig } from "../src/config/load.js";
import { startDaemon, type Daemon } from "../src/daemon.js";
import { createLogger } from "../src/log.js";
import { soonestExpiring } from "./certs.js";
import { KEY_ENV, writeConfig, writeFileSource } from "./config-file.js";
import { BENCH_API_KEY, startBenchEmulator, type BenchEmulator } from "./emulator.js";

const CYCLES = Number(process.env.SOAK_CYCLES ?? 500);
const INTEGRATIONS = Number(process.env.SOAK_INTEGRATIONS ?? 1_000);
const REPORT_EVERY = 10;
const GROWTH_FROM = 50;
const POLL_MS = 20;
const MB = 1024 * 1024;

interface Mark {
  readonly cycle: number;
  readonly elapsedS: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly delayMeanMs: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
}

/** A state_dir, a file source with a fresh certificate for an integration that is due, and the config file. */
async function writeWorld(dir: string, emulator: BenchEmulator): Promise<string> {
  const integration = `IdP ${soonestExpiring(INTEGRATIONS, 1)}`;
  return writeConfig(join(dir, "config.yaml"), {
    emulatorUrl: emulator.url,
    stateDir: join(dir, "state"),
    concurrency: 4,
    schedule: "*/1 * * * * *",
    rotation: { integration, path: await writeFileSource(dir, "idp-next.soak.example") },
  });
}

async function startSoakDaemon(dir: string, configFile: string): Promise<Daemon> {
  const loaded = loadConfig({ file: configFile, env: { [KEY_ENV]: BENCH_API_KEY }, cwd: dir });
  if (!loaded.ok) throw new Error(`soak config rejected:\n${loaded.problems.join("\n")}`);
  // Logged to a file as in production; the console is for the table.
  const logger = createLogger({
    level: "info",
    destination: pino.destination({ dest: join(dir, "daemon.log") }),
  });
  return startDaemon({ config: loaded.config, logger });
}

function collectGarbage(): void {
  // With --expose-gc (npm run soak), readings are of what is still referenced, not of garbage not yet collected.
  (globalThis as { gc?: () => void }).gc?.();
}

const fixed = (value: number) => value.toFixed(1);
const row = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "sendgrid-sso-certs-soak-"));
  console.error(
    `[soak] emulator child with ${INTEGRATIONS} integrations (certificates cached in the bench's temp file)`,
  );
  const emulator = await startBenchEmulator({ integrations: INTEGRATIONS, certificatesPerIntegration: 1 });
  let daemon: Daemon | null = null;
  try {
    daemon = await startSoakDaemon(dir, await writeWorld(dir, emulator));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = Date.now();
    const marks: Mark[] = [];
    console.log(
      `Soak: ${CYCLES} cycles, ${INTEGRATIONS} integrations, schedule every second, node ${process.version}\n`,
    );
    console.log(
      row(["cycle", "elapsed s", "RSS MB", "heap used MB", "loop delay mean ms", "p99 ms", "max ms"]),
    );
    console.log(row(["---:", "---:", "---:", "---:", "---:", "---:", "---:"]));

    let seen = daemon.monitor.scanStats()[0]?.lastScrapeAt ?? null;
    for (let cycle = 1; cycle <= CYCLES;) {
      await sleep(POLL_MS);
      const last = daemon.monitor.scanStats()[0]?.lastScrapeAt ?? null;
      if (last === null || last === seen) continue;
      seen = last;
      // Prometheus scrapes between scans.
      const scrape = await fetch(`${daemon.url}/metrics`);
      if (scrape.status !== 200) throw new Error(`/metrics answered ${scrape.status}`);
      await scrape.arrayBuffer();
      if (daemon.monitor.failures().length > 0)
        throw new Error(`scan ${cycle} failed: ${daemon.monitor.failures()[0]!.message}`);
      if (cycle % REPORT_EVERY === 0) {
        collectGarbage();
        const memory = process.memoryUsage();
        const mark: Mark = {
          cycle,
          elapsedS: (Date.now() - started) / 1000,
          rssMb: memory.rss / MB,
          heapUsedMb: memory.heapUsed / MB,
          delayMeanMs: delay.mean / 1e6,
          delayP99Ms: delay.percentile(99) / 1e6,
          delayMaxMs: delay.max / 1e6,
        };
        delay.reset();
        marks.push(mark);
        console.log(
          row([
            mark.cycle,
            Math.round(mark.elapsedS),
            fixed(mark.rssMb),
            fixed(mark.heapUsedMb),
            fixed(mark.delayMeanMs),
            fixed(mark.delayP99Ms),
            fixed(mark.delayMaxMs),
          ]),
        );
      }
      cycle++;
    }
    delay.disable();
    const from = marks.find((m) => m.cycle === GROWTH_FROM);
    const to = marks.at(-1);
    if (from && to && to !== from) {
      const growth = ((to.rssMb - from.rssMb) / from.rssMb) * 100;
      const heapGrowth = ((to.heapUsedMb - from.heapUsedMb) / from.heapUsedMb) * 100;
      console.log(
        `\nRSS growth from cycle ${from.cycle} to ${to.cycle}: ${fixed(from.rssMb)} -> ${fixed(to.rssMb)} MB (${growth >= 0 ? "+" : ""}${fixed(growth)}%); heap used ${fixed(from.heapUsedMb)} -> ${fixed(to.heapUsedMb)} MB (${heapGrowth >= 0 ? "+" : ""}${fixed(heapGrowth)}%)`,
      );
    }
    const rotated = daemon.rotation.rotator.current.rotations.map((r) => r.phase).join(", ") || "none";
    console.log(`rotations in the journal: ${rotated}`);
  } finally {
    await daemon?.stop(10_000);
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
