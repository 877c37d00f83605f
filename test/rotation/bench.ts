// A bench for end-to-end rotation tests: the emulator on 127.0.0.1:0, a throw-away directory with a file
// source and state_dir, a YAML config loaded like a user's, a clock the test moves, and the daemon's log
// lines captured as JSON. Everything it opens is closed by close().

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/types.js";
import { startDaemon, type Daemon } from "../../src/daemon.js";
import type { Emulator, EmulatorOptions } from "../../src/emulator/server.js";
import type { CertificateRecord } from "../../src/emulator/state.js";
import { createLogger, type Logger } from "../../src/log.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface TestClock {
  now(): Date;
  advance(ms: number): void;
}

export function testClock(start: Date = new Date()): TestClock {
  let current = start;
  return {
    now: () => current,
    advance(ms) {
      current = new Date(current.getTime() + ms);
    },
  };
}

export interface LogEntry {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A pino destination that keeps every line, parsed. */
export class LogCapture extends Writable {
  readonly entries: LogEntry[] = [];
  #partial = "";

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    const parts = (this.#partial + chunk.toString("utf8")).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const line of parts) if (line.trim()) this.entries.push(JSON.parse(line) as LogEntry);
    done();
  }

  logger(): Logger {
    return createLogger({ level: "debug", destination: this });
  }

  matching(level: string, message: RegExp): LogEntry[] {
    return this.entries.filter((e) => e.level === level && message.test(e.msg));
  }
}

export interface RuleSpec {
  readonly match: { id: string } | { name: string };
  readonly source: { type: "file"; path: string } | { type: "metadata"; url: string };
  readonly overlap?: string;
}

export interface ConfigSpec {
  readonly rotation?: Record<string, unknown> & { integrations?: readonly RuleSpec[] };
  readonly schedule?: string;
  readonly http?: Record<string, unknown>;
}

export interface Bench {
  readonly dir: string;
  readonly certsDir: string;
  readonly stateDir: string;
  readonly emulator: Emulator;
  readonly clock: TestClock;
  readonly logs: LogCapture;
  readonly env: Record<string, string>;
  /** Writes a PEM into the file source directory. */
  writeCert(name: string, text: string): Promise<string>;
  /** Writes config.yaml (defaults: rotation on, overlap 0s, no retries) and returns its path. */
  writeConfig(spec?: ConfigSpec): Promise<string>;
  loadConfig(path: string): Config;
  /** startDaemon with the bench's clock and logger, no cron: the test calls tick(). */
  startDaemon(config: Config): Promise<Daemon>;
  /** Certificates of an integration in the emulator right now. */
  certificates(integrationId: string): CertificateRecord[];
  /** Requests that could change something: everything but GET. */
  mutations(): { method: string; path: string; body: unknown }[];
  close(): Promise<void>;
}

export async function openBench(options: Partial<EmulatorOptions> = {}): Promise<Bench> {
  const dir = await mkdtemp(join(tmpdir(), "rotation-e2e-"));
  const certsDir = join(dir, "certs");
  const stateDir = join(dir, "state");
  await mkdir(certsDir);
  const emulator = await startTestEmulator(options);
  const clock = testClock();
  const logs = new LogCapture();
  const daemons: Daemon[] = [];
  const env = { SENDGRID_API_KEY: TEST_API_KEY };
  return {
    dir,
    certsDir,
    stateDir,
    emulator,
    clock,
    logs,
    env,
    async writeCert(name, text) {
      const path = join(certsDir, name);
      await writeFile(path, text);
      return path;
    },
    async writeConfig(spec = {}) {
      const document = {
        accounts: [{ name: "main", api_key_env: "SENDGRID_API_KEY", base_url: emulator.url }],
        schedule: spec.schedule ?? "*/5 * * * *",
        listen: "127.0.0.1:0",
        state_dir: stateDir,
        log_level: "debug",
        http: { timeout: "5s", max_retries: 0, ...spec.http },
        rotation: { enabled: true, overlap: "0s", ...spec.rotation },
      };
      const path = join(dir, "config.yaml");
      await writeFile(path, stringify(document));
      return path;
    },
    loadConfig(path) {
      const loaded = loadConfig({ file: path, env, cwd: dir });
      if (!loaded.ok) throw new Error(`bench config rejected:\n${loaded.problems.join("\n")}`);
      return loaded.config;
    },
    async startDaemon(config) {
      const daemon = await startDaemon({ config, logger: logs.logger(), clock, schedule: false });
      daemons.push(daemon);
      return daemon;
    },
    certificates(integrationId) {
      return emulator.state.certificatesOf(integrationId);
    },
    mutations() {
      return emulator.log
        .filter((entry) => entry.method !== "GET")
        .map(({ method, path, body }) => ({ method, path, body }));
    },
    async close() {
      for (const daemon of daemons.splice(0)) await daemon.stop(1_000);
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Replays the emulator's history of one integration: the fewest usable certificates (enabled, inside
 * their validity at `at`) it ever had after a mutation. 0 means the integration was locked out.
 */
export function fewestUsable(emulator: Emulator, integrationId: string, at: Date): number {
  const usable = (records: readonly CertificateRecord[]) =>
    records.filter(
      (c) =>
        c.enabled &&
        c.notBefore !== null &&
        c.notAfter !== null &&
        c.notBefore.getTime() <= at.getTime() &&
        at.getTime() < c.notAfter.getTime(),
    ).length;
  let fewest = usable(emulator.state.certificatesOf(integrationId));
  for (const entry of emulator.state.history) {
    if (entry.kind === "teammate") continue;
    const after = entry.certificatesAfter[integrationId];
    if (after) fewest = Math.min(fewest, usable(after));
  }
  return fewest;
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
