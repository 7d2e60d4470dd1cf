// The release pass (src/codegen/lower/release.ts): a releasable buffer is released after
// its last read before its next pure write, counting around the end of the program (a
// program repeats every step); accumulations keep it alive; other buffers are left alone.
import { describe, expect, it } from "vitest";
import { insertReleases } from "../../../src/codegen/lower/release.js";
import type { Instruction } from "../../../src/plan/plan.js";

const fwd = (inputs: string[], outputs: string[]): Instruction => ({ kind: "forward", op: "f", task: 0, box: { lo: [0], hi: [1] }, inputs, params: [], outputs });
const kinds = (p: Instruction[]) => p.map((i) => (i.kind === "release" ? `release ${i.buf}` : i.kind === "forward" ? `fwd ${i.outputs.join(",")}` : i.kind));

describe("insertReleases", () => {
  it("releases after the last read, not after a write; wraps around the step", () => {
    const program: Instruction[] = [
      { kind: "feed", buf: "x" },
      fwd(["x"], ["a"]),
      fwd(["a"], ["b"]),
      fwd(["a", "b"], ["c"]),
      { kind: "send", to: 1, tag: "t", src: "c", region: { lo: [0], hi: [1] } },
    ];
    const out = insertReleases(program, () => true);
    expect(kinds(out)).toEqual(["feed", "fwd a", "release x", "fwd b", "fwd c", "release a", "release b", "send", "release c"]);
  });

  it("keeps buffers that are added into (their next access reads them) and those not releasable", () => {
    const program: Instruction[] = [
      { kind: "zero", buf: "g" },
      { kind: "copy", src: "s", dst: "g", region: { lo: [0], hi: [1] }, accumulate: true },
      { kind: "copy", src: "s", dst: "g", region: { lo: [0], hi: [1] }, accumulate: true },
      { kind: "loss", buf: "g" },
    ];
    const out = insertReleases(program, (b) => b === "g");
    // g: read by the two accumulations (their next access reads too) and the loss, then
    // zeroed again next step: one release, after the loss.
    expect(kinds(out)).toEqual(["zero", "copy", "copy", "loss", "release g"]);
    expect(insertReleases(program, () => false)).toEqual(program);
  });

  it("a buffer that is only read (a weight) is never released", () => {
    const program: Instruction[] = [fwd(["w"], ["y"]), fwd(["w", "y"], ["z"])];
    expect(kinds(insertReleases(program, (b) => b === "w"))).toEqual(["fwd y", "fwd z"]);
  });
});
