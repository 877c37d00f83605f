// Starts an emulator on 127.0.0.1, port 0, for one test file or test. Closing it (afterEach/afterAll) is
// the caller's job; the key is a fixed test value, never a real SendGrid key.
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/server.js";

export const TEST_API_KEY = "SG.emulator-test-key";

export function startTestEmulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  return startEmulator({ apiKey: TEST_API_KEY, host: "127.0.0.1", port: 0, seedRandom: 1, ...options });
}
