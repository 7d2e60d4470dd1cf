// Many machines, for real: two network namespaces joined by a veth pair stand for two
// nodes. Each starts 2 ranks of an exported 4-rank job with torchrun (static rendezvous at
// node 0's address, Gloo bound to the node's veth by GLOO_SOCKET_IFNAME), so every message
// between the nodes crosses a network interface. Rank 0's losses equal the single-node
// run's. Needs root and iproute2 (CI runs as root); the namespaces are always deleted.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import type { Strategy } from "../../../src/ir/strategy.js";
import { exportTorchJob } from "../../../src/engines/torch/export.js";
import { runPlanTorch } from "../../../src/engines/torch/run.js";
import { mlp, plans } from "../../runtime/graphs.js";
import { describeTorch, TORCH } from "./support.js";

const canNetns = process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0;
// CI runs as root with iproute2 installed (.ci/run): there, a missing `ip netns` is a failure.
const required = process.env.PAR_REQUIRE_TORCH === "1";
if (!canNetns && !required) console.warn("multi-node test skipped: it needs root and iproute2 (ip netns)");

function ip(...args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** Two namespaces joined by a veth pair, addresses 10.231.x.1 and .2; returns a cleanup. */
function twoNodes(tag: string): { ns: [string, string]; ifs: [string, string]; addr: [string, string]; cleanup: () => void } {
  const ns: [string, string] = [`par-${tag}-a`, `par-${tag}-b`];
  const ifs: [string, string] = [`pv${tag}a`, `pv${tag}b`];
  const subnet = 10 + (Number(tag) % 200);
  const addr: [string, string] = [`10.231.${subnet}.1`, `10.231.${subnet}.2`];
  const cleanup = () => {
    for (const n of ns) spawnSync("ip", ["netns", "del", n]);
    spawnSync("ip", ["link", "del", ifs[0]]);
  };
  cleanup();
  try {
    for (const n of ns) ip("netns", "add", n);
    ip("link", "add", ifs[0], "type", "veth", "peer", "name", ifs[1]);
    for (let i = 0; i < 2; i++) {
      ip("link", "set", ifs[i], "netns", ns[i]);
      ip("-n", ns[i], "addr", "add", `${addr[i]}/24`, "dev", ifs[i]);
      ip("-n", ns[i], "link", "set", ifs[i], "up");
      ip("-n", ns[i], "link", "set", "lo", "up");
    }
  } catch (e) {
    cleanup();
    throw e;
  }
  return { ns, ifs, addr, cleanup };
}

/** mlp on 4 devices: fc1 split by channel across all four, the rest data parallel (messages both ways between the nodes). */
function fourDeviceStrategy(): Strategy {
  return {
    name: "mixed4",
    model: "mlp",
    mesh: "cpu4",
    ops: {
      fc1: { degrees: [1, 4, 1], devices: [0, 1, 2, 3] },
      act: { degrees: [4, 1], devices: [3, 2, 1, 0] },
      fc2: { degrees: [2, 1, 2], devices: [0, 2, 1, 3] },
      loss: { degrees: [4], devices: [0, 1, 2, 3] },
    },
  };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (status) => {
      clearTimeout(timer);
      res({ status, stdout, stderr });
    });
  });
}

describeTorch("two nodes × two ranks over a network", () => {
  it.skipIf(!canNetns && !required)("losses equal the single-node run's", async () => {
    if (!canNetns) throw new Error("PAR_REQUIRE_TORCH=1 but `ip netns` is unavailable: run as root with iproute2 installed");
    const plan = plans(mlp(8, 6, 8, 3), fourDeviceStrategy(), 4).plan;
    const dir = mkdtempSync(join(tmpdir(), "par-torch-nodes-"));
    const nodes = twoNodes(String(process.pid % 10000));
    try {
      const job = join(dir, "job");
      exportTorchJob(plan, job, { steps: 4, nodes: 2 });
      const port = String(29600 + (process.pid % 300));
      const starts = [0, 1].map((node) =>
        run("ip", ["netns", "exec", nodes.ns[node], "env", `GLOO_SOCKET_IFNAME=${nodes.ifs[node]}`, "torchrun",
          "--nnodes", "2", "--nproc_per_node", "2", "--node_rank", String(node), "--master_addr", nodes.addr[0], "--master_port", port,
          "--redirects", "2", "--tee", "2", join(job, "train.py"), "--json", "--steps", "4", "--timeout", "60"], { PATH: process.env.PATH ?? "", HOME: "/tmp" }, 240_000),
      );
      const [first, second] = await Promise.all(starts);
      expect(second.status, second.stderr.slice(-2000)).toBe(0);
      expect(first.status, first.stderr.slice(-2000)).toBe(0);
      const losses = first.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { event: string; loss: number }).filter((r) => r.event === "step").map((r) => r.loss);
      const single = await runPlanTorch(plan, { steps: 4, python: TORCH! });
      expect(losses).toHaveLength(4);
      for (let s = 0; s < 4; s++) expect(Math.abs(losses[s] - single.losses[s])).toBeLessThanOrEqual(1e-6 * Math.abs(single.losses[s]));
    } finally {
      nodes.cleanup();
      rmSync(dir, { recursive: true, force: true });
      expect(spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout).not.toContain(nodes.ns[0]);
    }
  }, 300_000);
});
