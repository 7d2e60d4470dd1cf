// How a command was called wrongly (exit 2) is coded like every other error: PAR4006, or
// the code of the option's own check (PAR7002 for --budget, PAR4012/PAR4013 for model
// flags), then a hint and the usage line.
import { describe, expect, it } from "vitest";
import { cli, SMALL_MLP } from "./cli-helpers.js";

describe("usage errors", () => {
  it("an unknown option, an unknown command, no command: PAR4006 and exit 2", async () => {
    const opt = await cli("check", "models/mlp.par", "--jsn");
    expect(opt.code).toBe(2);
    expect(opt.err).toBe("par check: error PAR4006: unknown option --jsn\nhint: did you mean `--json`?\nusage: par check FILE... [--json] [--model M] [--set NAME=VALUE ...] [--input NAME=AxBx..] [--batch N] [--loss KIND]\n");
    const cmd = await cli("chek", "models/mlp.par");
    expect(cmd.code).toBe(2);
    expect(cmd.err).toContain("par: error PAR4006: unknown command `chek`");
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.err).toBe("par: error PAR4006: no command given\n");
    expect(none.out).toContain("usage: par COMMAND");
  });

  it("an option's own check keeps its code, once", async () => {
    const r = await cli("search", ...SMALL_MLP, "--budget", "fast");
    expect(r.code).toBe(2);
    expect(r.err.match(/PAR\d{4}/g)).toEqual(["PAR7002"]);
    expect(r.err).toMatch(/^par search: error PAR7002: /);
  });
});
