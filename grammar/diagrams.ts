// Entry point for `npm run docs:diagrams`: regenerate the CST types and railroad diagrams
// from the grammar. Run from the repository root.
import { writeGenerated } from "./generate.js";

for (const path of writeGenerated(process.cwd())) process.stdout.write(`wrote ${path}\n`);
