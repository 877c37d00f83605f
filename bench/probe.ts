import { startBenchEmulator } from "./emulator.js";
import { benchMonitor, type BenchMonitor } from "./monitor.js";
import { fullScan } from "./scan.js";
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
const MB = 1048576;
const scrape = async (core: BenchMonitor) => (await core.metrics.render()).length;
const emulator = await startBenchEmulator({ integrations: 1000, certificatesPerIntegration: 3 });
try {
  await emulator.setLatency(0);
  const core = benchMonitor({
    baseUrl: emulator.url,
    apiKey: emulator.apiKey,
    concurrency: 8,
    exposeRelative: false,
    processMetrics: true,
  });
  const out: string[] = [];
  const firstRender: number[] = [];
  const scanMs: number[] = [];
  const cpu: number[] = [];
  const gc = (globalThis as unknown as { gc: () => void }).gc;
  for (let i = 1; i <= 40; i++) {
    const c0 = process.cpuUsage();
    let t = performance.now();
    await fullScan(core, 3000);
    scanMs.push(performance.now() - t);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    t = performance.now();
    await scrape(core);
    firstRender.push(performance.now() - t);
    if (i % 10 === 0) {
      gc();
      gc();
      await sleep(500);
      out.push(
        (process.memoryUsage().rss / MB).toFixed(0) + "/" + (process.memoryUsage().heapUsed / MB).toFixed(0),
      );
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!.toFixed(1);
  console.log(
    "rss/heap",
    out.join(" "),
    "| scan ms",
    med(scanMs.slice(2)),
    "cpu ms",
    med(cpu.slice(2)),
    "| first render after scan",
    med(firstRender.slice(2)),
  );
  await core.close();
} finally {
  await emulator.close();
}
