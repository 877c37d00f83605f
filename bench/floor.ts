// The floor of the scan bench on this machine: the same 1 + N requests made with a bare undici Pool and
// JSON.parse, no validation, no parsing of certificates, no metrics. What it costs above the ideal is the
// emulator's timers, the loopback and the processes sharing cores; the daemon cannot do better.

import { Pool } from "undici";
import type { BenchEmulator } from "./emulator.js";
import { timed } from "./stats.js";

async function getJson(pool: Pool, path: string, apiKey: string): Promise<unknown> {
  const answer = await pool.request({ path, method: "GET", headers: { authorization: `Bearer ${apiKey}` } });
  const text = await answer.body.text();
  if (answer.statusCode !== 200) throw new Error(`${path} answered ${answer.statusCode}`);
  return JSON.parse(text);
}

/** Wall time of one bare scan at `concurrency`, in ms. */
export async function bareScanMs(emulator: BenchEmulator, concurrency: number): Promise<number> {
  const pool = new Pool(emulator.url, { connections: concurrency });
  try {
    const { ms } = await timed(async () => {
      const integrations = (await getJson(pool, "/v3/sso/integrations?si=true", emulator.apiKey)) as {
        id: number | string;
      }[];
      let next = 0;
      const worker = async () => {
        while (next < integrations.length) {
          const { id } = integrations[next++]!;
          await getJson(pool, `/v3/sso/integrations/${id}/certificates`, emulator.apiKey);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    });
    return ms;
  } finally {
    await pool.close();
  }
}
