// `check --json | head -1`: the reader closes the pipe while the check still writes. The CLI finishes
// with the check's own exit code and no stack trace.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Emulator } from "../../src/emulator/server.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";
import { makeCert } from "../helpers/make-cert.js";

let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sso-closed-output-"));
  const cert = await makeCert({ cn: "closed-output.example.test" });
  // Enough output (about 1 MB of JSON) that it cannot all fit in the pipe before the reader is gone.
  emulator = await startTestEmulator({
    seed: {
      kind: "data",
      data: {
        integrations: Array.from({ length: 400 }, (_, i) => ({
          name: `IdP ${i}`,
          certificates: [{ pem: cert.pem }, { pem: cert.pem }],
        })),
      },
    },
  });
});

afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `check` with its stdout closed after the first chunk arrives; its exit code and stderr. */
function checkIntoClosedPipe(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(inject("builtSrc"), "cli.js"), "check", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      SENDGRID_API_KEY: TEST_API_KEY,
      SENDGRID_API_BASE_URL: emulator.url,
    },
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.once("data", () => child.stdout.destroy());
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stderr })));
}

describe("output to a reader that went away", () => {
  it("check --json exits with the check's code, without a stack trace", async () => {
    const { code, stderr } = await checkIntoClosedPipe(["--json", "--timeout", "60s"]);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(code).toBe(0);
  });
});
