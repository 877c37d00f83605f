// Memory of a real daemon: `node dist/cli.js run` with the container image's NODE_OPTIONS (and nothing
// else: no --expose-gc, no forced GC), scanning the emulator every second with rotation on (one `file`
// rule on one integration whose certificate is due), its JSON log drained from a pipe, /metrics scraped
// every 15 s with Accept-Encoding gzip as Prometheus does. VmRSS is read from /proc/PID/status when
// the log says scan `marks[i]` is complete; VmHWM (the kernel's high-water mark) at the last mark is the
// highest RSS of the whole run. After the stop, the state_dir's journal and audit log show whether the
// rule matched and the rotation happened.

import type { ImageRuntime } from "./image-options.js";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { soonestExpiring } from "./certs.js";
import { KEY_ENV, writeConfig, writeFileSource } from "./config-file.js";
import type { BenchEmulator } from "./emulator.js";
import { RunDaemon } from "./run-daemon.js";
import { scrapeOnce } from "./scrape.js";

export interface DaemonMemoryOptions {
  readonly integrations: number;
  readonly certificatesPerIntegration: number;
  readonly concurrency: number;
  readonly schedule: string;
  readonly scrapeEveryMs: number;
  /** Scan numbers at which VmRSS is read; the last one ends the run. */
  readonly marks: readonly number[];
  /** How the image starts the daemon: its environment and node flags. */
  readonly image: ImageRuntime;
  readonly giveUpMs: number;
}

export interface RssMark {
  readonly scan: number;
  readonly rssMb: number;
}

export interface RotationEvidence {
  readonly integration: string;
  /** Phases of the journal's rotation records for that integration, oldest first. */
  readonly phases: readonly string[];
  /** Actions and results in audit.jsonl, e.g. "upload:ok". */
  readonly audit: readonly string[];
}

export interface DaemonMemory {
  readonly marks: readonly RssMark[];
  /** VmHWM at the last mark. */
  readonly highestRssMb: number;
  readonly scans: number;
  readonly scrapes: number;
  readonly elapsedS: number;
  /** Scans that logged failures or read other than every integration. */
  readonly badScans: number;
  readonly rotation: RotationEvidence;
}

const MB_PER_KB = 1 / 1024;

/** A field of /proc/PID/status in MB, e.g. VmRSS or VmHWM. */
export async function procStatusMb(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1];
  if (kb === undefined) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(kb) * MB_PER_KB;
}

async function rotationEvidence(stateDir: string, integration: string): Promise<RotationEvidence> {
  // JsonStore's envelope: { schema_version, saved_at, data }.
  const journal = JSON.parse(await readFile(join(stateDir, "journal.json"), "utf8").catch(() => "{}")) as {
    data?: { rotations?: { phase: string }[] };
  };
  const audit = (await readFile(join(stateDir, "audit.jsonl"), "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { action: string; result: string });
  return {
    integration,
    phases: (journal.data?.rotations ?? []).map((record) => record.phase),
    audit: audit.map((entry) => `${entry.action}:${entry.result}`),
  };
}

export async function daemonMemoryBench(
  emulator: BenchEmulator,
  options: DaemonMemoryOptions,
): Promise<DaemonMemory> {
  const dir = await mkdtemp(join(tmpdir(), "sendgrid-sso-certs-memory-"));
  const stateDir = join(dir, "state");
  const integration = `IdP ${soonestExpiring(options.integrations, options.certificatesPerIntegration)}`;
  const configFile = await writeConfig(join(dir, "config.yaml"), {
    emulatorUrl: emulator.url,
    stateDir,
    concurrency: options.concurrency,
    schedule: options.schedule,
    rotation: { integration, path: await writeFileSource(dir, "bench-next.example") },
  });
  const last = Math.max(...options.marks);
  const daemon = new RunDaemon(
    configFile,
    { [KEY_ENV]: emulator.apiKey, ...options.image.env },
    options.image.nodeArgs,
  );
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const marks: RssMark[] = [];
    let highestRssMb = 0;
    let badScans = 0;
    let scrapes = 0;
    // Settles once: at the last mark, or at the first thing that makes the run meaningless.
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`only ${daemon.scans} of ${last} scans within ${options.giveUpMs / 1000} s`)),
        options.giveUpMs,
      );
      void daemon.exited.then(({ code, signal }) =>
        reject(new Error(`daemon exited (code ${code}, signal ${signal}) after ${daemon.scans} scans`)),
      );
      daemon.onScan((scan, count) => {
        if (scan.failures !== 0 || scan.integrations !== options.integrations) badScans++;
        if (count % 50 === 0) console.error(`[bench]   scan ${count} of ${last}`);
        if (!options.marks.includes(count)) return;
        void (async () => {
          marks.push({ scan: count, rssMb: await procStatusMb(daemon.pid, "VmRSS") });
          if (count === last) highestRssMb = await procStatusMb(daemon.pid, "VmHWM");
        })().then(() => count === last && resolve(), reject);
      });
      daemon.url
        .then(async (url) => {
          while (!stopped) {
            // As Prometheus sends it; the body is decompressed and dropped.
            await scrapeOnce(url, undefined, "gzip");
            scrapes++;
            for (let waited = 0; waited < options.scrapeEveryMs && !stopped; waited += 100) await sleep(100);
          }
        }, reject)
        .catch(reject);
    }).finally(() => {
      stopped = true;
      clearTimeout(timer);
    });
    const elapsedS = (performance.now() - daemon.startedAt) / 1000;
    await daemon.stop();
    return {
      marks: marks.sort((a, b) => a.scan - b.scan),
      highestRssMb,
      scans: daemon.scans,
      scrapes,
      elapsedS,
      badScans,
      rotation: await rotationEvidence(stateDir, integration),
    };
  } finally {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
