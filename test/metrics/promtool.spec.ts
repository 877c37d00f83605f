import { spawn, spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import type { Emulator } from "../../src/emulator/server.js";
import { makeCert } from "../helpers/make-cert.js";
import { startTestDaemon, type TestDaemon } from "../helpers/start-daemon.js";
import { startTestEmulator } from "../helpers/start-emulator.js";

const PROMTOOL = spawnSync("which", ["promtool"], { encoding: "utf8" });
const MISSING = PROMTOOL.status !== 0 ? "promtool is not installed (`which promtool` found nothing)" : null;
/** Label values that need escaping in the text format. */
const AWKWARD_NAME = 'Okta "prod" \\ eu\nsecond line';

function promtoolCheck(exposition: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(exposition);
  });
}

let emulator: Emulator | undefined;
let harness: TestDaemon | undefined;

afterEach(async () => {
  await harness?.close();
  await emulator?.close();
  harness = undefined;
  emulator = undefined;
});

describe("promtool check metrics", () => {
  it("accepts the daemon's /metrics before the first scan, after scans, and after a failed one", async (ctx) => {
    ctx.skip(MISSING !== null, MISSING ?? "");
    const expired = await makeCert({ cn: "expired.example.test", fromDays: -400, toDays: -1 });
    emulator = await startTestEmulator({
      seed: { kind: "demo" },
      quirks: { omitEnabled: true },
    });
    const awkward = emulator.state.addIntegration({ name: AWKWARD_NAME });
    emulator.state.addCertificate({ integrationId: awkward.id, pem: expired.pem, enabled: true });
    emulator.state.addCertificate({ integrationId: awkward.id, pem: "not a certificate", enabled: true });
    harness = await startTestDaemon({ emulator, exposeRelative: true });

    const expositions: string[] = [];
    const collect = async () => expositions.push(await (await harness!.request("/metrics")).text());
    await collect();
    await harness.daemon.tick();
    await collect();
    emulator.faults.next({ action: { kind: "status", status: 503 } });
    await harness.daemon.tick();
    await collect();

    // The awkward name really is on /metrics, escaped: the check below covers label escaping.
    expect(expositions[1]).toContain('integration_name="Okta \\"prod\\" \\\\ eu\\nsecond line"');
    expect(expositions[2]).toContain('sendgrid_sso_scan_errors_total{account="main",reason="http_5xx"} 1');
    for (const exposition of expositions) {
      const result = await promtoolCheck(exposition);
      expect(result).toEqual({ code: 0, output: "" });
    }
  });

  it("rejects a broken exposition (the check can fail)", async (ctx) => {
    ctx.skip(MISSING !== null, MISSING ?? "");
    const result = await promtoolCheck("# TYPE x_total gauge\nx_total 1\n");
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("x_total");
  });
});
