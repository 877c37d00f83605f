// End to end with the real servers: the emulator (demo seed), the daemon in-process (scans every 2 s,
// rotation on for "Entra ID" from a file source that starts empty), Debian's `prometheus` scraping it
// every second with the shipped rules, and `prometheus-alertmanager` sending to a webhook in this test.
// The critical-expiry alert fires for Entra ID (never for the healthy Okta) and reaches the webhook;
// then a replacement certificate is dropped into the source, the daemon rotates, and the webhook gets the
// resolved notification while the old certificate is still enabled next to the new one.
//
// The rules are the shipped file with one change: SendGridSSOCertificateExpiryCritical waits `for: 0s`
// instead of its 15 minutes, which no test can sit through; promtool's unit tests cover the `for`. Every
// expression, label and annotation is the shipped one, which the test checks before using the copy. The
// scrape and Alertmanager configs are the shipped examples with test addresses and 1-second intervals.
// Skipped only where the two binaries are missing; CI installs them.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoReplacement } from "../../src/cli/commands/demo.js";
import { loadConfig } from "../../src/config/load.js";
import type { InventoryReport } from "../../src/core/report.js";
import { startDaemon, type Daemon } from "../../src/daemon.js";
import type { Emulator } from "../../src/emulator/server.js";
import { createLogger } from "../../src/log.js";
import { alertsOf, readProjectText, readYaml, shippedRules, type RuleFile } from "../deploy/files.js";
import { findBinary } from "../helpers/binaries.js";
import { freePort, startProcess, waitFor, type Background } from "../helpers/processes.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";

const prometheusBin = findBinary("prometheus");
const alertmanagerBin = findBinary("prometheus-alertmanager", "alertmanager");

const CRITICAL = "SendGridSSOCertificateExpiryCritical";
const STEP_TIMEOUT_MS = 60_000;

interface WebhookAlert {
  readonly status: "firing" | "resolved";
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

interface Notification {
  readonly status: "firing" | "resolved";
  readonly alerts: readonly WebhookAlert[];
}

interface ApiAnswer<T> {
  readonly status: string;
  readonly data: T;
  readonly error?: string;
}

type Vector = readonly {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: [number, string];
}[];

/** The shipped rules with only the critical alert's `for` shortened; everything else is checked equal. */
function rulesForTheTest(): RuleFile {
  const shipped = shippedRules();
  const copy: RuleFile = {
    groups: shipped.groups.map((group) => ({
      ...group,
      rules: group.rules.map((rule) =>
        "alert" in rule && rule.alert === CRITICAL ? { ...rule, for: "0s" } : rule,
      ),
    })),
  };
  const withoutFor = (file: RuleFile) =>
    alertsOf(file).map((rule) => ({ ...rule, for: rule.alert === CRITICAL ? null : rule.for }));
  expect(withoutFor(copy)).toEqual(withoutFor(shipped));
  return copy;
}

function criticalFor(notification: Notification, integration: string, status: "firing" | "resolved") {
  return notification.alerts.find(
    (alert) =>
      alert.status === status &&
      alert.labels.alertname === CRITICAL &&
      alert.labels.integration_name === integration,
  );
}

describe.skipIf(!prometheusBin || !alertmanagerBin)(
  "Prometheus + Alertmanager end to end (skipped: prometheus or prometheus-alertmanager is not installed; CI installs them)",
  () => {
    let dir: string;
    let emulator: Emulator;
    let daemon: Daemon;
    let webhook: Server;
    let prometheus: Background;
    let alertmanager: Background;
    let prometheusUrl: string;
    const logs: string[] = [];
    const notifications: Notification[] = [];

    const diagnostics = () =>
      [
        `--- webhook notifications\n${JSON.stringify(notifications, null, 1)}`,
        `--- daemon log (last 40 lines)\n${logs.slice(-40).join("")}`,
        `--- prometheus\n${prometheus?.output().slice(-4000)}`,
        `--- alertmanager\n${alertmanager?.output().slice(-4000)}`,
      ].join("\n");

    async function prometheusApi<T>(path: string): Promise<T> {
      const response = await fetch(`${prometheusUrl}${path}`);
      const answer = (await response.json()) as ApiAnswer<T>;
      if (answer.status !== "success") throw new Error(`${path}: ${answer.error ?? response.status}`);
      return answer.data;
    }

    const query = (promql: string) =>
      prometheusApi<{ result: Vector }>(`/api/v1/query?query=${encodeURIComponent(promql)}`).then(
        (data) => data.result,
      );

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "sso-e2e-"));
      mkdirSync(join(dir, "certs"));
      // The test reads `enabled` back; the strict default (as in the spec) leaves it out.
      emulator = await startTestEmulator({ seed: { kind: "demo" }, quirks: { omitEnabled: false } });

      const configFile = join(dir, "config.yaml");
      writeFileSync(
        configFile,
        stringify({
          accounts: [{ name: "demo", api_key_env: "SENDGRID_API_KEY", base_url: emulator.url }],
          schedule: "*/2 * * * * *",
          listen: "127.0.0.1:0",
          state_dir: "./state",
          http: { timeout: "10s", max_retries: 0 },
          // The old certificate stays enabled for an hour: the alert must resolve while it is still there.
          rotation: {
            enabled: true,
            overlap: "1h",
            integrations: [{ match: { name: "Entra ID" }, source: { type: "file", path: "./certs" } }],
          },
        }),
      );
      const loaded = loadConfig({ file: configFile, env: { SENDGRID_API_KEY: TEST_API_KEY }, cwd: dir });
      if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
      const logger = createLogger({
        level: "info",
        destination: { write: (line: string) => void logs.push(line) },
      });
      daemon = await startDaemon({ config: loaded.config, logger });

      webhook = createServer((request, response) => {
        let body = "";
        request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
        request.on("end", () => {
          notifications.push(JSON.parse(body) as Notification);
          response.writeHead(200).end();
        });
      });
      await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
      const webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/`;

      const amPort = await freePort();
      const amConfig = readYaml<{
        route: Record<string, unknown>;
        receivers: { webhook_configs: { url: string }[] }[];
      }>("config/alertmanager/alertmanager.yml");
      Object.assign(amConfig.route, { group_wait: "1s", group_interval: "1s" });
      for (const receiver of amConfig.receivers) {
        for (const hook of receiver.webhook_configs) hook.url = webhookUrl;
      }
      writeFileSync(join(dir, "alertmanager.yml"), stringify(amConfig));
      alertmanager = startProcess(
        alertmanagerBin!,
        [
          `--config.file=${join(dir, "alertmanager.yml")}`,
          `--storage.path=${join(dir, "alertmanager")}`,
          `--web.listen-address=127.0.0.1:${amPort}`,
          "--cluster.listen-address=",
        ],
        { env: { PATH: process.env.PATH } },
      );

      writeFileSync(join(dir, "rules.yml"), stringify(rulesForTheTest()));
      const promPort = await freePort();
      prometheusUrl = `http://127.0.0.1:${promPort}`;
      const promConfig = readYaml<{
        global: Record<string, string>;
        rule_files: string[];
        alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
        scrape_configs: {
          job_name: string;
          scrape_interval: string;
          scrape_timeout: string;
          static_configs: { targets: string[] }[];
        }[];
      }>("config/prometheus/prometheus.yml");
      promConfig.global = { scrape_interval: "1s", evaluation_interval: "1s" };
      promConfig.rule_files = [join(dir, "rules.yml")];
      promConfig.alerting.alertmanagers[0]!.static_configs[0]!.targets = [`127.0.0.1:${amPort}`];
      const job = promConfig.scrape_configs[0]!;
      Object.assign(job, { scrape_interval: "1s", scrape_timeout: "1s" });
      job.static_configs[0]!.targets = [new URL(daemon.url).host];
      writeFileSync(join(dir, "prometheus.yml"), stringify(promConfig));
      prometheus = startProcess(
        prometheusBin!,
        [
          `--config.file=${join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(dir, "prometheus")}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        { env: { PATH: process.env.PATH } },
      );
    }, STEP_TIMEOUT_MS);

    afterAll(async () => {
      const results = await Promise.allSettled([
        prometheus?.stop(),
        alertmanager?.stop(),
        daemon?.stop(5_000),
        emulator?.close(),
        webhook && new Promise<void>((resolve) => webhook.close(() => resolve())),
      ]);
      if (dir) rmSync(dir, { recursive: true, force: true });
      for (const result of results) if (result.status === "rejected") throw result.reason;
    }, STEP_TIMEOUT_MS);

    it(
      "Prometheus scrapes the daemon as up under the shipped job name",
      async () => {
        const target = await waitFor(
          "the sendgrid-sso-certs target to be up",
          async () => {
            const data = await prometheusApi<{
              activeTargets: { labels: Record<string, string>; health: string; scrapeUrl: string }[];
            }>("/api/v1/targets");
            return data.activeTargets.find((t) => t.labels.job === "sendgrid-sso-certs" && t.health === "up");
          },
          { timeoutMs: STEP_TIMEOUT_MS, diagnostics },
        );
        expect(target.scrapeUrl).toBe(`${daemon.url}/metrics`);
      },
      STEP_TIMEOUT_MS,
    );

    it(
      "fires the critical-expiry alert for Entra ID, not for Okta, and delivers it to the webhook",
      async () => {
        const alert = await waitFor(
          "a firing notification for Entra ID",
          () => notifications.map((n) => criticalFor(n, "Entra ID", "firing")).find(Boolean),
          { timeoutMs: STEP_TIMEOUT_MS, diagnostics },
        );
        expect(alert.labels).toMatchObject({
          severity: "critical",
          account: "demo",
          job: "sendgrid-sso-certs",
        });
        expect(alert.annotations.summary).toMatch(
          /^SSO certificate of "Entra ID" expires in 4d 23h \d+m \d+s$/,
        );
        expect(alert.annotations.runbook_url).toBe("docs/alerts.md#sendgridssocertificateexpirycritical");

        // The recording rule sees all three integrations' best certificates, and only Entra ID pages.
        const left = await query("sendgrid_sso:integration_best_certificate_seconds_left");
        expect(left.map((sample) => sample.metric.integration_name).sort()).toEqual(["Entra ID", "Okta"]);
        expect(await query('ALERTS{integration_name="Okta"}')).toEqual([]);
        const firing = await query(`ALERTS{alertname="${CRITICAL}", alertstate="firing"}`);
        expect(firing.map((sample) => sample.metric.integration_name)).toEqual(["Entra ID"]);
        const delivered = notifications.flatMap((n) => n.alerts.map((a) => a.labels.integration_name));
        expect(delivered).not.toContain("Okta");
      },
      STEP_TIMEOUT_MS,
    );

    it(
      "resolves the alert after the daemon rotates Entra ID, with the old certificate still enabled",
      async () => {
        const replacement = await demoReplacement(new Date());
        writeFileSync(join(dir, "certs", "entra-next.pem"), replacement.pem);

        await waitFor(
          "a resolved notification for Entra ID",
          () => notifications.map((n) => criticalFor(n, "Entra ID", "resolved")).find(Boolean),
          { timeoutMs: STEP_TIMEOUT_MS, diagnostics },
        );
        expect(await query(`ALERTS{alertname="${CRITICAL}", alertstate="firing"}`)).toEqual([]);

        // Both certificates are there and enabled: the alert followed the best one, not the old one.
        const inventory = (await (await fetch(`${daemon.url}/api/v1/inventory`)).json()) as InventoryReport;
        const entra = inventory.accounts[0]!.integrations.find((i) => i.name === "Entra ID")!;
        expect(entra.certificates).toHaveLength(2);
        expect(entra.certificates.map((c) => c.enabled)).toEqual([true, true]);
        expect(entra.certificates.map((c) => c.fingerprint_sha256)).toContain(replacement.fingerprintSha256);
        const old = await query(
          'sendgrid_sso:certificate_seconds_left{integration_name="Entra ID"} < 7 * 86400',
        );
        expect(old).toHaveLength(1);
      },
      STEP_TIMEOUT_MS,
    );

    it(
      "answers every query of the Grafana dashboard",
      async () => {
        const dashboard = JSON.parse(readProjectText("config/grafana/sendgrid-sso-certs.json")) as {
          panels: { title: string; targets?: { expr: string }[] }[];
        };
        const grafanaVariables = (expr: string) =>
          expr
            .replaceAll("$__rate_interval", "1m")
            .replaceAll("$account", ".*")
            .replaceAll("$integration", ".*");
        for (const panel of dashboard.panels) {
          for (const target of panel.targets ?? []) {
            await expect(
              query(grafanaVariables(target.expr)),
              `${panel.title}: ${target.expr}`,
            ).resolves.toBeDefined();
          }
        }
        const timeLeft = dashboard.panels.find(
          (p) => p.title === "Time left: best certificate per integration",
        )!;
        const rows = await query(grafanaVariables(timeLeft.targets![0]!.expr));
        expect(rows.map((row) => row.metric.integration_name).sort()).toEqual(["Entra ID", "Okta"]);
      },
      STEP_TIMEOUT_MS,
    );
  },
);
