// Parses many certificates off the event loop. A scan of a large account meets thousands of new PEMs at
// once (a cold `check`, the daemon's first scan); parsing them on the main thread held up the answers
// waiting behind them and blocked /metrics. Here the main thread only finds each DER and its hash (the
// cache lookup, microseconds); what the cache does not know goes to one worker thread, started on first
// need and ended once idle, so a daemon whose scans find nothing new holds no worker at all.
// Where the compiled worker is absent (src/ run from TypeScript) or the worker fails, the same parse runs
// inline: the results are the same either way, only the thread differs.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ParseResult } from "../core/model.js";
import { locate, parseDer, remember, type DerInput } from "./parse.js";

export interface ParseBatch {
  readonly id: number;
  readonly inputs: readonly DerInput[];
}

export interface ParseReply {
  readonly id: number;
  readonly results: readonly ParseResult[];
}

/** Long enough to carry a scan's batches, short enough that an idle daemon holds no second heap. */
const IDLE_MS = 2_000;
const WORKER_FILE = fileURLToPath(new URL("./parse-worker.js", import.meta.url));

interface Pending {
  readonly inputs: readonly DerInput[];
  readonly resolve: (results: readonly ParseResult[]) => void;
}

export interface ParsePoolOptions {
  /** The compiled worker script; null parses inline. */
  readonly workerFile: string | null;
  readonly idleMs?: number;
}

export class ParsePool {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Set once a worker failed: parse inline from then on rather than fail again. */
  private broken = false;
  private started = 0;
  private sent = 0;
  /** Results on their way into the cache from elsewhere (parse-cache-file.ts): lookups wait for them. */
  private arriving: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ParsePoolOptions) {}

  /** Workers started so far. */
  get workersStarted(): number {
    return this.started;
  }

  /** Batches handed to a worker so far. */
  get batchesSent(): number {
    return this.sent;
  }

  /** True while a worker thread is alive. */
  get running(): boolean {
    return this.worker !== null;
  }

  /**
   * Makes parseAll wait for `loading` (which must never reject) before it looks up a PEM, so that results
   * read from the cache file are found, while the scan's first requests go out meanwhile.
   */
  lookUpAfter(loading: Promise<unknown>): void {
    this.arriving = Promise.all([this.arriving, loading]);
  }

  /** One result per PEM, in order. Never rejects: a bad PEM is a Failure, a failed worker parses inline. */
  async parseAll(pems: readonly string[]): Promise<ParseResult[]> {
    await this.arriving;
    const located = pems.map(locate);
    const inputs = located.flatMap((found) => ("input" in found ? [found.input] : []));
    const parsed = inputs.length === 0 ? [] : await this.parseInputs(inputs);
    let next = 0;
    return located.map((found) => {
      if ("result" in found) return found.result;
      const result = parsed[next++]!;
      remember(found.input, result);
      return result;
    });
  }

  private parseInputs(inputs: readonly DerInput[]): Promise<readonly ParseResult[]> | ParseResult[] {
    const worker = this.workerOrNull();
    if (!worker) return inputs.map(parseDer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const id = this.nextId++;
    this.sent++;
    // Each DER copied to a buffer of its own: a Buffer may view an 8 KB pool, and the whole pool would
    // be cloned with it.
    const batch: ParseBatch = {
      id,
      inputs: inputs.map((input) => ({ ...input, der: new Uint8Array(input.der) })),
    };
    // Referenced while it holds batches (a caller awaits them), unreferenced while idle.
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve) => {
      this.pending.set(id, { inputs, resolve });
      worker.postMessage(batch);
    });
  }

  private workerOrNull(): Worker | null {
    if (this.worker) return this.worker;
    if (this.broken || this.options.workerFile === null) return null;
    const worker = new Worker(this.options.workerFile);
    this.started++;
    worker.on("message", (reply: ParseReply) => this.settle(reply));
    worker.on("error", () => this.fail(worker));
    worker.on("exit", () => this.fail(worker));
    // After the listeners, which ref it again: an idle worker must never keep a finished `check` alive.
    worker.unref();
    return (this.worker = worker);
  }

  private settle(reply: ParseReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    waiting.resolve(reply.results);
    if (this.pending.size === 0) {
      this.worker?.unref();
      this.scheduleIdle();
    }
  }

  private scheduleIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const worker = this.worker;
      if (!worker || this.pending.size > 0) return;
      this.worker = null;
      void worker.terminate();
    }, this.options.idleMs ?? IDLE_MS);
    this.idleTimer.unref();
  }

  /** The worker died or would not start: what it held is parsed here, and so is everything after. */
  private fail(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.broken = true;
    const orphans = [...this.pending.values()];
    this.pending.clear();
    for (const { inputs, resolve } of orphans) resolve(inputs.map(parseDer));
  }

  /** Ends the worker now (tests; a process that exits does not need it: the worker is unref'd). */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}

/** The process's pool: a worker where the compiled script is there, inline otherwise. */
export const parsePool = new ParsePool({ workerFile: existsSync(WORKER_FILE) ? WORKER_FILE : null });
