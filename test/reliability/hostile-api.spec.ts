// Hostile and malformed answers from the API, injected by the emulator over real sockets: wrong types,
// missing fields, bodies over the size cap, invalid JSON, HTML error pages, unexpected status codes and
// nonsense rate-limit headers. Every call ends in a domain value or a typed SendGridError with a stable
// reason, never another error or an unhandled rejection; a daemon scan that meets one reports a failed
// scan, takes no rotation step on it, and carries on.

import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { FaultAction } from "../../src/emulator/faults.js";
import type { Emulator } from "../../src/emulator/server.js";
import { REASON_CODES } from "../../src/core/reasons.js";
import { SendGridError } from "../../src/sendgrid/errors.js";
import type { SsoApi } from "../../src/sendgrid/sso.js";
import { makeCert } from "../helpers/make-cert.js";
import { parsePrometheusText } from "../helpers/prom-text.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";
import { harness } from "../sendgrid/fixture.js";
import { openDueWorld, type DueWorld } from "./world.js";

const MAX_BODY_BYTES = 4_096;
const HTML_PAGE =
  "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>Bad Gateway</h1></body></html>\n";

const h = harness();
let emulator: Emulator;
let pem = "";
const unhandled: unknown[] = [];
const recordUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  emulator = await startTestEmulator();
  emulator.state.addIntegration({ id: "int-1", name: "Okta" });
  pem = (await makeCert({ cn: "hostile" })).pem;
  emulator.state.addCertificate({ integrationId: "int-1", pem, enabled: true });
  process.on("unhandledRejection", recordUnhandled);
});

afterEach(async () => {
  emulator.faults.reset();
  await h.closeAll();
});

afterAll(async () => {
  process.off("unhandledRejection", recordUnhandled);
  await emulator.close();
});

const CALLS: readonly [string, (api: SsoApi) => Promise<unknown>][] = [
  ["listIntegrations", (api) => api.listIntegrations({ si: true })],
  ["getIntegration", (api) => api.getIntegration("int-1")],
  ["listCertificates", (api) => api.listCertificates("int-1")],
  ["getCertificate", (api) => api.getCertificate("1")],
  ["createCertificate", (api) => api.createCertificate({ integrationId: "int-1", pem, enabled: true })],
  ["updateCertificate", (api) => api.updateCertificate("1", { enabled: false })],
  ["deleteCertificate", (api) => api.deleteCertificate("1")],
];

// Values of the wrong type for any field, and records that are almost right: each field valid, of a wrong
// type, or missing.
const wrong = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);
const either = <T>(valid: fc.Arbitrary<T>) => fc.oneof(valid, wrong);
const certificateLike = fc.record(
  {
    id: either(fc.nat()),
    public_certificate: either(fc.constant("PEM")),
    intergration_id: either(fc.constant("int-1")),
    integration_id: either(fc.constant("int-1")),
    enabled: either(fc.boolean()),
    not_before: either(fc.oneof(fc.nat(), fc.constant("2025-01-01T00:00:00Z"), fc.double())),
    not_after: either(fc.oneof(fc.nat(), fc.constant("not a date"), fc.constant(""))),
  },
  { requiredKeys: [] },
);
const integrationLike = fc.record(
  {
    id: either(fc.constant("int-1")),
    name: either(fc.constant("Okta")),
    enabled: either(fc.boolean()),
    completed_integration: either(fc.boolean()),
    last_updated: either(fc.oneof(fc.nat(), fc.constant("yesterday"))),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  certificateLike,
  fc.array(certificateLike, { maxLength: 3 }),
  integrationLike,
  fc.array(integrationLike, { maxLength: 3 }),
  fc.record({ errors: fc.array(fc.record({ message: wrong, field: wrong }), { maxLength: 2 }) }),
  // Sent as they are: text that is not JSON, or is JSON cut short.
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    HTML_PAGE,
    "{",
    '[{"id": 1,',
    "nul",
    "\u0000\u00ff",
    "[".repeat(10_000),
    '[{"id": "int-1", "name": "Okta", "enabled": true, "__proto__": {"polluted": true}}]',
  ),
  fc.nat({ max: 3 }).map((n) => "x".repeat(MAX_BODY_BYTES + 1 + n * MAX_BODY_BYTES)),
);
const status = fc.oneof(
  fc.constantFrom(200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 409, 418, 422, 429, 500, 502, 503),
  fc.integer({ min: 200, max: 599 }),
);
const headers = fc.record(
  {
    "Content-Type": fc.constantFrom("text/html; charset=utf-8", "application/json", "text/plain", "", "???"),
    "X-RateLimit-Reset": fc.oneof(fc.constantFrom("-1", "NaN", "1e309", "99999999999999"), fc.string()),
    "Retry-After": fc.oneof(fc.constantFrom("Wed, 21 Oct 2999 07:28:00 GMT", "-5", "soon"), fc.string()),
    "X-RateLimit-Remaining": fc.oneof(fc.constantFrom("-3", "1.5"), fc.string()),
    Location: fc.constant("https://login.example.invalid/"),
  },
  { requiredKeys: [] },
);

/** What every hostile answer must come to: a SendGridError with a stable reason, free of the key. */
function expectTyped(error: unknown): void {
  if (!(error instanceof SendGridError)) throw error;
  expect(REASON_CODES).toContain(error.reason);
  expect(error.message).not.toContain(TEST_API_KEY);
  expect(error.message).not.toMatch(/[\r\n]/);
}

describe("the client against hostile answers", () => {
  test("any status, body and headers: a domain value or a typed SendGridError", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CALLS),
        status,
        body,
        headers.map((value) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== ""))),
        async ([, call], code, answer, sent) => {
          emulator.faults.reset();
          emulator.faults.next({
            action: { kind: "status", status: code, body: answer, headers: sent },
            times: 2,
          });
          // Retries on a clock that does not really wait, so a wait asked for costs nothing.
          const { api } = h.client(emulator, {
            maxRetries: 1,
            maxBodyBytes: MAX_BODY_BYTES,
            deadlineMs: 60_000,
          });
          await call(api).catch(expectTyped);
        },
      ),
      { numRuns: 300 },
    );
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    // Let any stray promise settle before counting.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
  }, 120_000);

  test.each<[string, number, unknown, Record<string, string>, string]>([
    [
      "an HTML error page with 200",
      200,
      HTML_PAGE,
      { "Content-Type": "text/html" },
      "invalid response: body is not JSON",
    ],
    [
      "an HTML error page with 502",
      502,
      HTML_PAGE,
      { "Content-Type": "text/html" },
      "non-JSON response body (text/html)",
    ],
    [
      "a redirect to a login page",
      302,
      "",
      { Location: "https://login.example.invalid/" },
      "302 Found: empty response body",
    ],
    ["418", 418, { nonsense: true }, {}, "418 I'm a Teapot: unrecognised error body"],
    ["204 on a list", 204, undefined, {}, "invalid response: expected array"],
    [
      "a body over the cap",
      200,
      "x".repeat(MAX_BODY_BYTES + 1),
      {},
      `response body larger than ${MAX_BODY_BYTES} bytes`,
    ],
    ["JSON cut short", 200, '[{"id": 1, "name": "Ok', {}, "invalid response: body is not JSON"],
    ["wrong types", 200, [{ id: {}, name: 7, enabled: "yes" }], {}, "invalid response: "],
    ["missing fields", 200, [{ id: 1 }], {}, "invalid response: "],
  ])("%s: %s", async (_name, code, answer, sent, message) => {
    const action: FaultAction = {
      kind: "status",
      status: code,
      ...(answer === undefined ? {} : { body: answer }),
      headers: sent,
    };
    emulator.faults.next({ action });
    const { api } = h.client(emulator, { maxRetries: 0, maxBodyBytes: MAX_BODY_BYTES });
    const error = await api.listIntegrations().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SendGridError);
    expectTyped(error);
    expect((error as SendGridError).message).toContain(message);
  });
});

describe("a daemon scan meeting a hostile answer", () => {
  let world: DueWorld | null = null;
  afterEach(async () => {
    await world?.bench.close();
    world = null;
  });

  const LIST = "/v3/sso/integrations";
  const LISTING = "/v3/sso/integrations/int-0/certificates";
  test.each<[string, string, FaultAction, string]>([
    [
      "an HTML page for the integration list",
      LIST,
      { kind: "status", status: 200, body: HTML_PAGE },
      "invalid_response",
    ],
    [
      "a redirect for the integration list",
      LIST,
      { kind: "status", status: 302, body: "", headers: { Location: "https://x.invalid/" } },
      "invalid_response",
    ],
    ["418 for a certificate list", LISTING, { kind: "status", status: 418 }, "http_4xx"],
    ["204 for a certificate list", LISTING, { kind: "status", status: 204 }, "invalid_response"],
    [
      "wrong types in a certificate list",
      LISTING,
      { kind: "status", status: 200, body: [{ id: [], public_certificate: 5 }] },
      "invalid_response",
    ],
    [
      "a certificate list over 8 MiB",
      LISTING,
      { kind: "status", status: 200, body: `"${"A".repeat(8 * 1024 * 1024)}"` },
      "invalid_response",
    ],
    [
      "deeply nested JSON for a certificate list",
      LISTING,
      { kind: "status", status: 200, body: `${"[".repeat(100_000)}${"]".repeat(100_000)}` },
      "invalid_response",
    ],
  ])(
    "%s: the scan fails visibly, nothing is rotated, the next scan recovers",
    async (_name, path, action, reason) => {
      const w = (world = await openDueWorld());
      const daemon = await w.bench.startDaemon(w.bench.loadConfig(w.configFile));
      w.bench.emulator.faults.next({ match: { method: "GET", path }, action });

      await daemon.tick();
      expect(daemon.monitor.failures()).toMatchObject([
        { integrationId: path === LIST ? null : "int-0", reason },
      ]);
      const metrics = parsePrometheusText(await (await fetch(`${daemon.url}/metrics`)).text());
      expect(metrics.value("sendgrid_sso_scrape_success")).toBe(0);
      expect(metrics.value("sendgrid_sso_scan_errors_total", { reason })).toBe(1);
      expect(w.bench.mutations()).toEqual([]);
      expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);

      await daemon.tick();
      expect(daemon.monitor.failures()).toEqual([]);
      expect(w.bench.mutations().filter((m) => m.method === "POST")).toHaveLength(1);
    },
  );

  test("certificates of 6 MiB of base64 and of random bytes: parse errors, and the scan still succeeds", async () => {
    // Monitor only: a rotation step would read the integration again, and the status would show that read.
    const w = (world = await openDueWorld({ config: { rotation: { enabled: false } } }));
    const daemon = await w.bench.startDaemon(w.bench.loadConfig(w.configFile));
    const huge = `-----BEGIN CERTIFICATE-----\n${"QUFB".repeat(1_572_864)}\n-----END CERTIFICATE-----\n`;
    const bytes = Buffer.from(Array.from({ length: 4_096 }, (_, i) => (i * 7919) % 256)).toString("latin1");
    const [integration] = w.integrations;
    const listing = [
      { id: 901, public_certificate: huge, intergration_id: "int-0", enabled: true },
      { id: 902, public_certificate: bytes, intergration_id: "int-0", enabled: true },
      {
        id: Number(integration!.oldId),
        public_certificate: integration!.old.pem,
        intergration_id: "int-0",
        enabled: true,
      },
    ];
    w.bench.emulator.faults.next({
      match: { path: LISTING },
      action: { kind: "status", status: 200, body: listing },
    });

    await daemon.tick();
    expect(daemon.monitor.failures().map((f) => [f.certificateId, f.reason])).toEqual([
      ["901", expect.stringMatching(/^(bad_pem|not_a_certificate)$/) as string],
      ["902", expect.stringMatching(/^(bad_pem|not_a_certificate)$/) as string],
    ]);
    const metrics = parsePrometheusText(await (await fetch(`${daemon.url}/metrics`)).text());
    expect(metrics.value("sendgrid_sso_scrape_success")).toBe(1);
    expect(metrics.value("sendgrid_sso_certificate_parse_error", { certificate_id: "901" })).toBe(1);
    expect(metrics.value("sendgrid_sso_certificate_parse_error", { certificate_id: "902" })).toBe(1);
  });
});
