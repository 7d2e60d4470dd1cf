// Turns a validated, compact mesh description (a group with counted devices and counted
// sub-groups) into a Mesh, numbering devices depth-first in declaration order. Shared by the
// built-in meshes and the .par mesh builder so both number devices the same way.

import type { DeviceSpec, LinkSpec, Mesh, MeshDevice, MeshGroup } from "./mesh.js";

export type GroupItem = { device: DeviceSpec; count: number } | { group: GroupTemplate; count: number };

export interface GroupTemplate {
  label: string;
  link?: LinkSpec;
  items: GroupItem[];
}

/** Devices a template expands to (counts multiply down the tree). */
export function countDevices(template: GroupTemplate): number {
  let n = 0;
  for (const item of template.items) n += item.count * ("device" in item ? 1 : countDevices(item.group));
  return n;
}

export function assembleMesh(name: string, root: GroupTemplate, source?: string): Mesh {
  const devices: MeshDevice[] = [];
  const build = (t: GroupTemplate, index: number, path: number[]): MeshGroup => {
    const group: MeshGroup = { label: t.label, index, children: [], devices: [] };
    if (t.link) group.link = { ...t.link };
    for (const item of t.items) {
      for (let i = 0; i < item.count; i++) {
        if ("device" in item) {
          const d = devices.length;
          // Each device gets its own spec object: a later per-device edit must not alias.
          devices.push({ index: d, spec: { ...item.device, peakFlops: { ...item.device.peakFlops } }, path: [...path] });
          group.devices.push(d);
        } else {
          const child = group.children.length;
          group.children.push(build(item.group, child, [...path, child]));
        }
      }
    }
    return group;
  };
  const mesh: Mesh = { name, devices, root: build(root, 0, []) };
  if (source !== undefined) mesh.source = source;
  return mesh;
}
