// Diagnostic codes of the .par lexer and parser (PAR1xxx): the text could not be read as
// the language's syntax. Semantic problems (PAR2xxx) belong to the checker.
import type { CodeTable } from "../core/codes.js";

export const SYNTAX_CODES: CodeTable = {
  PAR1001: { title: "unexpected character" },
  PAR1002: { title: "unterminated string" },
  PAR1003: { title: "unexpected token: found something other than what the grammar allows here" },
  PAR1004: { title: "the file ends before a `}`, `)` or `]` closes what was opened" },
  PAR1005: { title: "malformed number (stray underscore, letters glued to digits, or too large)" },
  PAR1006: { title: "unknown dtype in a tensor type" },
  PAR1007: { title: "positional argument after a named argument" },
  PAR1008: { title: "unknown escape sequence in a string" },
  PAR1009: { title: "nested too deeply: more than 100 levels of brackets and braces, or of an expression" },
  PAR1010: { title: "the parser failed unexpectedly (a bug in par)" },
  PAR1011: { title: "too many syntax errors: 100 are reported, with how many more there were" },
};
