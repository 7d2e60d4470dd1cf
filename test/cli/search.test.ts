import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/command.js";
import { runCli } from "../../src/cli/main.js";

async function cli(argv: string[], isTty = false, cwd = process.cwd()) {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTty, errIsTty: isTty, cwd };
  const code = await runCli(argv, io);
  return { code, out, err };
}

const MODEL = `model tiny(batch = 32, width = 64) {
  input x : f32[batch, width]
  input labels : i32[batch]
  h = relu(linear(x, out = width))
  loss = softmax_cross_entropy(linear(h, out = 8), labels)
}
`;

function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), "par-search-"));
  writeFileSync(join(dir, "tiny.par"), MODEL);
  return dir;
}

describe("par search", () => {
  it("prints the best time, speed-ups, per-op table, bytes, memory and the .par block; writes --out", async () => {
    const dir = workdir();
    const { code, out, err } = await cli(["search", "tiny.par", "--mesh", "p100x16", "--budget", "300", "--seed", "2", "--out", "s.json"], false, dir);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toMatch(/best iteration time/);
    expect(out).toMatch(/vs data parallel .* speed-up \d+\.\d\d×/);
    expect(out).toMatch(/vs expert/);
    expect(out).toMatch(/per-op configs:/);
    expect(out).toMatch(/peak memory per device:/);
    expect(out).toMatch(/strategy /);
    const json = JSON.parse(readFileSync(join(dir, "s.json"), "utf8"));
    expect(json.format).toBe("par-strategy");
  });

  it("--json carries the fields and is deterministic for an iteration budget", async () => {
    const dir = workdir();
    const a = await cli(["search", "tiny.par", "--mesh", "p100x16", "--budget", "300", "--json"], false, dir);
    const b = await cli(["search", "tiny.par", "--mesh", "p100x16", "--budget", "300", "--json"], false, dir);
    expect(a.code).toBe(0);
    const ja = JSON.parse(a.out);
    const jb = JSON.parse(b.out);
    for (const k of ["iterationTimeMs"]) expect(typeof ja.best[k]).toBe("number");
    expect(typeof ja.baselines.dataParallel.iterationTimeMs).toBe("number");
    expect(typeof ja.baselines.expert.iterationTimeMs).toBe("number");
    expect(ja.iterations).toBeGreaterThan(0);
    expect(typeof ja.seconds).toBe("number");
    expect(ja.best.iterationTimeMs).toBeLessThanOrEqual(ja.baselines.dataParallel.iterationTimeMs);
    expect(jb.best).toEqual(ja.best);
  });

  it("draws a live progress line on a TTY and rejects a bad budget", async () => {
    const dir = workdir();
    const tty = await cli(["search", "tiny.par", "--mesh", "p100x16", "--budget", "300"], true, dir);
    expect(tty.code).toBe(0);
    expect(tty.err).toMatch(/\rsearch: (preparing|enumerating)/);
    expect(tty.err.endsWith("\r\x1b[K")).toBe(true);
    const bad = await cli(["search", "tiny.par", "--budget", "fast"], false, dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/PAR7002/);
  });

  it("par diff compares two strategies op by op", async () => {
    const dir = workdir();
    const sb = await cli(["strategy", "baseline", "dp", join(dir, "tiny.par"), "--mesh", "p100x16", "--out", join(dir, "dp.json")], false, dir);
    expect(sb.err).toBe("");
    expect(sb.code).toBe(0);
    expect((await cli(["search", "tiny.par", "--mesh", "p100x16", "--budget", "300", "--out", "s.json"], false, dir)).code).toBe(0);
    const d = await cli(["diff", "dp.json", "s.json", "--model-file", "tiny.par", "--mesh", "p100x16"], false, dir);
    expect(d.err).toBe("");
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/B\/A \d\.\d{3}/);
    expect(d.out).toMatch(/Δcompute .* Δcomm .* Δmemory/);
    const j = await cli(["diff", "dp.json", "s.json", "--model-file", "tiny.par", "--mesh", "p100x16", "--json"], false, dir);
    expect(JSON.parse(j.out).ops.length).toBeGreaterThan(0);
    // A strategy written for another model (same op names) is still compared, with PAR7006.
    const other = JSON.parse(readFileSync(join(dir, "s.json"), "utf8"));
    other.model = "other";
    writeFileSync(join(dir, "other.json"), JSON.stringify(other));
    const w = await cli(["diff", "dp.json", "other.json", "--model-file", "tiny.par", "--mesh", "p100x16"], false, dir);
    expect(w.code).toBe(0);
    expect(w.err).toMatch(/PAR7006/);
  });
});
