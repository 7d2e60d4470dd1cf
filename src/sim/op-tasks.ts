// One op's own tasks under a config, in its segments FO, JN, BO, AR and UP (segments.ts):
// the fwd and bwd task of every task of its layout, the partial sums of each output group
// (transfers to the owner and an add there), the gradient joins and the broadcasts to the
// partial tasks elsewhere, the weight-gradient all-reduces and the optimizer updates. Who
// holds what comes from the op's layout (src/layout); which groups are summed or take a
// gradient from src/layout/flow.ts, as the lowering decides.

import { dtypeBytes } from "../core/tensor.js";
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
}

/** Makes ops' own tasks; keeps the memos and scratch buffers of one builder. */
export class OpTasks {
  private readonly classOf: Int32Array;
  private readonly costMemo = new Map<number, { forward: number; backward: number }>();
  /** Per (task, output): where a partial task's output gradient comes from (−1: its consumers). */
  private gradSrc = new Int32Array(256);
  private readonly scratch: number[] = [];
  private readonly arScratch: number[] = [];
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
    for (let d = 0; d < n; d++) this.classOf[d] = costs.computeClass ? costs.computeClass(d) : d;
    this.bcastTo = new Int32Array(n);
    this.bcastMark = new Int32Array(n);
  }

  /** Fills op `info`'s segments FO, JN, BO, AR, UP (each in one go) for config `cfg` with layout `L`. */
  build(info: OpInfo, cfg: OpConfig, L: OpLayout): OpBlock {
    const rank = info.rank;
    const op = info.node;
    const s = this.store;
    const devices = cfg.devices;
    const nd = this.links.deviceCount;
    const count = L.count;
    const nOut = op.outputs.length;
    const fwd = new Int32Array(count);
    const bwd = new Int32Array(count);
    const holderSrc: Int32Array[] = [];
    const holderDev: Int32Array[] = [];
    const gradTarget: Int32Array[] = [];
    for (let o = 0; o < nOut; o++) {
      const nG = L.groups[o].length;
      holderSrc.push(new Int32Array(nG));
      holderDev.push(new Int32Array(nG));
      gradTarget.push(new Int32Array(nG).fill(-1));
    }
    if (this.gradSrc.length < count * nOut) this.gradSrc = new Int32Array(2 * count * nOut);
    const gradSrc = this.gradSrc;
    gradSrc.fill(-1, 0, count * nOut);

    // FO(r): fwd tasks, then per output group its partial-sum transfers and add.
    s.openSegment(this.seg.fo[rank]);
    const costMemo = this.costMemo;
    costMemo.clear();
    for (let t = 0; t < count; t++) {
      const dev = devices[t];
      const ck = L.extentOf[t] * nd + this.classOf[dev];
      let c = costMemo.get(ck);
      if (!c) costMemo.set(ck, (c = this.costs.compute(op, L.extents[L.extentOf[t]], dev)));
      fwd[t] = s.add(KIND_FWD, dev, c.forward, rank, t, dev, dev, 0);
    }
    const xs = this.scratch;
    for (let o = 0; o < nOut; o++) {
      const elem = dtypeBytes(op.sig.outputs[o].dtype);
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
        xs.length = 0;
        for (const p of partials) {
          const pdev = devices[p];
          if (pdev === odev) continue;
          const x = s.add(KIND_XFER, this.links.transfer(pdev, odev), this.costs.transfer(bytes, pdev, odev), rank, g * nOut + o, pdev, odev, bytes);
          s.pred(x, fwd[p]);
          xs.push(x);
        }
        const add = s.add(KIND_PSUM, odev, this.costs.partialSum(bytes, partials.length, odev), rank, g, odev, odev, bytes);
        for (const p of partials) if (devices[p] === odev) s.pred(add, fwd[p]);
        for (const x of xs) s.pred(add, x);
        holderSrc[o][g] = add;
      }
    }
    s.closeSegment();

    // JN(r): per partial-summed output group its gradient join (on no resource).
    s.openSegment(this.seg.jn[rank]);
    for (let o = 0; o < nOut && info.gathersGradient; o++) {
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
      const elem = dtypeBytes(op.sig.outputs[o].dtype);
      const groups = L.groups[o];
      for (let g = 0; g < groups.length; g++) {
        const { owner, partials } = groups[g];
        if (partials.length === 1) continue;
        const odev = devices[owner];
        const bytes = groups[g].volume * elem;
        const join = gradTarget[o][g];
        const stamp = ++this.stamp;
        for (const p of partials) {
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
      const c = costMemo.get(L.extentOf[t] * nd + this.classOf[dev])!;
      const b = s.add(KIND_BWD, dev, c.backward, rank, t, dev, dev, 0);
      s.pred(b, fwd[t]);
      for (let o = 0; o < nOut; o++) if (gradSrc[t * nOut + o] >= 0) s.pred(b, gradSrc[t * nOut + o]);
      bwd[t] = b;
    }
    s.closeSegment();
    for (let o = 0; o < nOut; o++) {
      const gt = gradTarget[o];
      for (let g = 0; g < gt.length; g++) if (gt[g] === -2) gt[g] = bwd[L.groups[o][g].owner];
    }

    // AR(r) and UP(r): weight-gradient sync and optimizer updates, per weight shard.
    const arOf = this.arScratch;
    arOf.length = 0;
    s.openSegment(this.seg.ar[rank]);
    for (let p = 0; p < L.shards.length; p++) {
      const elem = dtypeBytes(info.paramDtypes[p]);
      for (const shard of L.shards[p]) {
        const devs = shardGroup(shard, devices);
        if (devs.length < 2) {
          arOf.push(-1);
          continue;
        }
        const bytes = shard.volume * elem;
        const time = this.allReduce(bytes, devs);
        if (this.inLineCollectives) {
          // Every member arrives after its own replicas' bwd; every member's share waits
          // for all arrivals (so, through them, for every replica's gradient).
          const arrive = s.top;
          for (const d of devs) {
            // A task's predecessors are appended right after it (own ranges are contiguous).
            const a = s.add(KIND_ALLREDUCE, d, 0, rank, p, d, ARRIVE, 0);
            for (const t of shard.tasks) if (devices[t] === d) s.pred(a, bwd[t]);
          }
          const first = s.top;
          const share = (2 * (devs.length - 1) * bytes) / devs.length;
          for (const d of devs) {
            const ar = s.add(KIND_ALLREDUCE, d, time, rank, p, d, -1, share);
            for (let m = 0; m < devs.length; m++) s.pred(ar, arrive + m);
          }
          arOf.push(first);
          continue;
        }
        const ar = s.add(KIND_ALLREDUCE, this.arRes, time, rank, p, -1, -1, 2 * (devs.length - 1) * bytes);
        for (const t of shard.tasks) s.pred(ar, bwd[t]);
        arOf.push(ar);
      }
    }
    s.closeSegment();
    s.openSegment(this.seg.up[rank]);
    let k = 0;
    for (let p = 0; p < L.shards.length; p++) {
      const elem = dtypeBytes(info.paramDtypes[p]);
      for (const shard of L.shards[p]) {
        const bytes = shard.volume * elem;
        const ar = arOf[k++];
        if (ar >= 0) {
          const devs = shardGroup(shard, devices);
          for (let m = 0; m < devs.length; m++) {
            const d = devs[m];
            const u = s.add(KIND_UPDATE, d, this.costs.update(bytes, d), rank, p, d, d, bytes);
            // In line, each member updates after its own share (member m's is first + m).
            s.pred(u, this.inLineCollectives ? ar + m : ar);
          }
        } else {
          const d = devices[shard.tasks[0]];
          const u = s.add(KIND_UPDATE, d, this.costs.update(bytes, d), rank, p, d, d, bytes);
          for (const t of shard.tasks) s.pred(u, bwd[t]);
        }
      }
    }
    s.closeSegment();
    return { cfg, layout: L, fwd, bwd, holderSrc, holderDev, gradTarget };
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
