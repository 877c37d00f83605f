// Start-up time: from spawning `node dist/cli.js run` (configured against the emulator) to the first
// 200 from /readyz, which the daemon gives once its first scan has completed. Stops each daemon with
// SIGTERM, as a container runtime would.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { request } from "undici";
import type { BenchEmulator } from "./emulator.js";
import { median } from "./stats.js";

export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const KEY_ENV = "BENCH_SENDGRID_API_KEY";
const POLL_MS = 2;
const GIVE_UP_MS = 60_000;

function configYaml(emulator: BenchEmulator, stateDir: string): string {
  return [
    "accounts:",
    "  - name: bench",
    `    api_key_env: ${KEY_ENV}`,
    `    base_url: ${JSON.stringify(emulator.url)}`,
    // Once a year: the scan measured is the one the daemon runs at start.
    'schedule: "0 0 1 1 *"',
    'listen: "127.0.0.1:0"',
    `state_dir: ${JSON.stringify(stateDir)}`,
    "log_level: info",
    "",
  ].join("\n");
}

/** The URL from the daemon's "listening" log line. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === "listening" && entry.url) resolve(entry.url);
      } catch {
        // Not a JSON log line.
      }
    });
    child.once("exit", (code) => reject(new Error(`daemon exited with code ${code} before listening`)));
  });
}

async function readyAt(url: string, deadline: number): Promise<number> {
  while (performance.now() < deadline) {
    try {
      const answer = await request(`${url}/readyz`);
      await answer.body.dump();
      if (answer.statusCode === 200) return performance.now();
    } catch {
      // Not accepting connections yet.
    }
    await sleep(POLL_MS);
  }
  throw new Error("daemon never became ready");
}

async function startOnce(configFile: string, apiKey: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, "run", "--config", configFile], {
    env: { ...process.env, [KEY_ENV]: apiKey },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const url = await listeningUrl(child);
    return (await readyAt(url, started + GIVE_UP_MS)) - started;
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

/** True when a source file is newer than dist/cli.js: the daemon timed would not be today's code. */
export async function distIsStale(): Promise<boolean> {
  const built = (await stat(CLI)).mtimeMs;
  const files = (await readdir(SRC, { recursive: true })).filter((file) => file.endsWith(".ts"));
  const times = await Promise.all(files.map(async (file) => (await stat(join(SRC, file))).mtimeMs));
  return times.some((time) => time > built);
}

/** The median of `runs` start-ups, in ms. */
export async function startupBench(emulator: BenchEmulator, runs: number): Promise<number> {
  await emulator.setLatency(0);
  const dir = await mkdtemp(join(tmpdir(), "sendgrid-sso-certs-bench-"));
  try {
    const configFile = join(dir, "config.yaml");
    await writeFile(configFile, configYaml(emulator, join(dir, "state")));
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await startOnce(configFile, emulator.apiKey));
    return median(times);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
