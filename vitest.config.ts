import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Property suites are CPU-bound; two workers match this machine's two cores.
    pool: "forks",
    maxWorkers: 2,
  },
});
