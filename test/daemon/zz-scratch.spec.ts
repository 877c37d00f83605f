import { it } from "vitest";
import { startTestEmulator } from "../helpers/start-emulator.js";
import { startTestDaemon } from "../helpers/start-daemon.js";
import { writeFileSync } from "node:fs";
it("scratch", async () => {
  const emulator = await startTestEmulator({ seed: { kind: "demo" } });
  const d = await startTestDaemon({ emulator });
  const before = await d.request("/readyz");
  console.log("readyz", before.status);
  await d.daemon.tick();
  const m = await (await d.request("/metrics")).text();
  writeFileSync("/tmp/scratch/metrics.txt", m);
  writeFileSync("/tmp/scratch/inv.json", await (await d.request("/api/v1/inventory")).text());
  writeFileSync("/tmp/scratch/page.html", await (await d.request("/")).text());
  console.log(JSON.stringify(d.logs, null, 1).slice(0, 3000));
  await d.close();
  await emulator.close();
});
