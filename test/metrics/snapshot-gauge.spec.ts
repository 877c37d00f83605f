import { Gauge, Registry } from "prom-client";
import { beforeAll, describe, expect, it } from "vitest";
import type { Inventory } from "../../src/core/inventory.js";
import { NO_OVERRIDES } from "../../src/core/inventory.js";
import type { ParsedCertificate } from "../../src/core/model.js";
import { evaluate } from "../../src/core/status.js";
import { Metrics } from "../../src/metrics/registry.js";
import { SeriesLabels, SnapshotGauge } from "../../src/metrics/snapshot-gauge.js";
import {
  DAY_MS,
  account,
  integration,
  inventoryOf,
  parsedCert,
  scanned,
  scannedIntegration,
} from "../helpers/inventory.js";

const NOW = new Date("2030-01-01T00:00:00Z");
const THRESHOLDS = { warningMs: 30 * DAY_MS, criticalMs: 7 * DAY_MS };

describe("SeriesLabels", () => {
  it("formats like prom-client: insertion order, backslash, newline and quote escaped", () => {
    expect(new SeriesLabels({ b: "1", a: 'say "hi"\\now\nnext' }).text).toBe(
      '{b="1",a="say \\"hi\\"\\\\now\\nnext"}',
    );
  });
});

describe("SnapshotGauge", () => {
  /** The same puts on a SnapshotGauge and on a plain Gauge, rendered by prom-client's registry. */
  async function both(puts: readonly [Record<"x" | "y", string>, number][]) {
    const ours = new Registry();
    const snapshot = new SnapshotGauge({
      name: "t_value",
      help: "A test.",
      labelNames: ["x", "y"],
      registry: ours,
    });
    snapshot.begin();
    for (const [labels, value] of puts) snapshot.put(new SeriesLabels(labels), value);
    snapshot.finish();
    const theirs = new Registry();
    const plain = new Gauge({
      name: "t_value",
      help: "A test.",
      labelNames: ["x", "y"],
      registers: [theirs],
    });
    for (const [labels, value] of puts) plain.set(labels, value);
    return {
      fast: snapshot.exposition(),
      viaRegistry: await ours.metrics(),
      expected: await theirs.metrics(),
    };
  }

  it("renders what a plain Gauge renders, a label set put twice keeping its place and last value", async () => {
    const { fast, viaRegistry, expected } = await both([
      [{ x: "a", y: "1" }, 1],
      [{ x: "b", y: "2" }, 0.5],
      [{ x: "a", y: "1" }, 7],
      [{ x: "c", y: 'q"' }, Number.POSITIVE_INFINITY],
      [{ x: "d", y: "" }, Number.NaN],
    ]);
    expect(viaRegistry).toBe(expected);
    expect(`${fast}\n`).toBe(expected);
    expect(expected).toContain('t_value{x="a",y="1"} 7\nt_value{x="b",y="2"} 0.5\n');
  });

  it("forgets a series not put in the latest round, and shows a changed value", () => {
    const registry = new Registry();
    const gauge = new SnapshotGauge({ name: "t_value", help: "A test.", labelNames: ["x"], registry });
    const round = (puts: readonly [string, number][]) => {
      gauge.begin();
      for (const [x, value] of puts) gauge.put(new SeriesLabels({ x }), value);
      gauge.finish();
      return gauge.exposition();
    };
    expect(
      round([
        ["a", 1],
        ["b", 2],
      ]),
    ).toContain('t_value{x="b"} 2');
    expect(
      round([
        ["a", 1],
        ["b", 2],
      ]),
    ).toBe(
      round([
        ["a", 1],
        ["b", 2],
      ]),
    );
    const changed = round([["b", 3]]);
    expect(changed).not.toContain('x="a"');
    expect(changed).toContain('t_value{x="b"} 3');
  });
});

describe("Metrics.render", () => {
  let healthy: { pem: string; parsed: ParsedCertificate };
  let expiring: { pem: string; parsed: ParsedCertificate };

  beforeAll(async () => {
    healthy = await parsedCert({ now: NOW, cn: "okta.example.test", fromDays: -10, toDays: 300 });
    expiring = await parsedCert({ now: NOW, cn: 'odd "cn" \\ name', fromDays: -300, toDays: 20 });
  });

  function inventory(withSecond: boolean): Inventory {
    const okta = scannedIntegration(integration("okta-id", { name: 'Okta "prod"\nline' }), [
      scanned({ id: "11", pem: healthy.pem, enabled: true }),
      scanned({ id: "12", pem: expiring.pem, enabled: null }),
      scanned({ id: "13", pem: "garbage" }),
    ]);
    const duo = scannedIntegration(integration("duo-id", { enabled: false, completed: null }), [
      scanned({ id: "21", pem: expiring.pem, enabled: false }),
    ]);
    // The same integration listed twice, as a misbehaving API might: one series each, as before.
    return inventoryOf(account("main", withSecond ? [okta, duo, okta] : [okta]), account("eu", [duo]));
  }

  it("gives exactly what prom-client renders for the same registry, across scrapes, clocks and snapshots", async () => {
    let snapshot = inventory(true);
    let now = NOW;
    for (const exposeRelative of [false, true]) {
      const metrics = new Metrics({
        accounts: ["main", "eu"],
        source: {
          evaluation: (at) => evaluate(snapshot, THRESHOLDS, NO_OVERRIDES, at),
          scanStats: () => [
            { account: "main", lastScrapeAt: NOW, lastSuccessAt: null, durationSeconds: 2.5, success: false },
          ],
        },
        now: () => now,
        exposeRelative,
        version: "1.0.0",
        processMetrics: false,
      });
      metrics.observeRequest({
        account: "main",
        method: "GET",
        route: "/v3/sso/integrations",
        status: 200,
        durationSeconds: 0.2,
        rateLimitRemaining: 9,
      });
      const renders: string[] = [];
      for (const step of ["first", "again", "later", "changed"]) {
        if (step === "later") now = new Date(NOW.getTime() + 25 * DAY_MS);
        if (step === "changed") snapshot = inventory(false);
        const fast = await metrics.render();
        expect(fast).toBe(await metrics.registry.metrics());
        renders.push(fast);
      }
      expect(renders[1]).toBe(renders[0]);
      expect(renders[2]).not.toBe(renders[1]);
      const mainDuo = /account="main",integration_id="duo-id"/;
      expect(renders[2]).toMatch(mainDuo);
      expect(renders[3]).not.toMatch(mainDuo);
      snapshot = inventory(true);
      now = NOW;
    }
  });
});
