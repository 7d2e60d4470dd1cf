import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it, vi } from "vitest";
import { runCli } from "../../src/cli/main.js";

// A write that fails (disk full, read-only folder) is simulated: as root, permissions
// cannot be relied on to make a real write fail.
vi.mock("../../src/core/files.js", () => ({
  writeFileAtomic: () => {
    throw new Error("ENOSPC: no space left on device");
  },
}));

it("par fmt --write reports PAR4002 when the file cannot be written, and leaves it alone", async () => {
  const dir = mkdtempSync(join(tmpdir(), "par-fmt-"));
  writeFileSync(join(dir, "a.par"), "model m{}");
  let err = "";
  const code = await runCli(["fmt", "--write", "a.par"], { out: () => {}, err: (t) => void (err += t), isTty: false, cwd: dir });
  expect(code).toBe(1);
  expect(err).toContain("error PAR4002: cannot write file `a.par`: ENOSPC");
  expect(readFileSync(join(dir, "a.par"), "utf8")).toBe("model m{}");
});
