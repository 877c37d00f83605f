// Memory over many scans: runs the memory child against the emulator and reads its marks. Extra V8
// flags show what a runtime setting would change; the daemon itself runs without any.

import type { BenchEmulator } from "./emulator.js";
import { ChildProcessHandle } from "./ipc.js";
import type { MemoryMark, MemoryRun } from "./memory-process.js";

export async function memoryBench(
  emulator: BenchEmulator,
  run: Omit<MemoryRun, "baseUrl" | "apiKey">,
  v8Flags: readonly string[] = [],
): Promise<MemoryMark[]> {
  await emulator.setLatency(0);
  const child = ChildProcessHandle.start(new URL("./memory-process.js", import.meta.url), [
    "--expose-gc",
    ...v8Flags,
  ]);
  try {
    return await child.call<MemoryMark[]>("run", { ...run, baseUrl: emulator.url, apiKey: emulator.apiKey });
  } finally {
    await child.close();
  }
}
