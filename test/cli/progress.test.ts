// Progress on long work (issue 20, row 17): one module draws one line on stderr when stderr
// is a terminal (tested with a fake one) and nothing otherwise or with --json; the line is
// erased before other output and at the end, so stdout is the same with or without it.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/command.js";
import { runCli } from "../../src/cli/main.js";
import { Progress } from "../../src/cli/progress.js";
import { SMALL_MLP } from "./cli-helpers.js";

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe("Progress", () => {
  it("draws a bar with a count and an estimate of the time left", () => {
    const clock = fakeClock();
    let out = "";
    const p = new Progress((t) => void (out += t), true, { clock: clock.now, ticker: false });
    p.phase("search", 400, "it");
    clock.advance(2000);
    p.update(100, "best 1.234 ms");
    expect(p.text()).toBe("search  [#####...............] 100/400 it  2.0 s, ~6.0 s left  best 1.234 ms");
    expect(out.endsWith(`\r${p.text()}\x1b[K`)).toBe(true);
    p.end();
    expect(out.endsWith("\r\x1b[K")).toBe(true);
  });

  it("without a total: a counter and the elapsed time; long lines are cut to the terminal", () => {
    const clock = fakeClock();
    const p = new Progress(() => undefined, true, { clock: clock.now, ticker: false, columns: 40 });
    p.phase("load: big.onnx (24.0 MiB)");
    clock.advance(61_500);
    expect(p.text()).toBe("load: big.onnx (24.0 MiB)  1 min 2 s");
    p.update(7, "a very long detail that does not fit the terminal");
    expect(p.text().length).toBeLessThanOrEqual(39);
    expect(p.text().endsWith("…")).toBe(true);
  });

  it("redraws at most every 100 ms, and always at the end of a phase", () => {
    const clock = fakeClock();
    let draws = 0;
    const p = new Progress(() => void draws++, true, { clock: clock.now, ticker: false });
    p.phase("run", 1000, "steps");
    const first = draws;
    for (let i = 1; i < 999; i++) p.update(i);
    expect(draws).toBe(first);
    clock.advance(150);
    p.update(999);
    p.update(1000);
    expect(draws).toBe(first + 2);
  });

  it("is silent when disabled, and erases its line before other output", () => {
    let out = "";
    const off = new Progress((t) => void (out += t), false, { ticker: false });
    off.phase("x", 3);
    off.update(1);
    off.end();
    expect(out).toBe("");
    const io: Io = { out: (t) => void (out += `[out:${t}]`), err: (t) => void (out += t), isTty: true, errIsTty: true, cwd: "." };
    const p = Progress.forIo(io, false, { ticker: false });
    const wrapped = p.wrap(io);
    p.phase("search");
    wrapped.out("result\n");
    expect(out).toMatch(/\rsearch {2}0\.0 s\x1b\[K\r\x1b\[K\[out:result\n\]$/);
    expect(Progress.forIo({ ...io, errIsTty: false }, false).enabled).toBe(false);
    expect(Progress.forIo(io, true).enabled).toBe(false);
  });
});

async function par(argv: string[], errIsTty: boolean): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTty: errIsTty, errIsTty, cwd: process.cwd() };
  const code = await runCli(argv, io);
  return { code, out, err };
}

/** stderr without the progress line's drawing: what a log would keep. */
const withoutProgress = (err: string) => err.replace(/\r[^\r\n]*\x1b\[K/g, "");

describe("commands show progress on a terminal", () => {
  it("compile --search: the search's phases and iterations; stdout and the rest of stderr unchanged", async () => {
    const argv = ["compile", ...SMALL_MLP, "--search", "--budget", "20000", "--out", "/tmp/par-progress.plan.json"];
    const tty = await par(argv, true);
    const plain = await par(argv, false);
    expect(tty.code).toBe(0);
    expect(tty.err).toContain("\rsearch: preparing the baselines and seeds");
    expect(tty.err).toMatch(/\r(search {2}\[[#.]+\] \d+\/20000 it|search: enumerating all \d+ strategies)/);
    expect(tty.err).toContain("\rcompile: lowering to a plan");
    expect(tty.err.endsWith("\r\x1b[K")).toBe(true);
    expect(tty.out).toBe(plain.out);
    expect(withoutProgress(tty.err)).toBe(plain.err);
    expect(plain.err).not.toContain("\r");
  });

  it("run: starting the devices, then a bar of steps with the loss; --json draws nothing", async () => {
    const tty = await par(["run", ...SMALL_MLP, "--strategy", "dp", "--steps", "3"], true);
    expect(tty.code).toBe(0);
    expect(tty.err).toContain("\rrun: starting 2 devices");
    expect(tty.err).toMatch(/\rrun {2}\[#{20}\] 3\/3 steps .* {2}loss \d\.\d{5}/);
    const json = await par(["run", ...SMALL_MLP, "--strategy", "dp", "--steps", "1", "--json"], true);
    expect(json.code).toBe(0);
    expect(json.err).toBe("");
  });

  it("loading a large model file says what is being read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "par-progress-"));
    const model = readFileSync(join(process.cwd(), "models", "mlp.par"), "utf8");
    writeFileSync(join(dir, "big.par"), `${"# padding\n".repeat(130_000)}${model}`);
    for (const argv of [["check", "big.par"], ["graph", "big.par"]]) {
      let err = "";
      const io: Io = { out: () => undefined, err: (t) => void (err += t), isTty: true, errIsTty: true, cwd: dir };
      expect(await runCli(argv, io)).toBe(0);
      expect(err).toMatch(/\rload: big\.par \(1\.\d+ MiB\)/);
    }
  });

  it("verify and profile count their steps", async () => {
    const v = await par(["verify", ...SMALL_MLP, "--strategy", "dp", "--steps", "2"], true);
    expect(v.code).toBe(0);
    expect(v.err).toMatch(/\rverify: the plan and one device {2}\[#{20}\] 4\/4 steps/);
    const p = await par(["profile", ...SMALL_MLP, "--strategy", "dp", "--warmup", "1", "--repeats", "2", "--out", "/tmp/par-progress-costs.json"], true);
    expect(p.code).toBe(0);
    expect(p.err).toMatch(/\rprofile {2}\[[#.]+\] \d\/\d+ steps/);
  });
});
