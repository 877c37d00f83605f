import { startBenchEmulator } from "./emulator.js";
import { benchMonitor } from "./monitor.js";
import { fullScan } from "./scan.js";
const MB = 1024 * 1024;
import { readFileSync } from "node:fs";
const show = (label: string) => { (globalThis as any).gc(); (globalThis as any).gc(); const u = process.memoryUsage(); const st = readFileSync("/proc/self/status", "utf8").split("\n").filter(l => /^(VmRSS|RssAnon|RssFile|RssShmem|Threads)/.test(l)).map(l => l.replace(/\s+/g, " ")).join(", "); console.log(label, "rss", (u.rss / MB).toFixed(1), "heapTotal", (u.heapTotal / MB).toFixed(1), "used", (u.heapUsed / MB).toFixed(1), st); };
show("start");
const emulator = await startBenchEmulator({ integrations: 1000, certificatesPerIntegration: 3 });
show("emulator up");
try {
  await emulator.setLatency(0);
  const core = benchMonitor({ baseUrl: emulator.url, apiKey: emulator.apiKey, concurrency: 8, exposeRelative: false, processMetrics: true });
  for (let i = 1; i <= 60; i++) {
    await fullScan(core, 3000);
    if (process.env.RENDER) await core.metrics.render();
    if (i === 1 || i === 2 || i % 10 === 0) show(`scan ${i}`);
  }
  await core.close();
} finally {
  await emulator.close();
}
