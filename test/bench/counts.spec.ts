// Regression guard for issue 7 (`npm run bench`): what a scan costs, in counts that do not depend on the
// machine. Requests per scan are 1 + N integrations, and a repeated scan of unchanged certificates
// calls the parser not at all. Never asserts a time.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseStats } from "../../src/certs/parse.js";
import type { Inventory } from "../../src/core/inventory.js";
import type { Emulator } from "../../src/emulator/server.js";
import { scanAll, type ScanTarget } from "../../src/scan/inventory.js";
import { SendGridClient } from "../../src/sendgrid/client.js";
import { SsoApi } from "../../src/sendgrid/sso.js";
import { makeCert } from "../helpers/make-cert.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";

const INTEGRATIONS = 12;
const PER_INTEGRATION = 3;
const CERTIFICATES = INTEGRATIONS * PER_INTEGRATION;

let emulator: Emulator;
let client: SendGridClient;
let target: ScanTarget;

beforeAll(async () => {
  const pems = await Promise.all(
    Array.from({ length: CERTIFICATES }, (_, i) => makeCert({ cn: `idp-${i}.example.test` })),
  );
  emulator = await startTestEmulator({
    // The toggle below must show on the wire: the strict default (as in the spec) leaves `enabled` out.
    quirks: { omitEnabled: false },
    seed: {
      kind: "data",
      data: {
        integrations: Array.from({ length: INTEGRATIONS }, (_, i) => ({
          name: `IdP ${i}`,
          certificates: pems
            .slice(i * PER_INTEGRATION, (i + 1) * PER_INTEGRATION)
            .map((cert) => ({ pem: cert.pem })),
        })),
      },
    },
  });
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  client = new SendGridClient({
    account: "main",
    baseUrl: emulator.url,
    apiKey: () => TEST_API_KEY,
    timeoutMs: 10_000,
    maxRetries: 0,
    maxConcurrency: 4,
  });
  target = { account: "main", api: new SsoApi(client) };
});

afterEach(async () => {
  await client.close();
});

/** One scan, with the requests the emulator saw and the parser calls it made. */
async function countedScan() {
  emulator.clearLog();
  const before = parseStats();
  const inventory = await scanAll([target], () => new Date());
  const after = parseStats();
  return {
    inventory,
    requests: [...emulator.log],
    parserCalls: after.parses - before.parses + (after.cacheHits - before.cacheHits),
  };
}

function certificatesOf(inventory: Inventory) {
  return inventory.accounts.flatMap((a) => a.integrations).flatMap((i) => i.certificates ?? []);
}

describe("scan cost in counts (issue 7 guard)", () => {
  it("makes exactly 1 + N requests: one integration list, one certificate list per integration", async () => {
    for (let scan = 0; scan < 2; scan++) {
      const { requests, inventory } = await countedScan();
      expect(requests).toHaveLength(1 + INTEGRATIONS);
      const lists = requests.filter((r) => r.path === "/v3/sso/integrations");
      expect(lists).toHaveLength(1);
      expect(lists[0]!.query).toEqual({ si: "true" });
      const perIntegration = requests
        .filter((r) => r.path !== "/v3/sso/integrations")
        .map((r) => /^\/v3\/sso\/integrations\/([^/]+)\/certificates$/.exec(r.path)?.[1]);
      expect(new Set(perIntegration)).toEqual(new Set(emulator.state.listIntegrations().map((i) => i.id)));
      expect(perIntegration).toHaveLength(INTEGRATIONS);
      expect(requests.every((r) => r.method === "GET" && r.status === 200)).toBe(true);
      expect(certificatesOf(inventory)).toHaveLength(CERTIFICATES);
    }
  });

  it("calls the parser once per certificate on a first scan, and not at all on a repeat", async () => {
    const first = await countedScan();
    expect(first.parserCalls).toBe(CERTIFICATES);
    const second = await countedScan();
    expect(second.parserCalls).toBe(0);
    expect(certificatesOf(second.inventory).every((c) => c.parsed.ok)).toBe(true);
    expect(second.inventory.accounts[0]!.integrations).toEqual(first.inventory.accounts[0]!.integrations);
  });

  it("reads again only what changed, and the inventory shows every change", async () => {
    await countedScan();
    const [changed, grown, removed] = emulator.state.listIntegrations();
    const toggled = emulator.state.certificatesOf(changed!.id)[1]!;
    emulator.state.setCertificateEnabled(toggled.id, false);
    const added = await makeCert({ cn: "added.example.test" });
    emulator.state.addCertificate({ integrationId: grown!.id, pem: added.pem, enabled: true });
    emulator.state.removeIntegration(removed!.id);

    const { inventory, parserCalls, requests } = await countedScan();
    // The toggled record and the new certificate; every other certificate keeps its parse result.
    expect(parserCalls).toBe(2);
    expect(requests).toHaveLength(1 + INTEGRATIONS - 1);
    const scanned = inventory.accounts[0]!.integrations;
    expect(scanned.map((i) => i.integration.id)).not.toContain(removed!.id);
    const byId = new Map(certificatesOf(inventory).map((c) => [c.api.id, c]));
    expect(byId.get(String(toggled.id))?.api.enabled).toBe(false);
    const grownCertificates = scanned.find((i) => i.integration.id === grown!.id)?.certificates ?? [];
    expect(grownCertificates.map((c) => c.parsed.ok && c.parsed.certificate.subjectCn)).toContain(
      "added.example.test",
    );
    expect(certificatesOf(inventory)).toHaveLength(CERTIFICATES - PER_INTEGRATION + 1);
  });
});
