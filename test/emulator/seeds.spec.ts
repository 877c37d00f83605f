import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import { InvalidSeedError } from "../../src/emulator/seed-error.js";
import { DEMO_INTEGRATION_IDS, buildSeed, loadSeedFile } from "../../src/emulator/seeds.js";
import type { Emulator } from "../../src/emulator/server.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { LENIENT } from "./lenient.js";
import { call, list } from "./call.js";

const NOW = new Date("2031-02-03T04:05:06Z");
const DAY = 86_400_000;

let dir: string;
let emulator: Emulator | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-seeds-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function daysLeft(pem: unknown): number {
  const parsed = parseCertificate(pem as string);
  if (!parsed.ok) throw new Error(parsed.failure.message);
  return (parsed.certificate.notAfter.getTime() - NOW.getTime()) / DAY;
}

async function seedFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("demo seed", () => {
  it("serves a healthy Okta, an Entra ID expiring in ~5 days and a Duo expired 3 days ago, at stable ids", async () => {
    emulator = await startTestEmulator({ ...LENIENT, seed: { kind: "demo" }, now: () => NOW });
    const integrations = list(await call(emulator, "GET", "/v3/sso/integrations"));
    expect(integrations.map((i) => [i.name, i.id, i.enabled])).toEqual([
      ["Okta", DEMO_INTEGRATION_IDS.okta, true],
      ["Entra ID", DEMO_INTEGRATION_IDS.entra, true],
      ["Duo", DEMO_INTEGRATION_IDS.duo, true],
    ]);
    const left: Record<string, number[]> = {};
    for (const integration of integrations) {
      const certificates = list(
        await call(emulator, "GET", `/v3/sso/integrations/${String(integration.id)}/certificates`),
      );
      expect(certificates.every((c) => c.enabled === true)).toBe(true);
      left[integration.name as string] = certificates.map((c) => Math.round(daysLeft(c.public_certificate)));
    }
    expect(left).toEqual({ Okta: [300], "Entra ID": [5], Duo: [-3] });
    expect(emulator.state.history).toEqual([]);
  });

  it("is dated from the emulator's clock, so the same seed a year later is a year older", async () => {
    const later = new Date(NOW.getTime() + 365 * DAY);
    const plan = await buildSeed({ kind: "demo" }, later);
    const okta = plan.find((entry) => entry.integration.name === "Okta");
    const parsed = parseCertificate(okta?.certificates[0]?.pem ?? "");
    expect(parsed.ok && Math.round((parsed.certificate.notAfter.getTime() - later.getTime()) / DAY)).toBe(
      300,
    );
  });
});

describe("JSON seed files", () => {
  it("loads integrations with uploaded and generated certificates", async () => {
    const uploaded = await makeCert({ cn: "uploaded.example.test", now: NOW, toDays: 50 });
    const path = await seedFile("good.json", {
      integrations: [
        {
          id: "my-okta",
          name: "Okta",
          entity_id: "http://www.okta.com/abc",
          certificates: [
            { pem: uploaded.pem },
            {
              generate: { cn: "generated.example.test", not_before_days: -1, not_after_days: 20 },
              enabled: false,
            },
          ],
        },
        { name: "Empty", enabled: false, certificates: [] },
      ],
    });
    emulator = await startTestEmulator({ ...LENIENT, seed: await loadSeedFile(path), now: () => NOW });
    const integrations = list(await call(emulator, "GET", "/v3/sso/integrations"));
    expect(integrations.map((i) => [i.id, i.name, i.enabled, i.entity_id])).toEqual([
      ["my-okta", "Okta", true, "http://www.okta.com/abc"],
      [expect.any(String), "Empty", false, expect.any(String)],
    ]);
    const certificates = list(await call(emulator, "GET", "/v3/sso/integrations/my-okta/certificates"));
    expect(certificates.map((c) => [c.public_certificate === uploaded.pem, c.enabled])).toEqual([
      [true, true],
      [false, false],
    ]);
    expect(Math.round(daysLeft(certificates[1]?.public_certificate))).toBe(20);
  });

  it.each([
    ["not JSON", "{ integrations: ", ""],
    ["no integrations", {}, "integrations"],
    ["a nameless integration", { integrations: [{ certificates: [] }] }, "integrations[0].name"],
    ["a misspelt key", { integrations: [{ name: "A", certficates: [] }] }, "integrations[0]"],
    [
      "a generate without cn",
      {
        integrations: [
          { name: "A", certificates: [{ generate: { not_before_days: 0, not_after_days: 1 } }] },
        ],
      },
      "integrations[0].certificates[0].generate.cn",
    ],
    [
      "a certificate with no source",
      { integrations: [{ name: "A", certificates: [{}] }] },
      "integrations[0].certificates[0]",
    ],
    [
      "a PEM that is not a certificate",
      { integrations: [{ name: "A" }, { name: "B", certificates: [{ pem: "hello" }] }] },
      "integrations[1].certificates[0].pem",
    ],
    [
      "an inverted validity",
      {
        integrations: [
          { name: "A", certificates: [{ generate: { cn: "x", not_before_days: 5, not_after_days: 1 } }] },
        ],
      },
      "integrations[0].certificates[0].generate",
    ],
    [
      "duplicate ids",
      {
        integrations: [
          { id: "x", name: "A" },
          { id: "x", name: "B" },
        ],
      },
      "integrations[1].id",
    ],
  ])("refuses %s, naming the file and the JSON path", async (name, content, path) => {
    const file = await seedFile(`${name.replace(/\W+/g, "-")}.json`, content);
    const error = await loadSeedFile(file).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(InvalidSeedError);
    const invalid = error as InvalidSeedError;
    expect(invalid.source).toBe(file);
    expect(invalid.message).toContain(file);
    expect(invalid.problems.map((problem) => problem.path)).toContain(path);
  });

  it("refuses a missing file with the same typed error", async () => {
    const file = join(dir, "missing.json");
    await expect(loadSeedFile(file)).rejects.toMatchObject({ name: "InvalidSeedError", source: file });
  });

  it("checks seed data given in code when the emulator starts", async () => {
    await expect(
      startTestEmulator({
        seed: { kind: "data", data: { integrations: [{ name: "A", certificates: [{ pem: "no" }] }] } },
      }),
    ).rejects.toBeInstanceOf(InvalidSeedError);
  });
});
