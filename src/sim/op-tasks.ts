// One op's own tasks under a config, in its segments FO, JN, BO, AR and UP (segments.ts):
// the fwd and bwd task of every task of its layout, the partial sums of each output group
// (transfers to the owner and an add there), the gradient joins and the broadcasts to the
// partial tasks elsewhere, the weight-gradient all-reduces and the optimizer updates. Who
// holds what comes from the op's layout (src/layout); which groups are summed or take a
// gradient from src/layout/flow.ts, as the lowering decides.

import type { OpConfig } from "../ir/strategy.js";
import type { OpLayout } from "../layout/op-layout.js";
import { shardGroup } from "../layout/placement.js";
import type { SimCosts } from "./costs.js";
import type { Links } from "./links.js";
import type { OpInfo } from "./op-infos.js";
import type { SegmentMap } from "./segments.js";
import { ARRIVE, KIND_ALLREDUCE, KIND_BWD, KIND_FWD, KIND_JOIN, KIND_PSUM, KIND_UPDATE, KIND_XFER } from "./task-kinds.js";
import type { TaskStore } from "./task-store.js";

/** Per op: its config and layout, and the tasks other ops' edges attach to. */
export interface OpBlock {
  cfg: OpConfig;
  layout: OpLayout;
  fwd: Int32Array;
  bwd: Int32Array;
  /** Per output, per group (layout.groups): the task whose end makes the region available. */
  holderSrc: Int32Array[];
  holderDev: Int32Array[];
  /**
   * Per output, per group: the task that the region's gradient contributions feed (the
   * owner's bwd, or the join ahead of the broadcasts to partial tasks); −1: none (a loss).
   */
  gradTarget: Int32Array[];
  /**
   * Per weight shard (the params' shards in order): its all-reduce group (shardGroup),
   * which a rebuild under the same config and layout keeps. (Costs are asked again on
   * every build: a SimCosts may answer differently from one simulation to the next, as
   * interference draws do.)
   */
  shardGroups: number[][];
  /** Forward and backward seconds of the op's tasks by (extent index × compute classes + class). */
  costFwd: Float64Array;
  costBwd: Float64Array;
}

/** What the builder reads of a layout's output groups, as flat arrays (kept per layout). */
interface GroupFacts {
  /** Per output, per group: its owner task. */
  owners: Int32Array[];
  /** Per output: whether some group has partials beyond its owner. */
  partials: boolean[];
}

const groupFacts = new WeakMap<OpLayout, GroupFacts>();

function groupFactsOf(L: OpLayout): GroupFacts {
  let f = groupFacts.get(L);
  if (!f) {
    f = {
      owners: L.groups.map((gs) => Int32Array.from(gs, (g) => g.owner)),
      partials: L.groups.map((gs) => gs.some((g) => g.partials.length > 1)),
    };
    groupFacts.set(L, f);
  }
  return f;
}

/** A block with arrays sized for layout `L` (its fields other than the arrays are set by `build`). */
function newBlock(L: OpLayout, nOut: number, classCount: number): OpBlock {
  const holderSrc: Int32Array[] = [];
  const holderDev: Int32Array[] = [];
  const gradTarget: Int32Array[] = [];
  for (let o = 0; o < nOut; o++) {
    const nG = L.groups[o].length;
    holderSrc.push(new Int32Array(nG));
    holderDev.push(new Int32Array(nG));
    gradTarget.push(new Int32Array(nG));
  }
  const n = L.extents.length * classCount;
  return {
    cfg: undefined!, layout: L, fwd: new Int32Array(L.count), bwd: new Int32Array(L.count), holderSrc, holderDev, gradTarget,
    shardGroups: [], costFwd: new Float64Array(n), costBwd: new Float64Array(n), 
  };
}

/** Whether `b`'s arrays have the sizes layout `L` needs (every entry is rewritten by `build`). */
function fits(b: OpBlock, L: OpLayout, nOut: number, classCount: number): boolean {
  if (b.fwd.length !== L.count || b.holderSrc.length !== nOut || b.costFwd.length < L.extents.length * classCount) return false;
  for (let o = 0; o < nOut; o++) if (b.holderSrc[o].length !== L.groups[o].length) return false;
  return true;
}

/** Makes ops' own tasks; keeps the memos and scratch buffers of one builder. */
export class OpTasks {
  /** Per device: its compute class (SimCosts.computeClass), numbered densely from 0. */
  private readonly classOf: Int32Array;
  private classCount = 1;
  /** Which (extent index × classCount + class) the current op's costs are known for: those = `costStamp`. */
  private costMark = new Int32Array(64);
  private costStamp = 0;
  /** Per (task, output): where a partial task's output gradient comes from (−1: its consumers). */
  private gradSrc = new Int32Array(256);
  /** Per weight shard of the current op: the first task of its all-reduce (−1: none). */
  private arOf = new Int32Array(64);
  /** Per device: the gradient broadcast of the current group to it, valid where `bcastMark` = `stamp`. */
  private readonly bcastTo: Int32Array;
  private readonly bcastMark: Int32Array;
  private stamp = 0;
  /** The last all-reduce group's devices, queue and times by bytes (data parallelism repeats one group). */
  private arDevs: number[] = [];
  private arRes = -1;
  private readonly arTimes = new Map<number, number>();

  constructor(
    private readonly store: TaskStore,
    private readonly links: Links,
    private readonly costs: SimCosts,
    private readonly seg: SegmentMap,
    /** All-reduces run in line on their members' compute queues (collectivesInLine). */
    private readonly inLineCollectives: boolean,
  ) {
    const n = links.deviceCount;
    this.classOf = new Int32Array(n);
    this.restart();
    this.bcastTo = new Int32Array(n);
    this.bcastMark = new Int32Array(n);
  }

  /**
   * Forgets what was asked of the costs (a rebuild asks again, as a new builder would: the
   * costs may answer differently from one simulation to the next).
   */
  restart(): void {
    const costs = this.costs;
    const dense = new Map<number, number>();
    for (let d = 0; d < this.classOf.length; d++) {
      const c = costs.computeClass ? costs.computeClass(d) : d;
      let k = dense.get(c);
      if (k === undefined) dense.set(c, (k = dense.size));
      this.classOf[d] = k;
    }
    this.classCount = Math.max(1, dense.size);
    this.arDevs = [];
    this.arRes = -1;
    this.arTimes.clear();
  }

  /**
   * Fills op `info`'s segments FO, JN, BO, AR, UP (each in one go) for config `cfg` with
   * layout `L`. `reuse`: a block of the op that nothing refers to any more (a rebuild of
   * the whole graph), whose arrays are refilled where their sizes fit.
   */
  build(info: OpInfo, cfg: OpConfig, L: OpLayout, reuse?: OpBlock): OpBlock {
    const rank = info.rank;
    const op = info.node;
    const s = this.store;
    const devices = cfg.devices;
    const count = L.count;
    const nOut = op.outputs.length;
    const nc = this.classCount;
    const block = reuse && fits(reuse, L, nOut, nc) ? reuse : newBlock(L, nOut, nc);
    // Same devices, same layout: the same holder devices and all-reduce groups as before.
    const unchanged = block === reuse && reuse.cfg === cfg && reuse.layout === L;
    block.cfg = cfg;
    block.layout = L;
    const { fwd, bwd, holderSrc, holderDev, gradTarget } = block;
    const facts = groupFactsOf(L);
    // Whether a task's output gradient may come from a join or a broadcast (else: its consumers).
    let broadcasts = false;
    for (let o = 0; o < nOut; o++) {
      gradTarget[o].fill(-1);
      broadcasts ||= facts.partials[o] && info.gathersGradient;
    }
    if (this.gradSrc.length < count * nOut) this.gradSrc = new Int32Array(2 * count * nOut);
    const gradSrc = this.gradSrc;
    if (broadcasts) gradSrc.fill(-1, 0, count * nOut);

    // FO(r): fwd tasks, then per output group its partial-sum transfers and add.
    s.openSegment(this.seg.fo[rank]);
    const { costFwd, costBwd } = block;
    const classOf = this.classOf;
    const extentOf = L.extentOf;
    {
      // `compute` once per (extent, class) the op's tasks have.
      const memoSize = L.extents.length * nc;
      if (this.costMark.length < memoSize) {
        this.costMark = new Int32Array(2 * memoSize);
        this.costStamp = 0;
      }
      if (++this.costStamp === 2 ** 31 - 1) {
        this.costMark.fill(0);
        this.costStamp = 1;
      }
      const costStamp = this.costStamp;
      const costMark = this.costMark;
      for (let t = 0; t < count; t++) {
        const dev = devices[t];
        const ck = extentOf[t] * nc + classOf[dev];
        if (costMark[ck] === costStamp) continue;
        const c = this.costs.compute(op, L.extents[extentOf[t]], dev);
        costFwd[ck] = c.forward;
        costBwd[ck] = c.backward;
        costMark[ck] = costStamp;
      }
    }
    for (let t = 0; t < count; t++) {
      const dev = devices[t];
      fwd[t] = s.add(KIND_FWD, dev, costFwd[extentOf[t] * nc + classOf[dev]], rank, t, dev, dev, 0);
    }
    for (let o = 0; o < nOut; o++) {
      const owners = facts.owners[o];
      if (!facts.partials[o] || !info.sumsPartials[o]) {
        // Every group's value is its owner's output (the devices and layout fix holderDev).
        const hs = holderSrc[o];
        for (let g = 0; g < owners.length; g++) hs[g] = fwd[owners[g]];
        if (!unchanged) {
          const hd = holderDev[o];
          for (let g = 0; g < owners.length; g++) hd[g] = devices[owners[g]];
        }
        continue;
      }
      const elem = info.outputBytes[o];
      const groups = L.groups[o];
      for (let g = 0; g < groups.length; g++) {
        const { owner, partials } = groups[g];
        const odev = devices[owner];
        holderDev[o][g] = odev;
        if (partials.length === 1 || !info.sumsPartials[o]) {
          holderSrc[o][g] = fwd[owner];
          continue;
        }
        const bytes = groups[g].volume * elem;
        // The transfers get consecutive ids: [x0, add).
        const x0 = s.top;
        for (let i = 0; i < partials.length; i++) {
          const p = partials[i];
          const pdev = devices[p];
          if (pdev === odev) continue;
          const x = s.add(KIND_XFER, this.links.transfer(pdev, odev), this.costs.transfer(bytes, pdev, odev), rank, g * nOut + o, pdev, odev, bytes);
          s.pred(x, fwd[p]);
        }
        const add = s.add(KIND_PSUM, odev, this.costs.partialSum(bytes, partials.length, odev), rank, g, odev, odev, bytes);
        for (let i = 0; i < partials.length; i++) if (devices[partials[i]] === odev) s.pred(add, fwd[partials[i]]);
        for (let x = x0; x < add; x++) s.pred(add, x);
        holderSrc[o][g] = add;
      }
    }
    s.closeSegment();

    // JN(r): per partial-summed output group its gradient join (on no resource).
    s.openSegment(this.seg.jn[rank]);
    for (let o = 0; o < nOut && info.gathersGradient; o++) {
      if (!facts.partials[o]) continue; // every group's target is its owner's bwd (below)
      const groups = L.groups[o];
      for (let g = 0; g < groups.length; g++) {
        if (groups[g].partials.length === 1) {
          gradTarget[o][g] = -2; // the owner's bwd, known below
          continue;
        }
        const odev = devices[groups[g].owner];
        gradTarget[o][g] = s.add(KIND_JOIN, this.links.none, 0, rank, g, odev, odev, 0);
      }
    }
    s.closeSegment();

    // BO(r): from each join, one broadcast per other device holding partials of the group
    // (they share it, as they share the lowering's `@b` buffer); then the bwd tasks.
    s.openSegment(this.seg.bo[rank]);
    for (let o = 0; o < nOut && info.gathersGradient; o++) {
      if (!facts.partials[o]) continue;
      const elem = info.outputBytes[o];
      const groups = L.groups[o];
      for (let g = 0; g < groups.length; g++) {
        const { owner, partials } = groups[g];
        if (partials.length === 1) continue;
        const odev = devices[owner];
        const bytes = groups[g].volume * elem;
        const join = gradTarget[o][g];
        const stamp = ++this.stamp;
        for (let i = 0; i < partials.length; i++) {
          const p = partials[i];
          const pdev = devices[p];
          if (pdev === odev) {
            gradSrc[p * nOut + o] = join;
            continue;
          }
          if (this.bcastMark[pdev] === stamp) {
            gradSrc[p * nOut + o] = this.bcastTo[pdev];
            continue;
          }
          const b = s.add(KIND_XFER, this.links.transfer(odev, pdev), this.costs.transfer(bytes, odev, pdev), rank, g * nOut + o, odev, pdev, bytes);
          s.pred(b, join);
          this.bcastMark[pdev] = stamp;
          this.bcastTo[pdev] = b;
          gradSrc[p * nOut + o] = b;
        }
      }
    }
    for (let t = 0; t < count; t++) {
      const dev = devices[t];
      const b = s.add(KIND_BWD, dev, costBwd[extentOf[t] * nc + classOf[dev]], rank, t, dev, dev, 0);
      s.pred(b, fwd[t]);
      if (broadcasts) for (let o = 0; o < nOut; o++) if (gradSrc[t * nOut + o] >= 0) s.pred(b, gradSrc[t * nOut + o]);
      bwd[t] = b;
    }
    s.closeSegment();
    for (let o = 0; o < nOut && info.gathersGradient; o++) {
      const gt = gradTarget[o];
      const owners = facts.owners[o];
      if (!facts.partials[o]) for (let g = 0; g < gt.length; g++) gt[g] = bwd[owners[g]];
      else for (let g = 0; g < gt.length; g++) if (gt[g] === -2) gt[g] = bwd[owners[g]];
    }

    // AR(r) and UP(r): weight-gradient sync and optimizer updates, per weight shard.
    // Per shard (params' shards in order): its all-reduce's first task (−1: none).
    let nShards = 0;
    for (let p = 0; p < L.shards.length; p++) nShards += L.shards[p].length;
    if (this.arOf.length < nShards) this.arOf = new Int32Array(2 * nShards);
    const arOf = this.arOf;
    // The groups depend on the devices and the layout only: a rebuild's unchanged op keeps them.
    const groups = block.shardGroups;
    if (!unchanged) {
      groups.length = nShards;
      for (let p = 0, k = 0; p < L.shards.length; p++) for (const shard of L.shards[p]) groups[k++] = shardGroup(shard, devices);
    }
    s.openSegment(this.seg.ar[rank]);
    for (let p = 0, k = 0; p < L.shards.length; p++) {
      const elem = info.paramBytes[p];
      const shards = L.shards[p];
      for (let i = 0; i < shards.length; i++, k++) {
        const shard = shards[i];
        const devs = groups[k];
        if (devs.length < 2) {
          arOf[k] = -1;
          continue;
        }
        const bytes = shard.volume * elem;
        const time = this.allReduce(bytes, devs);
        if (this.inLineCollectives) {
          // Every member arrives after its own replicas' bwd; every member's share waits
          // for all arrivals (so, through them, for every replica's gradient).
          const arrive = s.top;
          const tasks = shard.tasks;
          for (let m = 0; m < devs.length; m++) {
            const d = devs[m];
            // A task's predecessors are appended right after it (own ranges are contiguous).
            const a = s.add(KIND_ALLREDUCE, d, 0, rank, p, d, ARRIVE, 0);
            for (let i = 0; i < tasks.length; i++) if (devices[tasks[i]] === d) s.pred(a, bwd[tasks[i]]);
          }
          const first = s.top;
          const share = (2 * (devs.length - 1) * bytes) / devs.length;
          for (let m = 0; m < devs.length; m++) {
            const d = devs[m];
            const ar = s.add(KIND_ALLREDUCE, d, time, rank, p, d, -1, share);
            for (let a = 0; a < devs.length; a++) s.pred(ar, arrive + a);
          }
          arOf[k] = first;
          continue;
        }
        const ar = s.add(KIND_ALLREDUCE, this.arRes, time, rank, p, -1, -1, 2 * (devs.length - 1) * bytes);
        const tasks = shard.tasks;
        for (let i = 0; i < tasks.length; i++) s.pred(ar, bwd[tasks[i]]);
        arOf[k] = ar;
      }
    }
    s.closeSegment();
    s.openSegment(this.seg.up[rank]);
    for (let p = 0, k = 0; p < L.shards.length; p++) {
      const elem = info.paramBytes[p];
      const shards = L.shards[p];
      for (let i = 0; i < shards.length; i++) {
        const shard = shards[i];
        const bytes = shard.volume * elem;
        const devs = groups[k];
        const ar = arOf[k++];
        if (ar >= 0) {
          for (let m = 0; m < devs.length; m++) {
            const d = devs[m];
            const task = s.add(KIND_UPDATE, d, this.costs.update(bytes, d), rank, p, d, d, bytes);
            // In line, each member updates after its own share (member m's is first + m).
            s.pred(task, this.inLineCollectives ? ar + m : ar);
          }
        } else {
          const d = devices[shard.tasks[0]];
          const task = s.add(KIND_UPDATE, d, this.costs.update(bytes, d), rank, p, d, d, bytes);
          const tasks = shard.tasks;
          for (let t = 0; t < tasks.length; t++) s.pred(task, bwd[tasks[t]]);
        }
      }
    }
    s.closeSegment();
    return block;
  }

  /** Seconds of an all-reduce of `bytes` over `devs`; sets `arRes` to its queue (none when collectives run in line). */
  private allReduce(bytes: number, devs: number[]): number {
    const last = this.arDevs;
    let same = last.length === devs.length;
    for (let i = 0; same && i < devs.length; i++) same = last[i] === devs[i];
    if (!same) {
      this.arDevs = devs;
      this.arRes = this.inLineCollectives ? -1 : this.links.collective(devs);
      this.arTimes.clear();
    }
    let t = this.arTimes.get(bytes);
    if (t === undefined) this.arTimes.set(bytes, (t = this.costs.allReduce(bytes, devs)));
    return t;
  }
}
