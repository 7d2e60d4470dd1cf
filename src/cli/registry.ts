// Every `par` subcommand, in the order `par --help` lists them.
import type { Command } from "./command.js";
import { meshesCommand } from "./commands/meshes.js";

export const COMMANDS: Command[] = [meshesCommand];
