import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIo as io } from "./cli-helpers.js";

const MODEL = `model tiny(batch = 8) {
  input x : f32[batch, 6]
  input labels : i32[batch]
  h = relu(linear(x, out = 4))
  loss = softmax_cross_entropy(linear(h, out = 3), labels)
}

strategy hybrid for tiny on p100x16 {
  * : sample = 4
  h.linear : sample = 2, channel = 2, devices = [3, 2, 1, 0]
}
`;

function setup(): string {
  const dir = mkdtempSync(join(tmpdir(), "par-strategy-cli-"));
  writeFileSync(join(dir, "tiny.par"), MODEL);
  return dir;
}

describe("par strategy", () => {
  it("export → JSON file, import → the same .par block back", async () => {
    const dir = setup();
    const a = io(dir);
    expect(await runCli(["strategy", "export", join(dir, "tiny.par"), "--out", "s.json"], a)).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, "s.json"), "utf8"));
    expect(json.ops["h.linear"]).toEqual({ dims: { sample: 2, channel: 2 }, devices: [3, 2, 1, 0] });
    const b = io(dir);
    expect(await runCli(["strategy", "import", "s.json", "--model-file", join(dir, "tiny.par")], b)).toBe(0);
    expect(b.stdout).toContain("strategy hybrid for tiny on p100x16 {");
    expect(b.stdout).toContain("h.linear : sample = 2, channel = 2, devices = [3, 2, 1, 0]");
  });

  it("baseline → JSON on stdout, or .par with --par", async () => {
    const dir = setup();
    const a = io(dir);
    expect(await runCli(["strategy", "baseline", "dp", join(dir, "tiny.par"), "--mesh", "p100x16"], a)).toBe(0);
    expect(JSON.parse(a.stdout).ops.loss).toEqual({ dims: { sample: 8 }, devices: [0, 1, 2, 3, 4, 5, 6, 7] });
    const b = io(dir);
    expect(await runCli(["strategy", "baseline", "dp", join(dir, "tiny.par"), "--mesh", "p100x16", "--par"], b)).toBe(0);
    expect(b.stdout).toBe("strategy dp for tiny on p100x16 {\n  * : sample = 8\n}\n");
  });

  it("usage errors exit 2, input errors exit 1", async () => {
    const dir = setup();
    expect(await runCli(["strategy", "baseline", "zz", join(dir, "tiny.par")], io(dir))).toBe(2);
    expect(await runCli(["strategy", "frobnicate"], io(dir))).toBe(2);
    expect(await runCli(["strategy", "export", join(dir, "tiny.par"), "--par"], io(dir))).toBe(2);
    writeFileSync(join(dir, "bad.json"), `{"format": "par-strategy", "version": 1, "name": "s", "model": "tiny", "mesh": "p100x16", "ops": {"h": {"dims": {"chanel": 2}, "devices": [0, 1]}}}`);
    const e = io(dir);
    expect(await runCli(["strategy", "import", "bad.json", "--model-file", join(dir, "tiny.par")], e)).toBe(1);
    expect(e.stderr).toContain("PAR3162");
  });
});
