// `npm run bench [-- SECTION...]`: performance figures, each section printing ratios
// measured side by side in one run (the machines are shared and noisy).
import { parseBench } from "./parse.js";

type Section = { name: string; doc: string; run: () => Promise<string> };

const SECTIONS: Section[] = [
  { name: "parse", doc: "parse + check of a generated 10,000-line .par file (target ≤ 200 ms)", run: parseBench },
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w));
  if (unknown.length) {
    process.stderr.write(`bench: unknown section ${unknown.join(", ")}; sections: ${SECTIONS.map((s) => s.name).join(", ")}\n`);
    process.exitCode = 2;
    return;
  }
  for (const s of SECTIONS) {
    if (wanted.length && !wanted.includes(s.name)) continue;
    process.stdout.write(`\n== ${s.name}: ${s.doc}\n`);
    process.stdout.write((await s.run()) + "\n");
  }
}

await main();
