// Symmetric devices: on a regular mesh (every group at a depth has the same fan-out, link
// and device figures), shifting a set of devices by a whole number of the root's children
// (nodes of a two-level cluster, racks of a three-level one) maps every group it touches
// onto a group of the same shape, so collectives and transfers among the shifted devices
// cost what they cost among the originals. The hierarchical simulator prices one stage,
// boundary or data-parallel group per class of such shifts instead of every copy.

import type { Mesh, MeshGroup } from "../../core/mesh.js";

/** Devices under one child of the root when the mesh is regular (see the header), else 0. */
export function translationPeriod(mesh: Mesh): number {
  const signature = new Map<number, string>();
  let regular = true;
  const visit = (g: MeshGroup, depth: number): number => {
    const l = g.link ? `${g.link.name}|${g.link.bandwidth}|${g.link.latency}|${g.link.hostCopies ? 1 : 0}` : "";
    const specs = g.devices.map((d) => {
      const s = mesh.devices[d].spec;
      return `${s.kind}|${JSON.stringify(s.peakFlops)}|${s.peakTf32Flops ?? ""}|${s.memoryBytes}|${s.memoryBandwidth}|${s.launchOverhead}`;
    });
    const sig = `${l}/${g.children.length}/${specs.join(",")}`;
    const before = signature.get(depth);
    if (before === undefined) signature.set(depth, sig);
    else if (before !== sig) regular = false;
    let n = g.devices.length;
    for (const c of g.children) n += visit(c, depth + 1);
    return n;
  };
  visit(mesh.root, 0);
  if (!regular || mesh.root.children.length < 2 || mesh.root.devices.length > 0) return 0;
  // Devices are numbered depth-first (src/core/mesh.ts), so each root child holds a contiguous block.
  const first = mesh.root.children[0];
  const count = (g: MeshGroup): number => g.devices.length + g.children.reduce((n, c) => n + count(c), 0);
  return count(first);
}
