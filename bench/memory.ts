// Memory over many scans: runs the memory child against the emulator with the given V8 flags (none:
// Node's defaults) and reads its marks and its peak.

import type { BenchEmulator } from "./emulator.js";
import { ChildProcessHandle } from "./ipc.js";
import type { MemoryRun, MemoryUse } from "./memory-process.js";

export async function memoryBench(
  emulator: BenchEmulator,
  run: Omit<MemoryRun, "baseUrl" | "apiKey">,
  v8Flags: readonly string[],
): Promise<MemoryUse> {
  await emulator.setLatency(0);
  const child = ChildProcessHandle.start(new URL("./memory-process.js", import.meta.url), [
    "--expose-gc",
    ...v8Flags,
  ]);
  try {
    return await child.call<MemoryUse>("run", { ...run, baseUrl: emulator.url, apiKey: emulator.apiKey });
  } finally {
    await child.close();
  }
}
