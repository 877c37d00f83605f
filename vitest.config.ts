import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.spec.ts"],
    // Builds src/ once for the tests that run it as a separate program (inject("builtSrc")).
    globalSetup: ["test/helpers/global-setup.ts"],
    setupFiles: ["test/helpers/setup.ts"],
    // Backstops only: tests wait on events and progress with ceilings of their own. Far above what any test
    // or hook takes on a 2-core machine under heavy load, so load alone never reaches them.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: more forks only add contention to the tests that run real servers.
    pool: "forks",
    maxWorkers: 2,
  },
});
