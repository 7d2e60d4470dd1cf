import { describe, expect, it } from "vitest";
import { allOps } from "../../src/ops/registry.js";
import { cli } from "./cli-helpers.js";

describe("par ops", () => {
  it("lists every registered op by family", async () => {
    const r = await cli("ops");
    expect(r.code).toBe(0);
    for (const e of allOps()) expect(r.out).toContain(`  ${e.name}(`);
    expect(r.out).toMatch(/^attention:$/m);
  });

  it("shows one op's attributes; --json gives the entry's table", async () => {
    const r = await cli("ops", "linear");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^linear\(x, out, bias = true\) → y/);
    expect(r.out).toMatch(/out: int \(required\)/);
    const j = JSON.parse((await cli("ops", "batchnorm", "--json")).out);
    expect(j.composite).toBe(true);
    expect(j.attrs.map((a: { name: string }) => a.name)).toContain("eps");
  });

  it("an unknown op is a usage error with a suggestion", async () => {
    const r = await cli("ops", "conv2dd");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/did you mean `conv2d`\?/);
  });
});
