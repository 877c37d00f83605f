import { parseCertificate } from "../src/certs/parse.js";
import { evaluate } from "../src/core/status.js";
import { NO_OVERRIDES, type Inventory } from "../src/core/inventory.js";
import { Metrics } from "../src/metrics/registry.js";
import { benchCertificates } from "./certs.js";
const pems = await benchCertificates(3300);
const NOW = new Date("2026-12-01T00:00:00Z");
const integration = (id: string, name: string, enabled = true, completed: boolean | null = true) => ({ id, name, enabled, completed, entityId: null, signinUrl: null, signoutUrl: null, singleSignonUrl: null, audienceUrl: null, lastUpdated: null });
const cert = (id: string, integrationId: string, pem: string, enabled: boolean | null) => ({ api: { id, integrationId, pem, enabled, notBefore: null, notAfter: null }, parsed: parseCertificate(pem) });
function inventory(shift: number): Inventory {
  const ints = [];
  for (let i = 0; i < 200; i++) {
    const id = `int-${i}`;
    const certs = [0, 1, 2].map((j) => cert(`${i * 3 + j}`, id, pems[(i * 3 + j + shift) % 3300]!, j === 0 ? true : j === 1 ? null : i % 5 === 0 ? false : true));
    if (i % 17 === 0) certs.push(cert("bad-" + i, id, "garbage", true));
    if (i % 23 === 0) certs.push(certs[0]!);
    ints.push({ integration: integration(id, i % 11 === 0 ? `Name "q" \\ back\nline ${i}` : `IdP ${i}`, i % 7 !== 0, i % 13 === 0 ? null : true), certificates: certs, error: null });
    if (i % 31 === 0) ints.push(ints[ints.length - 1]!);
  }
  ints.push({ integration: integration("failed", "Failed"), certificates: null, error: { reason: "timeout" as const, message: "x" } });
  return { accounts: [
    { account: "main", startedAt: NOW, finishedAt: NOW, error: null, integrations: ints },
    { account: "eu", startedAt: NOW, finishedAt: NOW, error: null, integrations: ints.slice(0, 20) },
  ] };
}
const TH = { warningMs: 30 * 86400000, criticalMs: 7 * 86400000 };
let inv = inventory(0);
let now = NOW;
const stats = [{ account: "main", lastScrapeAt: NOW, lastSuccessAt: null, durationSeconds: 1.5, success: false }, { account: "eu", lastScrapeAt: null, lastSuccessAt: null, durationSeconds: null, success: true }];
const out: string[] = [];
for (const rel of [false, true]) {
  const metrics = new Metrics({ accounts: ["main", "eu"], source: { evaluation: (at) => evaluate(inv, TH, NO_OVERRIDES, at), scanStats: () => stats }, now: () => now, exposeRelative: rel, version: "1.2.3", processMetrics: false });
  metrics.observeRequest({ account: "main", method: "GET", route: "/v3/sso/integrations", status: 200, durationSeconds: 0.1, rateLimitRemaining: 5 });
  out.push(await metrics.render());
  out.push(await metrics.render());
  now = new Date(NOW.getTime() + 40 * 86400000);
  out.push(await metrics.render());
  inv = inventory(7);
  out.push(await metrics.render());
  out.push(await metrics.registry.metrics());
  inv = inventory(0); now = NOW;
}
process.stdout.write(out.join("\n=====\n"));
