// `par report` pages in a real browser: Debian's chromium driven by playwright-core (one
// launch for every page). Each page loads from a file with no console errors and no
// request leaving it; its graph has one element per op and its timeline and memory one row
// per device (data attributes); hovering an op shows its configuration. A measured trace
// (a real `par run --trace`) adds a measured lane per device.
//
// CI installs chromium (.ci/run → scripts/apt-install.sh); there (CI=true, or
// PAR_REQUIRE_CHROMIUM=1) the test must run, so a missing browser fails it. Elsewhere it is
// skipped.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { ensureWorkerBuild } from "../runtime/ensure-build.js";
import { cli, scratch, SMALL_MLP } from "../cli/cli-helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
/** CI (or PAR_REQUIRE_CHROMIUM=1, which .ci/run sets) installs chromium: a missing one fails there. */
const required = process.env.CI === "true" || process.env.CI === "1" || process.env.PAR_REQUIRE_CHROMIUM === "1";

interface Loaded {
  page: Page;
  errors: string[];
  requests: string[];
  data: { graph: { ops: { name: string; config: string; kind: string }[] }; mesh?: { devices: number }; timeline: { measured?: { devices: unknown[] } } };
}

describe("par report in chromium", () => {
  it("chromium is installed where the pages must be tested (CI)", () => {
    if (required) expect(present, `${CHROMIUM} is missing: CI installs it (scripts/apt-install.sh chromium); the report's browser test must not skip there`).toBe(true);
  });

  describe.skipIf(!present)("pages", () => {
    let browser: Browser;
    let dir: string;

    beforeAll(async () => {
      const { chromium } = await import("playwright-core");
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
      dir = scratch();
    });
    afterAll(async () => {
      await browser?.close();
    });

    async function open(file: string): Promise<Loaded> {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("request", (r) => {
        if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url());
      });
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
      const html = readFileSync(file, "utf8");
      const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]) as Loaded["data"];
      return { page, errors, requests, data };
    }

    async function report(name: string, ...args: string[]): Promise<string> {
      const out = join(dir, `${name}.html`);
      const r = await cli("report", ...args, "--out", out);
      expect(r.code, r.err).toBe(0);
      return out;
    }

    async function checkPage(l: Loaded, devices: number): Promise<void> {
      const { page, data } = l;
      expect(await page.locator("#graph-svg .op").count()).toBe(data.graph.ops.length);
      const names = await page.locator("#graph-svg .op").evaluateAll((els) => els.map((e) => e.getAttribute("data-op")));
      expect(names).toEqual(data.graph.ops.map((o) => o.name));
      const rows = await page.locator("#timeline-svg .device-row").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-device"))));
      expect(rows).toEqual([...Array(devices).keys()]);
      expect(await page.locator("#memory-svg .memory-row").count()).toBe(devices);
      // Hover the last op: the tooltip names it and its configuration.
      const last = data.graph.ops[data.graph.ops.length - 1];
      const tip = page.locator("#tooltip");
      await expect.poll(() => tip.isVisible()).toBe(false);
      await page.locator(`#graph-svg .op[data-op="${last.name}"] rect`).hover();
      await expect.poll(() => tip.isVisible()).toBe(true);
      const text = (await tip.textContent()) ?? "";
      expect(text).toContain(last.name);
      expect(text).toContain(`config: ${last.config}`);
      expect(text).toMatch(/degrees: .+ = \d+/);
      expect(l.errors).toEqual([]);
      expect(l.requests).toEqual([]);
    }

    it("a model under data parallelism and under a searched strategy", async () => {
      const dp = await open(await report("dp", ...SMALL_MLP, "--mesh", "p100x16"));
      await checkPage(dp, 16);
      const searched = await open(await report("searched", "models/mlp.par", "--mesh", "v100x8", "--search", "--budget", "200"));
      await checkPage(searched, 8);
      expect(await searched.page.locator("#why li").count()).toBeGreaterThan(2);
      // Different configurations get different colours.
      const fills = await searched.page.locator("#graph-svg .op rect").evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute("fill")))]);
      const configs = new Set(searched.data.graph.ops.map((o) => o.config));
      expect(fills.length).toBe(configs.size);
      // Hovering a task of the timeline names its kind and op (tasks closer than a pixel share a rect).
      await searched.page.locator("#timeline-svg .device-row[data-device='0'] rect.task").first().hover();
      expect(await searched.page.locator("#tooltip").textContent()).toMatch(/(^|first: )(fwd|bwd|update|reduce|xfer|allreduce) of \S+/);
    });

    it("a plan with a measured trace of a real run beside the prediction", async () => {
      ensureWorkerBuild();
      const plan = join(dir, "mlp.plan.json");
      expect((await cli("compile", ...SMALL_MLP, "--strategy", "dp", "--mesh", "p100x16", "--out", plan)).code).toBe(0);
      // The plan runs on 16 local workers would be slow: run the same model on 2 and trace it.
      const small = join(dir, "two.plan.json");
      const compiled = await cli("compile", ...SMALL_MLP, "--strategy", "dp", "--out", small);
      expect(compiled.code, compiled.err).toBe(0);
      const trace = join(dir, "run.json");
      const run = await cli("run", small, "--steps", "2", "--backend", "cpu", "--trace", trace);
      expect(run.code, run.err).toBe(0);
      const l = await open(await report("plan-trace", small, "--trace", trace));
      const devices = l.data.mesh!.devices;
      await checkPage(l, devices);
      const measured = await l.page.locator("#timeline-svg .device-row [data-lane=measured]").count();
      expect(measured).toBe(devices);
      expect(await l.page.locator("#timeline-svg [data-lane=measured] rect.task").count()).toBeGreaterThan(devices);
      expect(await l.page.locator("#timeline-measured").textContent()).toMatch(/^Measured: step 1 of /);
      // A plan for a mesh par does not build: the page says why instead of a timeline.
      const json = JSON.parse(readFileSync(plan, "utf8"));
      json.mesh = "elsewhere";
      const other = join(dir, "elsewhere.plan.json");
      (await import("node:fs")).writeFileSync(other, JSON.stringify(json));
      const m = await open(await report("elsewhere", other));
      expect(await m.page.locator("#graph-svg .op").count()).toBe(m.data.graph.ops.length);
      expect(await m.page.locator("#timeline-view .missing").textContent()).toMatch(/mesh elsewhere, which is not built in/);
      expect(await m.page.locator("#memory-view .missing").count()).toBe(1);
      expect(m.errors).toEqual([]);
    });
  });
});
