// The forward slice: what `par forward` runs of a training program is what its outputs
// depend on, nothing more (the loss and its labels stay out) and nothing less (partial
// sums and the pieces a value is assembled from stay in).
import { describe, expect, it } from "vitest";
import { sliceTo } from "../../src/plan/forward-plan.js";
import type { Instruction } from "../../src/plan/plan.js";

const box = { lo: [0], hi: [2] };
const fwd = (op: string, inputs: string[], outputs: string[], params: string[] = []): Instruction => ({ kind: "forward", op, task: 0, box, inputs, params, outputs });

const PROGRAM: Instruction[] = [
  { kind: "feed", buf: "x" },
  { kind: "feed", buf: "labels" },
  fwd("fc", ["x"], ["h"], ["w"]),
  { kind: "zero", buf: "sum" },
  { kind: "copy", src: "h", dst: "sum", region: box, accumulate: true },
  { kind: "copy", src: "x", dst: "sum", region: box, accumulate: true },
  fwd("out", ["sum"], ["y"]),
  fwd("xent", ["y", "labels"], ["l"]),
  { kind: "loss", buf: "l" },
];

describe("sliceTo", () => {
  it("keeps what an output depends on, with every partial sum, and drops the loss and its labels", () => {
    expect(sliceTo(PROGRAM, ["y"])).toEqual(PROGRAM.filter((i) => !(i.kind === "feed" && i.buf === "labels") && !(i.kind === "forward" && i.op === "xent") && i.kind !== "loss"));
  });

  it("an earlier output needs only its own producers", () => {
    expect(sliceTo(PROGRAM, ["h"])).toEqual([PROGRAM[0], PROGRAM[2]]);
  });

  it("the loss needs everything but the loss instruction, which writes nothing", () => {
    expect(sliceTo(PROGRAM, ["l"])).toEqual(PROGRAM.slice(0, -1));
  });

  it("a value assembled from pieces keeps every piece's copy", () => {
    const pieces: Instruction[] = [
      { kind: "feed", buf: "a" },
      { kind: "feed", buf: "b" },
      { kind: "copy", src: "a", dst: "whole", region: { lo: [0], hi: [1] } },
      { kind: "copy", src: "b", dst: "whole", region: { lo: [1], hi: [2] } },
    ];
    expect(sliceTo(pieces, ["whole"])).toEqual(pieces);
  });
});
