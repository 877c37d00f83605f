// The daemon's first scan as a user meets it: from spawning `node dist/cli.js run` (configured against
// the emulator) to the first 200 from /readyz, which the daemon gives once its first scan has completed.
// /readyz is polled every 100 ms until the log says "scan complete", then every 2 ms: a tight poll during
// the scan would take CPU from the daemon being timed. The daemons of one measure share a state_dir, as
// restarts of one deployment do: the first parses every certificate, the others find its parse cache.
// Also: whether dist/ is older than src/.

import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { KEY_ENV, writeConfig } from "./config-file.js";
import type { BenchEmulator } from "./emulator.js";
import { CLI } from "./node-process.js";
import { RunDaemon, type ScanLine } from "./run-daemon.js";
import { median } from "./stats.js";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const SLOW_POLL_MS = 100;
const FAST_POLL_MS = 2;
const GIVE_UP_MS = 120_000;

export interface ReadyOptions {
  readonly integrations: number;
  readonly concurrency: number;
  readonly runs: number;
}

async function ready(url: string): Promise<boolean> {
  try {
    const answer = await request(`${url}/readyz`);
    await answer.body.dump();
    return answer.statusCode === 200;
  } catch {
    return false;
  }
}

async function startOnce(configFile: string, apiKey: string, integrations: number): Promise<number> {
  const daemon = new RunDaemon(configFile, { [KEY_ENV]: apiKey });
  const seen: { first: ScanLine | null } = { first: null };
  daemon.onScan((scan) => (seen.first ??= scan));
  try {
    const url = await daemon.url;
    while (performance.now() - daemon.startedAt < GIVE_UP_MS) {
      if (await ready(url)) {
        const ms = performance.now() - daemon.startedAt;
        // The log line may still be in the pipe when /readyz answers.
        for (let waited = 0; !seen.first && waited < 1_000; waited += 10) await sleep(10);
        // Ready from a scan that missed integrations would time less than a whole scan.
        const first = seen.first;
        if (!first || first.integrations !== integrations || first.failures !== 0)
          throw new Error(
            `ready after a first scan of ${first?.integrations ?? "?"} integrations (${integrations} expected), ${first?.failures ?? "?"} failures`,
          );
        return ms;
      }
      await sleep(seen.first ? FAST_POLL_MS : SLOW_POLL_MS);
    }
    throw new Error("daemon never became ready");
  } finally {
    await daemon.stop();
  }
}

/** True when a source file is newer than dist/cli.js: the daemon timed would not be today's code. */
export async function distIsStale(): Promise<boolean> {
  const built = (await stat(CLI)).mtimeMs;
  const files = (await readdir(SRC, { recursive: true })).filter((file) => file.endsWith(".ts"));
  const times = await Promise.all(files.map(async (file) => (await stat(join(SRC, file))).mtimeMs));
  return times.some((time) => time > built);
}

/** The median of `runs` start-ups to the first /readyz 200, in ms, at the emulator's current latency. */
export async function readyBench(emulator: BenchEmulator, options: ReadyOptions): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "sendgrid-sso-certs-bench-"));
  try {
    const configFile = await writeConfig(join(dir, "config.yaml"), {
      emulatorUrl: emulator.url,
      stateDir: join(dir, "state"),
      concurrency: options.concurrency,
    });
    const times: number[] = [];
    for (let i = 0; i < options.runs; i++)
      times.push(await startOnce(configFile, emulator.apiKey, options.integrations));
    return median(times);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
