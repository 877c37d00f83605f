// Rotating the SendGrid API key itself without a restart: the daemon reads its key from a file (a mounted
// secret); once SendGrid accepts only the new key and the file holds it, the next tick's scan succeeds.

import { afterEach, expect, it } from "vitest";
import type { Daemon } from "../../src/daemon.js";
import { parsePrometheusText } from "../helpers/prom-text.js";
import { leakCheckKey } from "./leaks.js";
import { openWorld, type World } from "./world.js";

let world: World | null = null;

afterEach(async () => {
  await world?.close();
  world = null;
});

async function scanSucceeded(daemon: Daemon): Promise<number> {
  const response = await fetch(`${daemon.url}/metrics`);
  return parsePrometheusText(await response.text()).value("sendgrid_sso_scrape_success", { account: "main" });
}

it("a key replaced at SendGrid and in the key file is used by the next scan, without a restart", async () => {
  const oldKey = leakCheckKey("old");
  const newKey = leakCheckKey("new");
  world = await openWorld(oldKey);
  const daemon = await world.startDaemon();

  await daemon.tick();
  expect(await scanSucceeded(daemon)).toBe(1);

  // SendGrid has the new key, the mounted secret not yet: the scan fails on 401 and says why.
  world.emulator.setApiKey(newKey);
  world.emulator.clearLog();
  await daemon.tick();
  expect(await scanSucceeded(daemon)).toBe(0);
  expect(world.emulator.log.length).toBeGreaterThan(0);
  expect(world.emulator.log.every((entry) => entry.status === 401)).toBe(true);

  world.writeKey(newKey);
  world.emulator.clearLog();
  await daemon.tick();
  expect(await scanSucceeded(daemon)).toBe(1);
  expect(world.emulator.log.length).toBeGreaterThan(0);
  expect(world.emulator.log.every((entry) => entry.status === 200)).toBe(true);
  const inventory = (await (await fetch(`${daemon.url}/api/v1/inventory`)).json()) as {
    accounts: { integrations: { id: string }[] }[];
  };
  expect(inventory.accounts[0]!.integrations.map((i) => i.id).sort()).toEqual(["int-duo", "int-okta"]);
});
