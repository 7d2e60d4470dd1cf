// A mesh restricted to some of its devices, with the same link structure: the groups that
// hold none of them are dropped, every other group keeps its depth, label and link, so a
// route between two kept devices passes the same links as in the whole mesh (same
// bandwidth, same latency). Devices are renumbered 0..k−1 in ascending order of their
// index in the whole mesh. The hierarchical simulator runs one pipeline stage's op-level
// simulation on such a mesh (src/sim/scale/).

import type { Mesh, MeshDevice, MeshGroup } from "./mesh.js";

export interface SubMesh {
  mesh: Mesh;
  /** The whole mesh's index of each local device. */
  global: readonly number[];
}

/** `mesh` restricted to `devices` (distinct indices of `mesh`); throws on an index outside it. */
export function subMesh(mesh: Mesh, devices: readonly number[], name = `${mesh.name}[${devices.length}]`): SubMesh {
  const global = [...new Set(devices)].sort((a, b) => a - b);
  for (const d of global) {
    if (!(Number.isInteger(d) && d >= 0 && d < mesh.devices.length)) throw new RangeError(`mesh ${mesh.name} has no device ${d}`);
  }
  const local = new Map<number, number>();
  global.forEach((g, i) => local.set(g, i));
  // Kept groups by their path in the whole mesh, each with its new index among kept siblings.
  const kept = new Map<string, MeshGroup>();
  const root: MeshGroup = copyGroup(mesh.root, 0);
  kept.set("", root);
  const newPath = new Map<string, number[]>([["", []]]);
  const out: MeshDevice[] = [];
  for (const g of global) {
    const d = mesh.devices[g];
    let parent = root;
    let oldKey = "";
    let group = mesh.root;
    for (const i of d.path) {
      group = group.children[i];
      const key = oldKey === "" ? String(i) : `${oldKey}.${i}`;
      let child = kept.get(key);
      if (!child) {
        child = copyGroup(group, parent.children.length);
        parent.children.push(child);
        kept.set(key, child);
        newPath.set(key, [...newPath.get(oldKey)!, child.index]);
      }
      parent = child;
      oldKey = key;
    }
    const index = local.get(g)!;
    parent.devices.push(index);
    out.push({ index, spec: { ...d.spec, peakFlops: { ...d.spec.peakFlops } }, path: [...newPath.get(oldKey)!] });
  }
  const sub: Mesh = { name, devices: out, root };
  if (mesh.source !== undefined) sub.source = mesh.source;
  return { mesh: sub, global };
}

function copyGroup(g: MeshGroup, index: number): MeshGroup {
  const c: MeshGroup = { label: g.label, index, children: [], devices: [] };
  if (g.link) c.link = { ...g.link };
  return c;
}
