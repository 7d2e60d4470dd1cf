// The torch engine's diagnostic codes: the Python package raises exactly the codes of the
// TypeScript table (src/engines/torch/codes.ts), with the same titles.
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { TORCH_CODES } from "../../../src/engines/torch/codes.js";
import { pythonEnv } from "../../../src/engines/torch/python.js";
import { describeTorch, TORCH } from "./support.js";

describeTorch("torch engine codes", () => {
  it("python/par_torch's table is the TypeScript table", () => {
    const r = spawnSync(TORCH!.python, ["-m", "par_torch", "codes", "--json"], { env: pythonEnv(), encoding: "utf8" });
    expect(r.status).toBe(0);
    const { codes } = JSON.parse(r.stdout) as { codes: Record<string, string> };
    expect(codes).toEqual(Object.fromEntries(Object.entries(TORCH_CODES).map(([c, i]) => [c, i.title])));
  });
});
