// Replays a plan's programs abstractly (no data) to check that one step completes:
// every recv finds its send, every collective (all-reduce, reduce-scatter, all-gather)
// gathers its whole group, and no message is left unreceived. Sends never block (nor do
// releases), so a device stops only at a recv whose send has not happened or at a
// collective some member has not reached. Used by plan validation and the tests; the
// argument why lowering never deadlocks is in src/codegen/lower/builder.ts.

import { isCollective } from "./access.js";
import type { Plan } from "./plan.js";

/** undefined when every program runs to its end; otherwise what went wrong. */
export function checkSchedule(plan: Plan): string | undefined {
  const progs = plan.programs;
  const pc = progs.map(() => 0);
  const index = new Map(progs.map((p, i) => [p.device, i]));
  const sent = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (let i = 0; i < progs.length; i++) {
      const p = progs[i];
      while (pc[i] < p.instructions.length) {
        const ins = p.instructions[pc[i]];
        if (ins.kind === "send") {
          const k = `${p.device}>${ins.to}#${ins.tag}`;
          if (sent.has(k)) return `device ${p.device} sends ${ins.tag} to ${ins.to} twice`;
          sent.add(k);
        } else if (ins.kind === "recv") {
          const k = `${ins.from}>${p.device}#${ins.tag}`;
          if (!sent.has(k)) break;
          sent.delete(k);
        } else if (isCollective(ins)) {
          const members = ins.group.map((d) => index.get(d));
          if (members.some((m) => m === undefined)) return `${ins.kind} ${ins.tag} names a device without a program`;
          const ready = members.every((m) => {
            const x = progs[m!].instructions[pc[m!]];
            return x !== undefined && x.kind === ins.kind && x.tag === ins.tag;
          });
          if (!ready) break;
          for (const m of members) if (m !== i) pc[m!]++;
        }
        pc[i]++;
        progress = true;
      }
    }
  }
  const stuck = progs.map((p, i) => ({ p, i })).filter(({ p, i }) => pc[i] < p.instructions.length);
  if (stuck.length) {
    return `deadlock: ${stuck
      .map(({ p, i }) => {
        const ins = p.instructions[pc[i]];
        return `device ${p.device} waits at instruction ${pc[i]} (${ins.kind}${"tag" in ins ? ` ${ins.tag}` : ""})`;
      })
      .join("; ")}`;
  }
  if (sent.size) return `sent and never received: ${[...sent].sort().join(", ")}`;
  return undefined;
}
