// Every `par` subcommand, in the order `par --help` lists them.
import type { Command } from "./command.js";
import { checkCommand } from "./commands/check.js";
import { compileCommand } from "./commands/compile.js";
import { fmtCommand } from "./commands/fmt.js";
import { graphCommand } from "./commands/graph.js";
import { importCommand } from "./commands/import.js";
import { meshesCommand } from "./commands/meshes.js";
import { diffCommand, searchCommand } from "./commands/search.js";
import { profileCommand } from "./commands/profile.js";
import { runCommand } from "./commands/run.js";
import { simulateCommand } from "./commands/simulate.js";
import { strategyCommand } from "./commands/strategy.js";
import { verifyCommand } from "./commands/verify.js";

export const COMMANDS: Command[] = [checkCommand, graphCommand, importCommand, meshesCommand, strategyCommand, simulateCommand, searchCommand, diffCommand, compileCommand, runCommand, verifyCommand, profileCommand, fmtCommand];
