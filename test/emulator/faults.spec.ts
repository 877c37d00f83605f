import { request as rawRequest } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FaultController, seededRandom } from "../../src/emulator/faults.js";
import type { Emulator } from "../../src/emulator/server.js";
import { makeCert } from "../helpers/make-cert.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";
import { call, list, obj } from "./call.js";

let emulator: Emulator;
let integrationId: string;
let pem: string;

beforeEach(async () => {
  emulator = await startTestEmulator({ seedRandom: 42 });
  integrationId = emulator.state.addIntegration({ name: "Okta" }).id;
  pem = (await makeCert()).pem;
});

afterEach(async () => {
  await emulator.close();
});

const upload = (emu: Emulator = emulator) =>
  call(emu, "POST", "/v3/sso/certificates", {
    body: { public_certificate: pem, integration_id: integrationId, enabled: true },
  });

/** Resolves once the emulator has logged `count` requests: how a test knows a hung request arrived. */
async function logged(emu: Emulator, count: number): Promise<void> {
  while (emu.log.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("queued rules", () => {
  it("status: answers the given status, body and headers without applying the request", async () => {
    emulator.faults.next({
      match: { method: "post", path: "/v3/sso/certificates" },
      action: { kind: "status", status: 503, body: { oops: true }, headers: { "Retry-After": "7" } },
    });
    const reply = await upload();
    expect(reply.status).toBe(503);
    expect(reply.json).toEqual({ oops: true });
    expect(reply.headers["retry-after"]).toBe("7");
    expect(emulator.state.certificatesOf(integrationId)).toEqual([]);
    expect(emulator.state.history).toEqual([]);
    expect(emulator.log[0]).toMatchObject({ status: 503, outcome: "answered" });
    expect((await upload()).status).toBe(200);
  });

  it("status without a body answers SendGrid's error array", async () => {
    emulator.faults.next({ action: { kind: "status", status: 500 } });
    const reply = await call(emulator, "GET", "/v3/sso/integrations");
    expect(reply.status).toBe(500);
    expect(list(reply)[0]).toMatchObject({ error_id: "injected", field: null });
  });

  it("drop: destroys the socket before anything is done", async () => {
    emulator.faults.next({ action: { kind: "drop" } });
    await expect(upload()).rejects.toThrow();
    expect(emulator.state.certificatesOf(integrationId)).toEqual([]);
    expect(emulator.log[0]).toMatchObject({ method: "POST", status: null, outcome: "dropped" });
    expect((await upload()).status).toBe(200);
  });

  it("lose: applies the request, then destroys the socket so the answer is lost", async () => {
    emulator.faults.next({ match: { method: "POST" }, action: { kind: "lose" } });
    await expect(upload()).rejects.toThrow();
    const stored = emulator.state.certificatesOf(integrationId);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.pem).toBe(pem);
    expect(emulator.state.history).toHaveLength(1);
    expect(emulator.log[0]).toMatchObject({ status: 200, outcome: "lost" });
  });

  it("hang: never answers, and close() still returns", async () => {
    emulator.faults.next({ action: { kind: "hang" } });
    const pending = call(emulator, "GET", "/v3/sso/integrations");
    const settled = pending.then(
      () => "answered",
      () => "failed",
    );
    await logged(emulator, 1);
    expect(emulator.log[0]).toMatchObject({ status: null, outcome: "hung" });
    await emulator.close();
    expect(await settled).toBe("failed");
  });

  it("delay: answers normally, after requests that came later", async () => {
    emulator.faults.next({ match: { path: "/v3/sso/integrations" }, action: { kind: "delay", ms: 400 } });
    const slow = call(emulator, "GET", "/v3/sso/integrations");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const fast = await upload();
    expect(fast.status).toBe(200);
    expect((await slow).status).toBe(200);
    expect(emulator.log.map((entry) => entry.method)).toEqual(["POST", "GET"]);
  });

  it("trickle: sends the whole body in several pieces", async () => {
    const cert = emulator.state.addCertificate({ integrationId, pem, enabled: true });
    emulator.faults.next({ action: { kind: "trickle", bytesPerSecond: 2000 } });
    const pieces: Buffer[] = [];
    const status = await new Promise<number>((resolve, reject) => {
      const req = rawRequest(`${emulator.url}/v3/sso/certificates/${cert.id}`, {
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
      });
      req.on("response", (res) => {
        res.on("data", (piece: Buffer) => pieces.push(piece));
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(pieces.length).toBeGreaterThan(1);
    expect(JSON.parse(Buffer.concat(pieces).toString("utf8"))).toMatchObject({
      id: cert.id,
      public_certificate: pem,
    });
    expect(emulator.log[0]).toMatchObject({ status: 200, outcome: "answered" });
  });

  it("close() also ends a trickle in progress", async () => {
    const cert = emulator.state.addCertificate({ integrationId, pem, enabled: true });
    emulator.faults.next({ action: { kind: "trickle", bytesPerSecond: 1 } });
    const settled = call(emulator, "GET", `/v3/sso/certificates/${cert.id}`).then(
      () => "answered",
      () => "failed",
    );
    await logged(emulator, 1);
    await emulator.close();
    expect(await settled).toBe("failed");
  });

  it("matches rules in order, by method and by path string or RegExp, each `times` often", async () => {
    emulator.faults.next({
      match: { path: /\/certificates$/ },
      action: { kind: "status", status: 502 },
      times: 2,
    });
    emulator.faults.next({ match: { method: "GET" }, action: { kind: "status", status: 504 } });
    emulator.faults.next({ action: { kind: "status", status: 500 } });
    expect(emulator.faults.pending).toBe(4);

    expect((await call(emulator, "GET", "/v3/sso/integrations")).status).toBe(504);
    expect((await upload()).status).toBe(502);
    expect((await upload()).status).toBe(502);
    expect((await upload()).status).toBe(500);
    expect((await upload()).status).toBe(200);
    expect(emulator.faults.pending).toBe(0);
  });

  it("reset() forgets queued rules and settings", async () => {
    emulator.faults.next({ action: { kind: "drop" }, times: 5 });
    emulator.faults.set({ errorRate: 1 });
    emulator.faults.reset();
    expect(emulator.faults.pending).toBe(0);
    expect((await call(emulator, "GET", "/v3/sso/integrations")).status).toBe(200);
  });
});

describe("probabilistic faults", () => {
  it("errorRate answers 500 or 503 without applying, and the rest normally", async () => {
    emulator.faults.set({ errorRate: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await upload()).status);
    const ok = statuses.filter((status) => status === 200).length;
    expect(new Set(statuses.filter((status) => status !== 200))).toEqual(new Set([500, 503]));
    expect(ok).toBeGreaterThan(0);
    expect(emulator.state.certificatesOf(integrationId)).toHaveLength(ok);
  });

  it("replays exactly with the same seedRandom", async () => {
    const run = async (): Promise<string[]> => {
      const emu = await startTestEmulator({ seedRandom: 7 });
      try {
        emu.faults.set({ errorRate: 0.3, dropRate: 0.2 });
        const outcomes: string[] = [];
        for (let i = 0; i < 20; i++) {
          outcomes.push(
            await call(emu, "GET", "/v3/sso/integrations").then(
              (reply) => String(reply.status),
              () => "dropped",
            ),
          );
        }
        return outcomes;
      } finally {
        await emu.close();
      }
    };
    const first = await run();
    expect(first).toContain("dropped");
    expect(first).toContain("200");
    expect(await run()).toEqual(first);
  });

  it("dropRate 1 drops everything; lostResponseRate 1 applies everything and answers nothing", async () => {
    emulator.faults.set({ dropRate: 1 });
    await expect(upload()).rejects.toThrow();
    expect(emulator.state.certificatesOf(integrationId)).toHaveLength(0);

    emulator.faults.set({ lostResponseRate: 1 });
    await expect(upload()).rejects.toThrow();
    await expect(upload()).rejects.toThrow();
    expect(emulator.state.certificatesOf(integrationId)).toHaveLength(2);
    expect(emulator.log.map((entry) => entry.outcome)).toEqual(["dropped", "lost", "lost"]);
  });

  it("latencyMs still answers correctly", async () => {
    emulator.faults.set({ latencyMs: 30 });
    const reply = await upload();
    expect(reply.status).toBe(200);
    expect(obj(reply).intergration_id).toBe(integrationId);
  });

  it("a queued rule wins over the probabilities", async () => {
    emulator.faults.set({ dropRate: 1 });
    emulator.faults.next({ action: { kind: "status", status: 418 } });
    expect((await call(emulator, "GET", "/v3/sso/integrations")).status).toBe(418);
  });
});

describe("FaultController", () => {
  it("refuses rates outside 0..1, negative latency and nonsense rules", () => {
    const faults = new FaultController(seededRandom(1));
    expect(() => faults.set({ errorRate: 1.5 })).toThrow(RangeError);
    expect(() => faults.set({ dropRate: -0.1 })).toThrow(RangeError);
    expect(() => faults.set({ lostResponseRate: Number.NaN })).toThrow(RangeError);
    expect(() => faults.set({ latencyMs: -1 })).toThrow(RangeError);
    expect(() => faults.next({ action: { kind: "drop" }, times: 0 })).toThrow(RangeError);
    expect(() => faults.next({ action: { kind: "status", status: 99 } })).toThrow(RangeError);
    expect(() => faults.next({ action: { kind: "trickle", bytesPerSecond: 0 } })).toThrow(RangeError);
    expect(() => faults.next({ action: { kind: "delay", ms: -5 } })).toThrow(RangeError);
    expect(faults.pending).toBe(0);
  });

  it("seededRandom gives the same sequence for the same seed, within [0, 1)", () => {
    const a = seededRandom(123);
    const b = seededRandom(123);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(990);
  });
});
