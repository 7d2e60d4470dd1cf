// Every `par` subcommand, in the order `par --help` lists them.
import type { Command } from "./command.js";

export const COMMANDS: Command[] = [];
