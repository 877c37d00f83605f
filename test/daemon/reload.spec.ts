// Live configuration: a reload (SIGHUP, a changed file) is validated first; a bad one is refused with the
// same per-key messages and the running one stays; an accepted one takes effect without a restart; a
// change of listen or state_dir says a restart is needed. The reload metrics show each outcome. Also the
// series Prometheus needs from the first scrape: last success 0 (never), the scan interval, and the
// backoffs a restarted daemon finds in its journal.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { startDaemon, type Daemon } from "../../src/daemon.js";
import type { Emulator } from "../../src/emulator/server.js";
import { createLogger } from "../../src/log.js";
import { journalStore } from "../../src/rotation/journal-file.js";
import { EMPTY_JOURNAL } from "../../src/core/journal.js";
import { parsePrometheusText } from "../helpers/prom-text.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";

let emulator: Emulator;
let dir: string;
let daemon: Daemon | null = null;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: { kind: "demo" } });
});
afterAll(async () => {
  await emulator.close();
});
afterEach(async () => {
  await daemon?.stop(5_000);
  daemon = null;
  logs.length = 0;
  rmSync(dir, { recursive: true, force: true });
});

const env = { SENDGRID_API_KEY: TEST_API_KEY };

function configText(
  overrides: { schedule?: string; warning?: string; listen?: string; accounts?: string } = {},
) {
  return `accounts:
${
  overrides.accounts ??
  `  - name: main
    api_key_env: SENDGRID_API_KEY
    base_url: ${emulator.url}`
}
schedule: "${overrides.schedule ?? "*/5 * * * *"}"
listen: "${overrides.listen ?? "127.0.0.1:0"}"
state_dir: ./state
thresholds: { warning: ${overrides.warning ?? "30d"}, critical: 7d }
http: { timeout: 10s, max_concurrency: 4, max_retries: 0 }
rotation: { enabled: false }
`;
}

async function start(options: { watchIntervalMs?: number } = {}): Promise<{ file: string; daemon: Daemon }> {
  dir = mkdtempSync(join(tmpdir(), "sso-reload-"));
  const file = join(dir, "config.yaml");
  writeFileSync(file, configText());
  const load = () => loadConfig({ file, env, cwd: dir });
  const loaded = load();
  if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
  daemon = await startDaemon({
    config: loaded.config,
    logger: createLogger({
      level: "debug",
      destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    }),
    schedule: false,
    reload: {
      load,
      watchFile: options.watchIntervalMs === undefined ? null : file,
      ...(options.watchIntervalMs === undefined ? {} : { watchIntervalMs: options.watchIntervalMs }),
    },
  });
  return { file, daemon };
}

async function scrape(d: Daemon) {
  return parsePrometheusText(await (await fetch(`${d.url}/metrics`)).text());
}

/** Waits for `check` to hold, polling on the event loop; the ceiling is generous, not a timing claim. */
async function until(check: () => Promise<boolean>, ceilingMs = 120_000): Promise<void> {
  const deadline = Date.now() + ceilingMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("configuration reload", () => {
  it("refuses a bad configuration with per-key messages and keeps the running one", async () => {
    const { file, daemon: d } = await start();
    expect((await scrape(d)).value("sendgrid_sso_config_last_reload_successful", {})).toBe(1);
    writeFileSync(file, configText({ warning: "soon" }));
    const outcome = await d.reload();
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.problems.join("\n")).toMatch(/thresholds\.warning/);
    expect(d.config.thresholds.warningMs).toBe(30 * 86_400_000);
    const metrics = await scrape(d);
    expect(metrics.value("sendgrid_sso_config_last_reload_successful", {})).toBe(0);
    expect(
      logs.some((line) => line.msg === "configuration reload refused; the running configuration stays"),
    ).toBe(true);
    // The running one still scans.
    await d.tick();
    expect((await fetch(`${d.url}/readyz`)).status).toBe(200);
  });

  it("applies a good one without a restart, and says which keys need one", async () => {
    const { file, daemon: d } = await start();
    await d.tick();
    const before = (await scrape(d)).value("sendgrid_sso_config_last_reload_success_timestamp_seconds", {});
    writeFileSync(file, configText({ warning: "60d", schedule: "0 * * * *", listen: "127.0.0.1:1" }));
    const outcome = await d.reload();
    expect(outcome).toEqual({ ok: true, restartNeeded: ["listen"] });
    expect(d.config.thresholds.warningMs).toBe(60 * 86_400_000);
    // listen is kept as it runs: the server still answers where it did.
    expect(d.config.listen.port).toBe(0);
    const metrics = await scrape(d);
    expect(metrics.value("sendgrid_sso_config_last_reload_successful", {})).toBe(1);
    expect(
      metrics.value("sendgrid_sso_config_last_reload_success_timestamp_seconds", {}),
    ).toBeGreaterThanOrEqual(before);
    expect(metrics.value("sendgrid_sso_scan_interval_seconds", {})).toBe(3600);
    // The previous scan answers until the new monitor has scanned: still ready.
    expect((await fetch(`${d.url}/readyz`)).status).toBe(200);
    expect(
      logs.some((line) => String(line.msg).startsWith("changed listen: applied only at a restart")),
    ).toBe(true);
  });

  it("reloads when the file changes (a ConfigMap update)", async () => {
    const { file, daemon: d } = await start({ watchIntervalMs: 50 });
    writeFileSync(file, configText({ warning: "45d" }));
    await until(() => Promise.resolve(d.config.thresholds.warningMs === 45 * 86_400_000));
    writeFileSync(file, configText({ warning: "nonsense" }));
    await until(async () => (await scrape(d)).value("sendgrid_sso_config_last_reload_successful", {}) === 0);
    expect(d.config.thresholds.warningMs).toBe(45 * 86_400_000);
  });
});

describe("series from the first scrape", () => {
  it("exports last success 0 for an account that never succeeded, and the scan interval", async () => {
    const { daemon: d } = await start();
    const metrics = await scrape(d);
    expect(metrics.value("sendgrid_sso_last_success_timestamp_seconds", { account: "main" })).toBe(0);
    expect(metrics.value("sendgrid_sso_scan_interval_seconds", {})).toBe(300);
    await d.tick();
    expect(
      (await scrape(d)).value("sendgrid_sso_last_success_timestamp_seconds", { account: "main" }),
    ).toBeGreaterThan(0);
  });

  it("exports the backoffs the journal holds at start-up", async () => {
    dir = mkdtempSync(join(tmpdir(), "sso-reload-"));
    mkdirSync(join(dir, "state"));
    const nextAttemptAt = new Date(Date.now() + 6 * 3_600_000);
    await journalStore(join(dir, "state")).save({
      ...EMPTY_JOURNAL,
      backoff: [{ account: "main", integrationId: "42", failures: 5, nextAttemptAt, lastError: "boom" }],
    });
    const file = join(dir, "config.yaml");
    writeFileSync(file, configText());
    const loaded = loadConfig({ file, env, cwd: dir });
    if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
    daemon = await startDaemon({
      config: loaded.config,
      logger: createLogger({ level: "fatal" }),
      schedule: false,
    });
    const metrics = await scrape(daemon);
    expect(
      metrics.value("sendgrid_sso_rotation_backoff_until_timestamp_seconds", {
        account: "main",
        integration_id: "42",
      }),
    ).toBe(nextAttemptAt.getTime() / 1000);
  });
});
