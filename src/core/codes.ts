// The shape of a diagnostic-code table. Each area owns its table in its own file
// (frontend/codes.ts, ops/codes.ts, ...); src/codes.ts gathers them so that tests can
// check every code is documented, unique and exercised.

export interface CodeInfo {
  /** One line: what went wrong. */
  title: string;
}

export type CodeTable = Record<string, CodeInfo>;
