import { test } from "vitest";
import { runSearchBench } from "../../bench/search.js";
test("bench", async () => { console.log(await runSearchBench()); }, 900000);
