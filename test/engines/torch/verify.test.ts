// `verify` on the torch engine: a sharded plan against its single-device plan, both run on
// torch (with a server, and with one launch each), matches losses, last gradients and
// updated weights; a plan that computes something else is PAR8013 naming what diverges.
import { afterAll, beforeAll, expect, it } from "vitest";
import { TorchServer } from "../../../src/engines/torch/server.js";
import { verificationError, verifyPlanTorch } from "../../../src/engines/torch/verify.js";
import { mixedStrategy, mlp, plans } from "../../runtime/graphs.js";
import { describeTorch, TORCH } from "./support.js";

describeTorch("verify on the torch engine", () => {
  let server: TorchServer;
  beforeAll(async () => {
    server = await TorchServer.start(3, { python: TORCH! });
  }, 120_000);
  afterAll(async () => server?.close());
  const g = mlp(8, 6, 5, 3);

  it("a sharded plan computes what one device computes", async () => {
    const { plan, single } = plans(g, mixedStrategy(), 3, { kind: "momentum", learningRate: 0.05 });
    const viaServer = await verifyPlanTorch(plan, single, { steps: 3, server });
    expect(viaServer.ok).toBe(true);
    expect(viaServer.maxRelError).toBeLessThan(1e-5);
    expect(verificationError(viaServer)).toBeUndefined();
    const launched = await verifyPlanTorch(plan, single, { steps: 2, python: TORCH! });
    expect(launched.ok).toBe(true);
    expect(launched.backend).toBe("torch-gloo");
  }, 120_000);

  it("a plan that computes something else is PAR8013, naming the first divergence", async () => {
    const { plan, single } = plans(g, mixedStrategy(), 3);
    // Another seed: other initial weights and data, so the very first loss differs.
    const other = { ...plan, seed: plan.seed + 1 };
    const r = await verifyPlanTorch(other, single, { steps: 2, server });
    expect(r.ok).toBe(false);
    expect(r.firstMismatch).toMatchObject({ what: "loss", step: 0 });
    const e = verificationError(r)!;
    expect(e.diagnostics[0].code).toBe("PAR8013");
    expect(e.diagnostics[0].message).toMatch(/^the loss of step 0 differs from the single-device reference/);
    // A wrong weight gradient: the second linear's bias gradient is not all-reduced here.
    const noBiasSum = JSON.parse(JSON.stringify(plan)) as typeof plan;
    for (const p of noBiasSum.programs) p.instructions = p.instructions.filter((i) => !(i.kind === "allreduce" && i.buf.startsWith("pg:fc2.bias")));
    const r2 = await verifyPlanTorch(noBiasSum, single, { steps: 1, server });
    expect(r2.firstMismatch).toMatchObject({ what: "gradient", param: "fc2.bias", op: "fc2" });
  }, 120_000);
});
