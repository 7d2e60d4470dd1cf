import type { Mesh } from "../core/mesh.js";

/** Meshes up to this many devices keep a dense pair table (n² Int32 entries). */
const DENSE_PAIR_LIMIT = 1024;

/**
 * Link queues. Granularity (docs/simulator.md, "Link queues"):
 *  - two devices in the same lowest group (a node): one queue per ordered device pair, as
 *    NVLink/NVSwitch or shared memory give every pair its own full-duplex path;
 *  - devices in different groups: one queue per (sender's sub-group under the lowest common
 *    group): the sender side's uplink (a node's NIC); transfers leaving one node serialise;
 *  - collectives: one queue per lowest common group of the participants (NCCL runs a
 *    communicator's collectives in order on its own channels).
 * Resource ids 0..D−1 are the devices' compute queues, D is `none` (the joins', which the
 * sweep times without a resource); link queues follow, made on demand.
 */
export class Links {
  readonly deviceCount: number;
  /** The resource id of tasks that occupy none (joins). */
  readonly none: number;
  readonly names: string[] = [];
  /** Link class (e.g. "nvlink") per resource; "compute" for devices. */
  readonly classOf: string[] = [];
  private readonly byKey = new Map<string, number>();
  /** Queue per ordered device pair, by a·n + b: a dense table on small meshes, else filled on demand. */
  private readonly pair: Int32Array | undefined;
  private readonly pairMap: Map<number, number> | undefined;

  constructor(readonly mesh: Mesh) {
    const n = mesh.devices.length;
    this.deviceCount = n;
    for (let d = 0; d < n; d++) {
      this.names.push(`device ${d}`);
      this.classOf.push("compute");
    }
    this.none = n;
    this.names.push("(none)");
    this.classOf.push("none");
    // n² entries: 4 MiB at 1,024 devices, 64 MiB at 4,096; larger meshes use few of them.
    if (n <= DENSE_PAIR_LIMIT) this.pair = new Int32Array(n * n).fill(-1);
    else this.pairMap = new Map();
  }

  get count(): number {
    return this.names.length;
  }

  private resource(key: string, name: string, cls: string): number {
    let r = this.byKey.get(key);
    if (r === undefined) {
      r = this.names.length;
      this.byKey.set(key, r);
      this.names.push(name);
      this.classOf.push(cls);
    }
    return r;
  }

  private linkName(path: readonly number[]): string {
    let g = this.mesh.root;
    for (const i of path) g = g.children[i];
    return g.link?.name ?? "link";
  }

  /** The queue a transfer from device a to device b waits in. */
  transfer(a: number, b: number): number {
    const i = a * this.deviceCount + b;
    let r = this.pair ? this.pair[i] : (this.pairMap!.get(i) ?? -1);
    if (r >= 0) return r;
    const pa = this.mesh.devices[a].path;
    const pb = this.mesh.devices[b].path;
    let k = 0;
    while (k < pa.length && k < pb.length && pa[k] === pb[k]) k++;
    const cls = this.linkName(pa.slice(0, k));
    if (k === pa.length) r = this.resource(`p${a}>${b}`, `link ${a}→${b} (${cls})`, cls);
    else {
      const up = pa.slice(0, k + 1).join(".");
      r = this.resource(`o${up}`, `uplink g${up} (${cls})`, cls);
    }
    if (this.pair) this.pair[i] = r;
    else this.pairMap!.set(i, r);
    return r;
  }

  /** The queue an all-reduce among `devices` runs in. */
  collective(devices: readonly number[]): number {
    let common = this.mesh.devices[devices[0]].path;
    let k = common.length;
    for (const d of devices) {
      const p = this.mesh.devices[d].path;
      let j = 0;
      while (j < k && j < p.length && p[j] === common[j]) j++;
      k = j;
    }
    common = common.slice(0, k);
    const cls = this.linkName(common);
    const key = common.join(".");
    return this.resource(`c${key}`, `collectives g${key === "" ? "root" : key} (${cls})`, cls);
  }
}
