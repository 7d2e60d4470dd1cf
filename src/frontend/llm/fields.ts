// Typed reads of a config.json's top-level fields, each failure a coded diagnostic at the
// field's line and column (src/core/json-positions.ts): a missing field (PAR6062) points at
// the object's opening brace, a bad value (PAR6063) at the value.

import type { Diagnostics, SourcePos } from "../../core/diagnostics.js";
import { jsonLocations, lineColumn, pointerSegment, type JsonLocation } from "../../core/json-positions.js";

export type ConfigObject = Record<string, unknown>;

export class ConfigFields {
  private readonly locs: Map<string, JsonLocation>;
  private readonly errorsBefore: number;

  constructor(
    readonly file: string,
    private readonly text: string,
    readonly obj: ConfigObject,
    readonly diagnostics: Diagnostics,
    /** The family, for messages ("llama config"). */
    readonly family: string,
  ) {
    this.locs = jsonLocations(text);
    this.errorsBefore = diagnostics.errors.length;
  }

  /** No error was reported since the reader was made. */
  get ok(): boolean {
    return this.diagnostics.errors.length === this.errorsBefore;
  }

  /** The position of a field's value (or of the whole object for undefined). */
  pos(key?: string): SourcePos {
    const loc = this.locs.get(key === undefined ? "" : `/${pointerSegment(key)}`);
    const offset = loc?.value ?? 0;
    const { line, column } = lineColumn(this.text, offset);
    return { file: this.file, line, column, offset, length: 1 };
  }

  /** Whether the field is present and not null (HF writes null for "use the default"). */
  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, key) && this.obj[key] !== null;
  }

  private missing(key: string, expected: string, hint?: string): undefined {
    this.diagnostics.error("PAR6062", `${this.file}: the ${this.family} config has no \`${key}\``, { pos: this.pos(), expected: `"${key}": ${expected}`, hint });
    return undefined;
  }

  bad(key: string, message: string, expected: string, hint?: string): undefined {
    this.diagnostics.error("PAR6063", `\`${key}\` ${message}`, { pos: this.pos(key), expected, hint });
    return undefined;
  }

  /** The first present key of `keys` (aliases: n_positions / n_ctx). */
  firstOf(keys: readonly string[]): string | undefined {
    return keys.find((k) => this.has(k));
  }

  /** A positive integer (or ≥ min); required unless `fallback` is given. */
  int(key: string, opts: { min?: number; fallback?: number; hint?: string } = {}): number | undefined {
    const min = opts.min ?? 1;
    if (!this.has(key)) return opts.fallback !== undefined ? opts.fallback : this.missing(key, `an integer ≥ ${min}`, opts.hint);
    const v = this.obj[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) return this.bad(key, `must be an integer ≥ ${min}, got ${JSON.stringify(v)}`, `an integer ≥ ${min}`);
    return v;
  }

  /** A finite number in [min, max) (max exclusive when given); `fallback` when absent. */
  num(key: string, fallback: number, range: { min?: number; below?: number; positive?: boolean } = {}): number | undefined {
    if (!this.has(key)) return fallback;
    const v = this.obj[key];
    const lo = range.min ?? -Infinity;
    const ok = typeof v === "number" && Number.isFinite(v) && v >= lo && (range.below === undefined || v < range.below) && (!range.positive || v > 0);
    if (ok) return v;
    const want = range.positive ? "a number > 0" : range.below !== undefined ? `a number in [${lo}, ${range.below})` : "a finite number";
    return this.bad(key, `must be ${want}, got ${JSON.stringify(v)}`, want);
  }

  bool(key: string, fallback: boolean): boolean | undefined {
    if (!this.has(key)) return fallback;
    const v = this.obj[key];
    if (typeof v !== "boolean") return this.bad(key, `must be true or false, got ${JSON.stringify(v)}`, "true or false");
    return v;
  }

  str(key: string, fallback: string): string | undefined {
    if (!this.has(key)) return fallback;
    const v = this.obj[key];
    if (typeof v !== "string") return this.bad(key, `must be a string, got ${JSON.stringify(v)}`, "a string");
    return v;
  }
}
