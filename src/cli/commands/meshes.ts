// `par meshes [NAME] [--json]`: the built-in meshes with their devices, levels and links;
// with NAME, one mesh in detail, including the route from device 0 to the farthest device.

import { builtinMesh, builtinMeshNames, describeMesh, type MeshSummary } from "../../core/builtin-meshes.js";
import { didYouMean } from "../../core/diagnostics.js";
import type { LinkSpec, Mesh, Route } from "../../core/mesh.js";
import { groupAt, routeTable } from "../../core/routes.js";
import { formatBandwidth, formatBytes, formatFlops, formatSeconds } from "../../core/units.js";
import { UsageError } from "../args.js";
import { JSON_FLAG, type Command, type CommandContext } from "../command.js";

function linkText(l: LinkSpec): string {
  return `${l.name} ${formatBandwidth(l.bandwidth)}, ${formatSeconds(l.latency)}`;
}

/** "cluster of 4 (infiniband 12.5 GB/s, 5 us) > node of 4 (nvlink 20 GB/s, 2 us)". */
function levelsText(s: MeshSummary): string {
  return s.levels
    .map((l) => `${l.labels.join("/")} of ${l.members.join("/")}${l.links.length ? ` (${l.links.map(linkText).join("; ")})` : ""}`)
    .join(" > ");
}

function halfPeak(s: MeshSummary): number {
  return Math.max(s.peakFlops.f16 ?? 0, s.peakFlops.bf16 ?? 0);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ")).join("\n") + "\n";
}

function listText(summaries: MeshSummary[]): string {
  const rows = [["NAME", "DEVICES", "KIND", "PEAK f32", "PEAK f16", "MEMORY", "LEVELS"]];
  for (const s of summaries) {
    rows.push([
      s.name,
      String(s.devices),
      s.kinds.map((k) => k.kind).join(", "),
      formatFlops(s.peakFlops.f32 ?? 0),
      formatFlops(halfPeak(s)),
      formatBytes(s.memoryBytes),
      levelsText(s),
    ]);
  }
  return table(rows);
}

/** The device farthest from device 0: highest latency, then lowest bandwidth, then highest index. */
export function farthestFrom0(mesh: Mesh): { to: number; route: Route } {
  const t = routeTable(mesh);
  let best = 0;
  for (let i = 1; i < mesh.devices.length; i++) {
    const r = t.get(0, i);
    const b = t.get(0, best);
    if (r.latency > b.latency || (r.latency === b.latency && r.bandwidth <= b.bandwidth)) best = i;
  }
  return { to: best, route: t.get(0, best) };
}

function hopText(mesh: Mesh, group: number[], link: LinkSpec): string {
  const g = groupAt(mesh, group);
  const where = group.length === 0 ? (g?.label ?? "mesh") : `${g?.label ?? "group"} ${group.join(".")}`;
  return `${link.name} (${where})`;
}

function detailText(mesh: Mesh): string {
  const s = describeMesh(mesh);
  const lines = [`mesh ${s.name}: ${s.devices} device${s.devices === 1 ? "" : "s"}`];
  if (s.source) lines.push(`  source: ${s.source}`);
  lines.push("devices:");
  for (const k of s.kinds) {
    const spec = mesh.devices.find((d) => d.spec.kind === k.kind)!.spec;
    const peaks = Object.entries(spec.peakFlops).map(([dt, f]) => `${dt} ${formatFlops(f)}`).join(", ");
    lines.push(`  ${k.count} × ${k.kind}: ${peaks}; ${formatBytes(spec.memoryBytes)} at ${formatBandwidth(spec.memoryBandwidth)}; launch ${formatSeconds(spec.launchOverhead)}`);
    lines.push(`    source: ${spec.source}`);
  }
  lines.push("levels:");
  for (const l of s.levels) {
    const link = l.links.length ? l.links.map(linkText).join("; ") : "no link";
    lines.push(`  ${l.depth}: ${l.groups} × ${l.labels.join("/")} of ${l.members.join("/")} members, ${link}`);
  }
  lines.push(`total: ${formatFlops(s.peakFlops.f32 ?? 0)} f32, ${formatFlops(halfPeak(s))} f16/bf16, ${formatBytes(s.memoryBytes)}`);
  const { to, route } = farthestFrom0(mesh);
  if (to === 0) lines.push("route: a single device, no transfers");
  else {
    const hops = route.hops.map((h) => hopText(mesh, h.group, h.link)).join(" → ");
    lines.push(`route 0 → ${to}: ${hops}; bottleneck ${formatBandwidth(route.bandwidth)}, latency ${formatSeconds(route.latency)}`);
  }
  return lines.join("\n") + "\n";
}

function detailJson(mesh: Mesh): unknown {
  const { to, route } = farthestFrom0(mesh);
  const kinds = [...new Set(mesh.devices.map((d) => d.spec.kind))];
  return {
    ...describeMesh(mesh),
    deviceSpecs: kinds.map((k) => mesh.devices.find((d) => d.spec.kind === k)!.spec),
    // JSON has no Infinity: a device's route to itself has bandwidth null.
    farthestRoute: { from: 0, to, hops: route.hops, bandwidth: Number.isFinite(route.bandwidth) ? route.bandwidth : null, latency: route.latency },
  };
}

export const meshesCommand: Command = {
  name: "meshes",
  summary: "list the built-in device meshes (devices, links, peak FLOP/s and memory)",
  usage: "[NAME] [--json]",
  flags: [JSON_FLAG],
  details: "Examples:\n  par meshes\n  par meshes p100x16\n  par meshes h100x64 --json",
  run(ctx: CommandContext): number {
    const { positionals, flags } = ctx.args;
    if (positionals.length > 1) throw new UsageError(`expected at most one mesh name, got ${positionals.length}`);
    const asJson = flags.json === true;
    const name = positionals[0];
    if (name === undefined) {
      const summaries = builtinMeshNames().map((n) => describeMesh(builtinMesh(n)!));
      ctx.io.out(asJson ? JSON.stringify({ meshes: summaries }, null, 2) + "\n" : listText(summaries));
      return 0;
    }
    const mesh = builtinMesh(name);
    if (!mesh) {
      throw new UsageError(`no built-in mesh \`${name}\``, didYouMean(name, builtinMeshNames()) ?? `built-in meshes: ${builtinMeshNames().join(", ")}`);
    }
    ctx.io.out(asJson ? JSON.stringify({ mesh: detailJson(mesh) }, null, 2) + "\n" : detailText(mesh));
    return 0;
  },
};
