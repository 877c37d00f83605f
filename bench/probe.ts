import { startBenchEmulator } from "./emulator.js";
import { benchMonitor } from "./monitor.js";
import { fullScan } from "./scan.js";
const MB = 1048576;
const emulator = await startBenchEmulator({ integrations: 1000, certificatesPerIntegration: 3 });
try {
  await emulator.setLatency(0);
  const core = benchMonitor({ baseUrl: emulator.url, apiKey: emulator.apiKey, concurrency: 8, exposeRelative: false, processMetrics: true });
  const out: string[] = [];
  for (let i = 1; i <= 40; i++) { await fullScan(core, 3000); await core.metrics.render(); if (i % 5 === 0) { (globalThis as any).gc(); (globalThis as any).gc(); const u = process.memoryUsage(); out.push(`${(u.rss / MB).toFixed(0)}/${(u.heapTotal / MB).toFixed(0)}/${(u.heapUsed / MB).toFixed(0)}`); } }
  console.log(process.execArgv.join(" "), out.join(" "));
  await core.close();
} finally {
  await emulator.close();
}
