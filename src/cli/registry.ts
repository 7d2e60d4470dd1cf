// Every `par` subcommand, in the order `par --help` lists them (pipeline order).
import type { Command } from "./command.js";
import { autoCommand } from "./commands/auto.js";
import { checkCommand } from "./commands/check.js";
import { compileCommand } from "./commands/compile.js";
import { exportCommand } from "./commands/export.js";
import { fmtCommand } from "./commands/fmt.js";
import { forwardCommand } from "./commands/forward.js";
import { graphCommand } from "./commands/graph.js";
import { importCommand } from "./commands/import.js";
import { meshesCommand } from "./commands/meshes.js";
import { opsCommand } from "./commands/ops.js";
import { diffCommand, searchCommand } from "./commands/search.js";
import { profileCommand } from "./commands/profile.js";
import { reportCommand } from "./commands/report.js";
import { runCommand } from "./commands/run.js";
import { simulateCommand } from "./commands/simulate.js";
import { strategyCommand } from "./commands/strategy.js";
import { verifyCommand } from "./commands/verify.js";

export const COMMANDS: Command[] = [
  autoCommand,
  checkCommand,
  fmtCommand,
  graphCommand,
  importCommand,
  meshesCommand,
  opsCommand,
  strategyCommand,
  simulateCommand,
  searchCommand,
  diffCommand,
  reportCommand,
  compileCommand,
  forwardCommand,
  runCommand,
  verifyCommand,
  profileCommand,
  exportCommand,
];
