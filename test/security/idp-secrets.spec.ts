// The IdP credentials go nowhere: a recognisable Okta API token, Entra client secret and the access
// tokens Graph hands out must not appear in any log line (at debug level), /metrics, the status page,
// the inventory, the journal, the audit log or an error message, through a managed rollover, failed
// reads, an expired token and IdP answers that echo the credential back.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/daemon.js";
import { openIdpWorld, type IdpWorld } from "../rotation/idp-world.js";
import { leakCheckKey, Outputs } from "./leaks.js";

let world: IdpWorld | null = null;

afterEach(async () => {
  await world?.close();
  world = null;
});

async function readEndpoints(daemon: Daemon, outputs: Outputs, label: string): Promise<void> {
  for (const path of ["/metrics", "/", "/api/v1/inventory"]) {
    outputs.add(`${label} GET ${path}`, await (await fetch(`${daemon.url}${path}`)).text());
  }
}

/** Graph's access tokens as the emulator issues them; none may be written anywhere. */
const ACCESS_TOKEN = /emu\.[A-Za-z0-9_-]{20,}/;

describe("recognisable IdP credentials", () => {
  it("appear nowhere through a rollover, failed reads, an expired token and echoing error bodies", async () => {
    const oktaToken = leakCheckKey("okta");
    const entraSecret = leakCheckKey("entra");
    const w = (world = await openIdpWorld({
      activeKeyDaysLeft: 5,
      oktaToken,
      entraSecret,
      okta: { manage_keys: true },
      entra: { manage_keys: true, validity_years: 2 },
      http: { max_retries: 1, timeout: "2s" },
    }));
    const outputs = new Outputs();
    const daemon = await w.startDaemon();
    // Error bodies that quote the credential back, as a careless proxy might.
    w.okta.faults.next({
      action: {
        kind: "status",
        status: 500,
        body: { errorCode: "E0000009", errorSummary: `bad ${oktaToken}` },
      },
      times: 2,
    });
    w.graph.faults.next({
      action: {
        kind: "status",
        status: 400,
        body: { error: { code: "BadRequest", message: `client_secret=${entraSecret}` } },
      },
    });
    await daemon.tick();
    await readEndpoints(daemon, outputs, "after failures");
    await daemon.tick();
    w.graph.expireTokens();
    await daemon.tick();
    expect(daemon.rotation.rotator.current.rollovers.map((r) => r.phase)).toEqual(["retired", "retired"]);
    await readEndpoints(daemon, outputs, "after the rollovers");

    await daemon.stop(1_000);
    for (const [index, entry] of w.logs.entries.entries())
      outputs.add(`log line ${index}`, JSON.stringify(entry));
    const stateDir = join(w.dir, "state");
    for (const file of readdirSync(stateDir))
      outputs.add(`state_dir/${file}`, readFileSync(join(stateDir, file), "utf8"));
    expect(w.logs.entries.some((e) => e.level === "warn" || e.level === "error")).toBe(true);
    outputs.expectFreeOf(oktaToken, entraSecret);
    expect(JSON.stringify(w.logs.entries)).not.toMatch(ACCESS_TOKEN);
  });
});
