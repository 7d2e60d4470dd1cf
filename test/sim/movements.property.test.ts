// Property: the simulator moves between devices exactly what the lowered plan moves. For
// random graphs and random strategies, the multiset of (kind, tensor, region, from, to)
// of the simulator's transfers (forward values, partial sums, gradients, gradient
// broadcasts) equals that of the plan's send/recv pairs (by tag: f, r, g, b), and the
// multiset of (weight, shard, devices) of its all-reduces equals the plan's `allreduce`s.
// The plan runs and verifies (test/runtime/strategies.property.test.ts), so it is the truth.
// Checked on graphs built in one go and on graphs reached by one-op changes (delta).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lower } from "../../src/codegen/lower.js";
import type { Mesh } from "../../src/core/mesh.js";
import { regionKey } from "../../src/core/region.js";
import { CostModel } from "../../src/cost/compute.js";
import { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import type { Plan } from "../../src/plan/plan.js";
import { simulatedMovements, type AllReduceMovement, type Movement } from "../../src/sim/movements.js";
import { TaskGraphBuilder } from "../../src/sim/taskgraph.js";
import { assertProperty } from "../support/property.js";
import { rng } from "../support/sharded.js";
import { addOp, meshOf, SGD, tt } from "../runtime/graphs.js";
import { describeCase, randomGraph, randomStrategy, type Family } from "../runtime/random-cases.js";
import { addTwoHeaded } from "../layout/fixtures.js";
import { clusterMesh } from "./fixtures.js";

const TAG_KIND: Record<string, Movement["kind"]> = { f: "value", r: "partial", g: "gradient", b: "broadcast" };

const moveKey = (m: Movement) => `${m.kind} ${m.tensor} ${regionKey(m.region)} ${m.from}→${m.to}`;
const reduceKey = (a: AllReduceMovement) => `${a.param} ${regionKey(a.region)} [${a.devices.join(",")}]`;

/** What the plan moves: its sends (each has exactly one recv, validatePlan) and its all-reduces (one per tag). */
function planMovements(plan: Plan): { moves: string[]; allReduces: string[] } {
  const moves: string[] = [];
  const reduces = new Map<string, string>();
  for (const p of plan.programs) {
    const buffers = new Map(p.buffers.map((b) => [b.id, b]));
    for (const ins of p.instructions) {
      if (ins.kind === "send") {
        const kind = TAG_KIND[ins.tag[0]];
        if (!kind) throw new Error(`send with tag ${ins.tag}`);
        moves.push(moveKey({ kind, tensor: buffers.get(ins.src)!.tensor, region: ins.region, from: p.device, to: ins.to }));
      } else if (ins.kind === "allreduce") {
        const b = buffers.get(ins.buf)!;
        reduces.set(ins.tag, reduceKey({ param: b.tensor, region: b.region, devices: ins.group }));
      }
    }
  }
  return { moves: moves.sort(), allReduces: [...reduces.values()].sort() };
}

function simMovements(b: TaskGraphBuilder): { moves: string[]; allReduces: string[] } {
  const m = simulatedMovements(b);
  return { moves: m.moves.map(moveKey).sort(), allReduces: m.allReduces.map(reduceKey).sort() };
}

type CaseFamily = Family | "dag" | "replicas";

/**
 * Graphs whose tensors have several readers, some reading one tensor twice, some reading
 * what another op reads (so that a device fetches a region once for several readers).
 */
function dagGraph(seed: number, family: "dag" | "replicas"): Graph {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const g = new Graph(`${family}-${seed}`);
  const rows = int(2, 6);
  const width = int(2, 5);
  g.addInput("x", tt([rows, width]));
  const tensors = ["x"];
  const pick = () => tensors[Math.floor(r() * tensors.length)];
  const n = int(1, 5);
  for (let i = 0; i < n; i++) {
    const a = pick();
    const k = r();
    if (family === "replicas" && k < 0.35) {
      const [y, s] = addTwoHeaded(g, `two${i}`, a);
      tensors.push(y);
      // The second output is read by an op of its own (a loss sees only the first).
      tensors.push(addOp(g, `bias${i}`, "add", [addOp(g, `fc${i}s`, "linear", [addOp(g, `exp${i}`, "reshape", [s], { shape: [rows, 1] })], { out: width }), y]));
    } else if (k < 0.5) tensors.push(addOp(g, `fc${i}`, "linear", [a], { out: width, bias: r() < 0.5 }));
    else if (k < 0.7) tensors.push(addOp(g, `relu${i}`, "relu", [a]));
    else tensors.push(addOp(g, `add${i}`, "add", [a, r() < 0.3 ? a : pick()]));
  }
  const logits = addOp(g, "head", "linear", [tensors[tensors.length - 1]], { out: 3 });
  g.addInput("labels", tt([rows], "i32"));
  addOp(g, "loss", "softmax_cross_entropy", [logits, "labels"]);
  return g;
}

function caseOf(graphSeed: number, family: CaseFamily, strategySeed: number, devices: number): { graph: Graph; strategy: Strategy } {
  const graph = family === "dag" || family === "replicas" ? dagGraph(graphSeed, family) : randomGraph(graphSeed, family);
  return { graph, strategy: randomStrategy(graph, strategySeed, devices) };
}

/** Half the meshes run all-reduces in line (CPU workers): the all-reduce tasks differ. */
function meshFor(devices: number, inLine: boolean): Mesh {
  if (!inLine) return clusterMesh(1, devices);
  const shm = { name: "shm", bandwidth: 3e9, latency: 14e-6, hostCopies: true };
  return clusterMesh(1, devices, shm, shm);
}

const caseArb = fc.record({
  graphSeed: fc.integer({ min: 1, max: 1_000_000 }),
  family: fc.constantFrom<CaseFamily>("mlp", "seq", "conv", "dag", "replicas"),
  strategySeed: fc.integer({ min: 1, max: 1_000_000 }),
  startSeed: fc.integer({ min: 1, max: 1_000_000 }),
  devices: fc.integer({ min: 1, max: 4 }),
  inLine: fc.boolean(),
});

describe("the simulator moves what the lowered plan moves", () => {
  it("random graphs × random strategies, built in one go and reached by one-op changes", () => {
    let moved = 0;
    assertProperty(
      fc.property(caseArb, (a) => {
        const { graph, strategy } = caseOf(a.graphSeed, a.family, a.strategySeed, a.devices);
        const where = () => describeCase({ graph, strategy, devices: a.devices });
        const plan = planMovements(lower(graph, strategy, meshOf(a.devices), { seed: 1, optimizer: SGD }));
        moved += plan.moves.length + plan.allReduces.length;
        const mesh = meshFor(a.devices, a.inLine);
        const costs = new CostModel(graph, mesh);
        const full = new TaskGraphBuilder(graph, mesh, costs);
        full.buildAll(strategy);
        expect(simMovements(full), where()).toEqual(plan);
        // From another strategy, op by op (in a random order) to this one.
        const delta = new TaskGraphBuilder(graph, mesh, costs);
        delta.buildAll(randomStrategy(graph, a.startSeed, a.devices));
        const r = rng(a.startSeed);
        const names = graph.topoOrder().map((o) => o.name);
        for (let i = names.length - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [names[i], names[j]] = [names[j], names[i]];
        }
        for (const name of names) delta.setOp(name, strategy.ops[name], r() < 0.5);
        delta.checkOrder();
        expect(simMovements(delta), where()).toEqual(plan);
      }),
      200,
    );
    expect(moved).toBeGreaterThan(0);
  });
});
