// Every op of the TypeScript registry has a torch kernel (asked of the Python package
// itself), and the package has no kernel for an op the registry does not know.
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { opNames } from "../../../src/ops/registry.js";
import { pythonEnv } from "../../../src/engines/torch/python.js";
import { describeTorch, TORCH } from "./support.js";

describeTorch("torch kernels", () => {
  it("cover the op registry exactly", () => {
    const r = spawnSync(TORCH!.python, ["-m", "par_torch", "kernels", "--json"], { env: pythonEnv(), encoding: "utf8" });
    expect(r.status).toBe(0);
    const kernels = JSON.parse(r.stdout) as { kernels: Record<string, string> };
    const have = Object.keys(kernels.kernels).sort();
    const missing = opNames().filter((n) => !have.includes(n));
    const unknown = have.filter((n) => !opNames().includes(n));
    expect({ missing, unknown }).toEqual({ missing: [], unknown: [] });
    // Each kernel lives in the family file mirroring src/ops/.
    for (const [name, file] of Object.entries(kernels.kernels)) expect(file, name).toMatch(/^python\/par_torch\/ops\/[a-z_]+\.py$/);
  });
});
