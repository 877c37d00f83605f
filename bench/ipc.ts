// Calls between the bench and its child processes over Node's IPC channel: the parent names an
// operation, the child answers once per call. Owns the message shapes and the child's lifetime; a child
// that dies fails every call still waiting instead of leaving the bench hanging.

import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

interface CallMessage {
  readonly id: number;
  readonly op: string;
  readonly args: unknown;
}

type ReplyMessage =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

export class ChildFailedError extends Error {
  override readonly name = "ChildFailedError";
}

const EXIT_GRACE_MS = 10_000;

export class ChildProcessHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly label: string,
  ) {
    child.on("message", (message: ReplyMessage) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new ChildFailedError(`${label}: ${message.error}`));
    });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        for (const waiter of this.pending.values()) {
          waiter.reject(new ChildFailedError(`${label} exited (code ${code}, signal ${signal})`));
        }
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Forks a compiled bench module (a URL relative to the caller's own module). */
  static start(module: URL, execArgv: readonly string[] = []): ChildProcessHandle {
    const child = fork(fileURLToPath(module), [], { execArgv: [...execArgv], stdio: "inherit" });
    return new ChildProcessHandle(child, module.pathname.split("/").pop() ?? "child");
  }

  call<T>(op: string, args: unknown = null): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const message: CallMessage = { id, op, args };
      this.child.send(message);
    });
  }

  /** Lets the child leave on its own by closing the channel; kills it if it has not after a grace period. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), EXIT_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

export type Handlers = Readonly<Record<string, (args: never) => unknown>>;

/**
 * The child's side: answers calls with `handlers`; `onDisconnect` releases what keeps the child alive
 * (servers, sockets) when the parent closes the channel.
 */
export function serve(handlers: Handlers, onDisconnect: () => Promise<void> | void = () => undefined): void {
  const send = (reply: ReplyMessage) => process.send?.(reply);
  process.on("message", (message: CallMessage) => {
    const handler = handlers[message.op] as ((args: unknown) => unknown) | undefined;
    if (!handler) {
      send({ id: message.id, ok: false, error: `unknown operation ${message.op}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (value) => send({ id: message.id, ok: true, value: value ?? null }),
        (error: unknown) =>
          send({
            id: message.id,
            ok: false,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
      );
  });
  process.once("disconnect", () => {
    void Promise.resolve(onDisconnect()).catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
  });
}
