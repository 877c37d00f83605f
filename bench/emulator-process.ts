// Child process: one SendGrid emulator on 127.0.0.1 seeded with the bench's certificates, so its CPU
// and memory stay out of the process being measured. Answers latency changes; never talks to anything
// but its parent. Its request log, which nothing reads, is dropped whenever the latency is set.

import { benchCertificates } from "./certs.js";
import { serve } from "./ipc.js";
import { startEmulator, type Emulator } from "../src/emulator/server.js";
import { BENCH_API_KEY, type EmulatorLayout } from "./emulator.js";

// Far above anything a bench run sends: the limiter is not what is measured.
const RATE_LIMIT = { limit: 1_000_000_000, windowMs: 60_000 };

let emulator: Emulator | null = null;

function running(): Emulator {
  if (!emulator) throw new Error("emulator not started");
  return emulator;
}

serve(
  {
    async start(layout: EmulatorLayout) {
      const per = layout.certificatesPerIntegration;
      const pems = await benchCertificates(layout.integrations * per);
      emulator = await startEmulator({
        apiKey: BENCH_API_KEY,
        host: "127.0.0.1",
        port: 0,
        rateLimit: RATE_LIMIT,
        seed: {
          kind: "data",
          data: {
            integrations: Array.from({ length: layout.integrations }, (_, i) => ({
              name: `IdP ${i}`,
              certificates: pems.slice(i * per, (i + 1) * per).map((pem) => ({ pem })),
            })),
          },
        },
      });
      return emulator.url;
    },
    latency(ms: number) {
      running().faults.set({ latencyMs: ms });
      // Each measure sets the latency first: the log of the one before would only grow (200,000 requests a run).
      running().clearLog();
    },
  },
  () => emulator?.close(),
);
