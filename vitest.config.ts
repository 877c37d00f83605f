import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.spec.ts"],
    // Builds src/ once for the tests that run it as a separate program (inject("builtSrc")).
    globalSetup: ["test/helpers/global-setup.ts"],
    setupFiles: ["test/helpers/setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: more forks only add contention to the tests that run real servers.
    pool: "forks",
    maxWorkers: 2,
  },
});
