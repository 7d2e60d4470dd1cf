// Every `par` subcommand, in the order `par --help` lists them.
import type { Command } from "./command.js";
import { fmtCommand } from "./commands/fmt.js";
import { meshesCommand } from "./commands/meshes.js";
import { simulateCommand } from "./commands/simulate.js";
import { strategyCommand } from "./commands/strategy.js";

export const COMMANDS: Command[] = [meshesCommand, strategyCommand, simulateCommand, fmtCommand];
