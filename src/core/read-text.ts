// Reading a text input (a .par program, a plan, a strategy, a cost table) safely: its size
// is checked before it is read (a huge file would exhaust the heap), a folder, a device
// that never ends or a binary file is refused, and every refusal is a coded ParError
// (PAR4001 unreadable, PAR4003 not text, PAR4004 too large), never a stack trace.

import { closeSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { basename, dirname } from "node:path";
import { didYouMean, parError, ParError } from "./diagnostics.js";

/** Input size limits by kind of file, in bytes (docs/cli.md lists them). */
export const INPUT_LIMITS = {
  /** A .par program: 4 MiB is ~100,000 lines; parsing it takes seconds and ~0.5 GiB. */
  par: 4 * 1024 * 1024,
  /** A plan: imported weights travel in it (up to 64 MiB of f32, base64), plus programs. */
  plan: 256 * 1024 * 1024,
  /** A strategy or a measured-cost table. */
  json: 64 * 1024 * 1024,
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

/** A pipe or a device has no size to check first: it is read up to this, or the kind's limit if smaller. */
export const STREAM_LIMIT = 256 * 1024 * 1024;

/**
 * Reads `full` as UTF-8 text of at most `maxBytes` (a leading byte-order mark is dropped).
 * `shown` is the path as the user wrote it, for messages. Throws a coded ParError.
 */
export function readTextFile(full: string, shown: string, maxBytes: number): string {
  const bytes = readBoundedBytes(full, shown, maxBytes);
  const bad = firstNonText(bytes);
  if (bad !== undefined) {
    const { line, column } = lineColumnOfByte(bytes, bad.offset);
    throw parError("PAR4003", `\`${shown}\` is not a text file: byte ${bad.offset} is ${bad.what}`, {
      pos: { file: shown, line, column },
      expected: "UTF-8 text",
      hint: "is this the right file? par reads .par programs and JSON as UTF-8 text",
    });
  }
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start).toString("utf8");
}

/**
 * The bytes of `full`, refused before reading when its size exceeds `maxBytes`. A file
 * whose size is unknown beforehand (a pipe, /dev/stdin) is read up to the limit (and at
 * most STREAM_LIMIT).
 */
export function readBoundedBytes(full: string, shown: string, limit: number): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(full, "r");
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    if (st.isFile() && st.size > limit) throw tooLarge(shown, `${st.size} bytes`, limit);
    const maxBytes = st.isFile() ? limit : Math.min(limit, STREAM_LIMIT);
    // A regular file is read into one buffer of its size: a model file may be gigabytes,
    // and chunks then a concatenation would hold it twice (three times with a copy).
    const chunks: Buffer[] = [];
    let total = 0;
    let whole: Buffer | undefined;
    if (st.isFile()) {
      // Not from Buffer's shared pool: callers may view the bytes' ArrayBuffer from offset 0.
      const all = Buffer.allocUnsafeSlow(st.size);
      while (total < st.size) {
        const got = readSync(fd, all, total, st.size - total, null);
        if (got === 0) break;
        total += got;
      }
      if (total < st.size) return new Uint8Array(all.buffer, all.byteOffset, total);
      // The file may have grown since fstat: the rest is read as a stream is.
      chunks.push(all);
      whole = all;
    }
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      total += got;
      if (total > maxBytes) throw tooLarge(shown, "more", maxBytes);
    }
    if (whole && chunks.length === 1) return new Uint8Array(whole.buffer, whole.byteOffset, total);
    return new Uint8Array(Buffer.concat(chunks, total));
  } catch (e) {
    if (e instanceof ParError) throw e;
    throw unreadable(e, full, shown);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function tooLarge(shown: string, size: string, maxBytes: number): ParError {
  return parError("PAR4004", `\`${shown}\` is too large: ${size} than the limit of ${maxBytes} bytes for this kind of file`, {
    expected: `a file of at most ${formatMiB(maxBytes)}`,
    hint: "is this the right file? the limits are listed in docs/cli.md",
  });
}

function formatMiB(bytes: number): string {
  return `${bytes / (1024 * 1024)} MiB`;
}

/** PAR4001 for a file that cannot be opened or read, with a near name when it is missing. */
export function unreadable(e: unknown, full: string, shown: string): ParError {
  const code = (e as NodeJS.ErrnoException).code;
  const hint = code === "ENOENT" ? nearName(full) : code === "EISDIR" ? "give a file, not a folder" : undefined;
  return parError("PAR4001", `cannot read file \`${shown}\`: ${errnoReason(e)}`, { hint });
}

/** An errno in words ("no such file", "it is a directory"), else the error's message. */
export function errnoReason(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "it is a directory";
    case "ENOTDIR":
      return "a part of the path is not a folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOSPC":
      return "no space left on the device";
    case "EROFS":
      return "the file system is read-only";
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

function nearName(full: string): string | undefined {
  try {
    return didYouMean(basename(full), readdirSync(dirname(full)));
  } catch {
    return undefined;
  }
}

/**
 * The first byte that makes `bytes` not UTF-8 text: a NUL (binary files are full of them,
 * and no text format par reads has one) or an invalid UTF-8 sequence.
 */
export function firstNonText(bytes: Uint8Array): { offset: number; what: string } | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b === 0) return { offset: i, what: "a NUL" };
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return { offset: i, what: `0x${b.toString(16).padStart(2, "0")}, which does not start a UTF-8 character` };
    for (let k = 1; k < len; k++) {
      if ((bytes[i + k] & 0xc0) !== 0x80) return { offset: i, what: "the start of an invalid UTF-8 sequence" };
    }
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not UTF-8 either.
    const second = bytes[i + 1];
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second >= 0xa0) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second >= 0x90)) {
      return { offset: i, what: "the start of an invalid UTF-8 sequence" };
    }
    i += len;
  }
  return undefined;
}

/** 1-based line and column (in characters of the valid text before it) of byte `offset`. */
function lineColumnOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      column = 1;
    } else if ((bytes[i] & 0xc0) !== 0x80) column++;
  }
  return { line, column };
}
