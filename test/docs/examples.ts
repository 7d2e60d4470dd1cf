// The examples of `par --help`, of each command's help and of the docs' ```sh blocks, as
// commands to run. An example is one line: `par ARGS` (or `npx par ARGS`), possibly several
// joined by `&&`, possibly ending in `> FILE`; a `# comment` is dropped. A line that cannot
// run here (it installs, or needs a GPU or a cluster) says so: `# not run: REASON`.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Example {
  /** Where it was found: "par run --help", "docs/import.md:25". */
  source: string;
  /** The line as written. */
  line: string;
  /** Each `par` command of the line: its argv (after `par`) and where its stdout goes. */
  commands: { argv: string[]; stdoutTo?: string }[];
  /** Set when the line is marked `# not run: REASON`. */
  notRun?: string;
}

export const NOT_RUN = /#\s*not run:\s*(.+)$/;

/** Splits a shell-like line into words (double and single quotes; `#` outside quotes starts a comment). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word = (word ?? "") + ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word = word ?? "";
    } else if (ch === "#" && word === undefined) break;
    else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? "") + ch;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The example a line holds; throws when it is not a `par` command line and is not marked. */
export function parseExample(source: string, line: string): Example {
  const marked = NOT_RUN.exec(line);
  if (marked) return { source, line, commands: [], notRun: marked[1].trim() };
  const words = shellWords(line);
  const commands: Example["commands"] = [];
  let current: string[] = [];
  const parts: string[][] = [];
  for (const w of words) {
    if (w === "&&") {
      parts.push(current);
      current = [];
    } else current.push(w);
  }
  parts.push(current);
  for (const part of parts) {
    const start = part[0] === "npx" ? 1 : 0;
    if (part[start] !== "par" || part.some((w) => w === "|" || w === ";" || w === "<")) {
      throw new Error(`${source}: \`${line}\` is not a \`par\` command the docs test can run; mark it \`# not run: REASON\``);
    }
    const argv = part.slice(start + 1);
    const redirect = argv.indexOf(">");
    if (redirect >= 0) {
      if (redirect !== argv.length - 2) throw new Error(`${source}: \`${line}\`: \`>\` must end the command`);
      commands.push({ argv: argv.slice(0, redirect), stdoutTo: argv[redirect + 1] });
    } else commands.push({ argv });
  }
  return { source, line, commands };
}

/** Examples in help text: the lines of an `example(s):` section that start with `par `. */
export function helpExamples(source: string, help: string): Example[] {
  const out: Example[] = [];
  let inExamples = false;
  for (const raw of help.split("\n")) {
    if (/^examples?\b.*:/i.test(raw.trim())) {
      inExamples = true;
      continue;
    }
    if (!raw.startsWith("  ")) inExamples = false;
    if (inExamples && /^\s+par /.test(raw)) out.push(parseExample(source, raw.trim()));
  }
  return out;
}

/** Examples in ```sh blocks of a Markdown file (relative path `file` under `root`). */
export function markdownExamples(root: string, file: string): Example[] {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const out: Example[] = [];
  let inSh = false;
  lines.forEach((raw, i) => {
    const fence = /^```(\w*)/.exec(raw);
    if (fence) {
      inSh = !inSh && (fence[1] === "sh" || fence[1] === "bash" || fence[1] === "shell");
      return;
    }
    const text = raw.trim();
    if (inSh && text && !text.startsWith("#")) out.push(parseExample(`${file}:${i + 1}`, text));
  });
  return out;
}

/** The Markdown files whose ```sh blocks hold examples: README.md and docs/*.md. */
export function markdownFiles(root: string): string[] {
  return ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
}
