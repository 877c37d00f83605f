// The shipped alerting: promtool accepts the rules and the scrape config and the rule unit tests pass;
// every alert carries what the person on call needs (severity, summary, description, a runbook section
// that exists) and has unit tests showing it firing and staying quiet; the rules read only metrics the
// daemon really exposes, and select the job name of the shipped scrape config.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { findBinary } from "../helpers/binaries.js";
import { PROMETHEUS_SERIES, exposedMetricNames } from "./exposed-metrics.js";
import {
  RULES_FILE,
  alertsOf,
  projectFile,
  readProjectText,
  readYaml,
  recordsOf,
  shippedRules,
} from "./files.js";
import { metricNamesIn } from "./promql.js";

const run = promisify(execFile);
const promtool = findBinary("promtool");
const amtool = findBinary("amtool");

const ALERTS = [
  "SendGridSSOCertificateExpiringSoon",
  "SendGridSSOCertificateExpiryCritical",
  "SendGridSSOIntegrationNoValidCertificate",
  "SendGridSSOCertificateUnparseable",
  "SendGridSSOScanFailing",
  "SendGridSSONoRecentSuccessfulScan",
  "SendGridSSORotationFailing",
  "SendGridSSOIdPSigningCertificateUntrusted",
  "SendGridSSOIdPUnreadable",
  "SendGridSSOIdPSigningCertificateExpiring",
  "SendGridSSOIdPRolloverFailing",
  "SendGridSSOScanErrors",
  "SendGridSSORotationStuck",
  "SendGridSSOStateDirFailing",
  "SendGridSSOConfigReloadFailed",
  "SendGridSSOExporterAbsent",
];

interface RuleTests {
  readonly rule_files: readonly string[];
  readonly tests: readonly {
    readonly name: string;
    readonly alert_rule_test?: readonly {
      readonly alertname: string;
      readonly exp_alerts: readonly unknown[];
    }[];
  }[];
}

interface ScrapeConfig {
  readonly scrape_configs: readonly { readonly job_name: string }[];
  readonly rule_files: readonly string[];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    anchors.add(
      heading!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    );
  }
  return anchors;
}

/** The runbooks are sections of docs/alerts.md. */
function runbookAnchors(): Set<string> {
  return anchorsOf(readProjectText("docs/alerts.md"));
}

describe("alert rules", () => {
  const rules = shippedRules();
  const alerts = alertsOf(rules);

  it("defines every alert of the runbook, each once", () => {
    expect(alerts.map((rule) => rule.alert)).toEqual(ALERTS);
  });

  it.each(alerts)("$alert has a severity, a summary, a description and a runbook section", (alert) => {
    expect(["warning", "critical"]).toContain(alert.labels?.severity);
    expect(alert.annotations?.summary).toMatch(/\S/);
    expect(alert.annotations?.description).toMatch(/\S/);
    const runbook = alert.annotations?.runbook_url;
    expect(runbook).toBe(`docs/alerts.md#${alert.alert.toLowerCase()}`);
    expect(runbookAnchors()).toContain(runbook!.split("#")[1]);
  });

  it("names the integration and the time left in every integration alert", () => {
    for (const alert of alerts.filter((rule) => /Certificate|Integration|Rotation|IdP/.test(rule.alert))) {
      expect(alert.annotations?.summary, alert.alert).toContain("{{ $labels.integration_name }}");
      expect(alert.annotations?.description, alert.alert).toContain("{{ $labels.integration_name }}");
    }
    for (const name of ["SendGridSSOCertificateExpiringSoon", "SendGridSSOCertificateExpiryCritical"]) {
      const alert = alerts.find((rule) => rule.alert === name)!;
      expect(alert.annotations?.summary).toContain("{{ $value | humanizeDuration }}");
    }
  });

  it("alerts on the best certificate of an integration, never on single certificates", () => {
    for (const name of ["SendGridSSOCertificateExpiringSoon", "SendGridSSOCertificateExpiryCritical"]) {
      const expr = alerts.find((rule) => rule.alert === name)!.expr;
      expect(expr).toContain("sendgrid_sso:integration_best_certificate_seconds_left");
      expect(expr).not.toContain("sendgrid_sso_certificate_not_after_timestamp_seconds");
      expect(expr).not.toContain("sendgrid_sso:certificate_seconds_left");
    }
    const best = recordsOf(rules).find(
      (rule) => rule.record === "sendgrid_sso:integration_best_certificate_seconds_left",
    );
    expect(best?.expr).toBe("sendgrid_sso_integration_best_not_after_timestamp_seconds - time()");
  });

  it("has a promtool unit test where each alert fires and one where it does not", () => {
    const unitTests = readYaml<RuleTests>("config/prometheus/rules.test.yml");
    expect(unitTests.rule_files).toEqual(["rules.yml"]);
    const cases = unitTests.tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const name of ALERTS) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${name} is never shown firing`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${name} is never shown quiet`,
      ).toBe(true);
    }
  });

  it("selects the job name of the shipped scrape config and is loaded by it", () => {
    const scrape = readYaml<ScrapeConfig>("config/prometheus/prometheus.yml");
    expect(scrape.rule_files).toEqual(["rules.yml"]);
    const jobs = new Set(
      alerts.flatMap((rule) => [...rule.expr.matchAll(/\bjob="([^"]*)"/g)].map((match) => match[1])),
    );
    expect([...jobs]).toEqual([scrape.scrape_configs[0]!.job_name]);
    expect(scrape.scrape_configs[0]!.job_name).toBe("sendgrid-sso-certs");
  });

  describe("against the metrics of a real daemon", () => {
    let exposed: Set<string>;
    beforeAll(async () => {
      exposed = await exposedMetricNames();
    });

    it("reads only metrics the daemon exposes or the rules record", () => {
      const recorded = recordsOf(rules).map((rule) => rule.record);
      const known = new Set([...exposed, ...recorded, ...PROMETHEUS_SERIES]);
      for (const rule of rules.groups.flatMap((group) => group.rules)) {
        const unknown = metricNamesIn(rule.expr).filter((name) => !known.has(name));
        expect(unknown, "alert" in rule ? rule.alert : rule.record).toEqual([]);
      }
      // The lexer finds what the rules are built on, so an empty list above means something.
      expect(recordsOf(rules).flatMap((rule) => metricNamesIn(rule.expr))).toEqual([
        "sendgrid_sso_integration_best_not_after_timestamp_seconds",
        "sendgrid_sso_certificate_not_after_timestamp_seconds",
      ]);
    });
  });
});

describe.skipIf(!promtool)("promtool (skipped: promtool is not installed; CI installs it)", () => {
  it("accepts the rules", async () => {
    const { stdout } = await run(promtool!, ["check", "rules", projectFile(RULES_FILE)]);
    expect(stdout).toContain(`SUCCESS: ${alertsOf(shippedRules()).length + 2} rules found`);
  });

  it("passes the rule unit tests", async () => {
    const { stdout } = await run(promtool!, [
      "test",
      "rules",
      projectFile("config/prometheus/rules.test.yml"),
    ]);
    expect(stdout).toContain("SUCCESS");
  });

  it("accepts the example scrape config with its rule file", async () => {
    const { stdout } = await run(promtool!, [
      "check",
      "config",
      projectFile("config/prometheus/prometheus.yml"),
    ]);
    expect(stdout).toContain("SUCCESS: 1 rule files found");
  });
});

describe.skipIf(!amtool)("amtool (skipped: amtool is not installed; CI installs it)", () => {
  it("accepts the example Alertmanager config", async () => {
    const { stdout } = await run(amtool!, [
      "check-config",
      projectFile("config/alertmanager/alertmanager.yml"),
    ]);
    expect(stdout).toContain("SUCCESS");
  });
});
