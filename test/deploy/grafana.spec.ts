// The Grafana dashboard: valid JSON in the shape Grafana imports, every panel on the datasource variable,
// panels that do not overlap, and every query reading only metrics a real daemon exposes, so renaming a
// metric breaks this test instead of silently emptying a panel. The lexer behind that check is tested too.

import { beforeAll, describe, expect, it } from "vitest";
import { PROMETHEUS_SERIES, exposedMetricNames } from "./exposed-metrics.js";
import { readProjectText } from "./files.js";
import { PromqlNameError, metricNamesIn } from "./promql.js";

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
}

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}

interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query: string | { readonly query: string };
  readonly datasource?: { readonly uid: string };
}

interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };
const dashboard = JSON.parse(readProjectText("config/grafana/sendgrid-sso-certs.json")) as Dashboard;
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const queryPanels = panels.filter((panel) => panel.type !== "row");
const expressions = queryPanels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

/** `label_values(selector, label)` in a variable: the selector is PromQL, the wrapper is Grafana's. */
function variableSelector(variable: Variable): string {
  const query = typeof variable.query === "string" ? variable.query : variable.query.query;
  const match = /^label_values\((.*),\s*\w+\)$/.exec(query.trim());
  if (!match) throw new Error(`variable ${variable.name}: unexpected query ${query}`);
  return match[1]!;
}

describe("metricNamesIn", () => {
  it("finds metric names and skips functions, keywords, labels, strings, ranges and numbers", () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{x="b_total", y=~"$v"}[$__rate_interval]))) ' +
          "* on (account) group_left (name) b_info > 7 * 86400 and c offset 1h or absent(up) unless d_total[5m]",
      ),
    ).toEqual(["a_bucket", "b_info", "c", "up", "d_total"]);
  });

  it("reads recording rule names with colons", () => {
    expect(metricNamesIn("sendgrid_sso:x_seconds_left < 1e3")).toEqual(["sendgrid_sso:x_seconds_left"]);
  });

  it("rejects a function it does not know, so a typo cannot pass as a metric", () => {
    expect(() => metricNamesIn("rat(x[5m])")).toThrow(PromqlNameError);
  });
});

describe("Grafana dashboard", () => {
  let exposed: Set<string>;
  beforeAll(async () => {
    exposed = await exposedMetricNames();
  });

  it("is a dashboard Grafana 10/11 imports, with a Prometheus datasource variable", () => {
    expect(dashboard.uid).toBe("sendgrid-sso-certs");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
    const datasource = dashboard.templating.list.find((variable) => variable.name === "datasource");
    expect(datasource).toMatchObject({ type: "datasource", query: "prometheus" });
  });

  it("puts every panel, query and query variable on the datasource variable", () => {
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource, panel.title).toEqual(DATASOURCE);
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === "query")) {
      expect(variable.datasource?.uid, variable.name).toBe("${datasource}");
    }
  });

  it("has unique panel ids, unique query ids per panel, and no overlapping panels", () => {
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    for (const panel of queryPanels) {
      const refIds = (panel.targets ?? []).map((target) => target.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
    }
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `${a.title} / ${b.title}`).toBe(false);
      }
    }
  });

  it("queries only metrics the daemon exposes (or Prometheus adds)", () => {
    const known = new Set([...exposed, ...PROMETHEUS_SERIES]);
    const queries = [
      ...expressions,
      ...dashboard.templating.list.filter((v) => v.type === "query").map(variableSelector),
    ];
    for (const expr of queries) {
      expect(
        metricNamesIn(expr).filter((name) => !known.has(name)),
        expr,
      ).toEqual([]);
    }
  });

  it("shows time left, certificates, scan health, API latency and rate limits, and rotations", () => {
    const used = new Set(expressions.flatMap(metricNamesIn));
    for (const metric of [
      "sendgrid_sso_integration_best_not_after_timestamp_seconds",
      "sendgrid_sso_certificate_not_after_timestamp_seconds",
      "sendgrid_sso_scrape_success",
      "sendgrid_sso_scrape_duration_seconds",
      "sendgrid_sso_last_success_timestamp_seconds",
      "sendgrid_sso_scan_errors_total",
      "sendgrid_sso_api_request_duration_seconds_bucket",
      "sendgrid_sso_api_requests_total",
      "sendgrid_sso_api_rate_limit_remaining",
      "sendgrid_sso_rotations_total",
      "sendgrid_sso_rotation_last_success_timestamp_seconds",
    ]) {
      expect(used, metric).toContain(metric);
    }
    expect(expressions.filter((expr) => expr.startsWith("histogram_quantile(")).length).toBeGreaterThan(0);
  });
});
