// Builds SendGridClients against a test emulator and closes them after each test; records observer events
// and the waits a client asks for, on a clock that only moves when the client sleeps.
import { SendGridClient, type ClientOptions, type RequestEvent } from "../../src/sendgrid/client.js";
import { SendGridError } from "../../src/sendgrid/errors.js";
import { SsoApi } from "../../src/sendgrid/sso.js";
import type { Emulator } from "../../src/emulator/server.js";
import { TEST_API_KEY } from "../helpers/start-emulator.js";

export interface FakeClock {
  readonly sleeps: number[];
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Starts at `startMs`; each sleep returns at once and moves the time by the wait. */
export function fakeClock(startMs: number): FakeClock {
  let time = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => time,
    sleep: (ms) => {
      sleeps.push(ms);
      time += ms;
      return Promise.resolve();
    },
  };
}

export interface Harness {
  client(emulator: Emulator, options?: Partial<ClientOptions>): { client: SendGridClient; api: SsoApi };
  readonly events: RequestEvent[];
  closeAll(): Promise<void>;
}

export function harness(): Harness {
  const clients: SendGridClient[] = [];
  const events: RequestEvent[] = [];
  return {
    events,
    client(emulator, options = {}) {
      const client = new SendGridClient({
        account: "test",
        baseUrl: emulator.url,
        apiKey: () => TEST_API_KEY,
        timeoutMs: 5_000,
        maxRetries: 2,
        maxConcurrency: 4,
        observer: { onRequest: (event) => events.push(event) },
        // No real waiting between retries in tests.
        clock: fakeClock(Date.now()),
        random: () => 0.5,
        ...options,
      });
      clients.push(client);
      return { client, api: new SsoApi(client) };
    },
    async closeAll() {
      await Promise.all(clients.splice(0).map((client) => client.close()));
      events.length = 0;
    },
  };
}

/** The SendGridError a promise rejects with; fails the test when it resolves or rejects otherwise. */
export async function failure(promise: Promise<unknown>): Promise<SendGridError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SendGridError) return error;
    throw error;
  }
  throw new Error("expected a SendGridError, the call succeeded");
}
