// File helpers: atomic writes (write a temp file beside the target, then rename), so a
// crash never leaves a half-written strategy or plan.

import { mkdirSync, renameSync, writeFileSync, unlinkSync } from "node:fs";
import { dirname, basename, join } from "node:path";

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* the temp file may not exist */
    }
    throw e;
  }
}
