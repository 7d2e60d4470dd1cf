// Source positions of the values and keys of a JSON text, addressed by JSON Pointer
// (RFC 6901, as ajv's `instancePath` writes them), so that schema errors in a strategy
// file point at the offending line and column. Runs only on text JSON.parse accepted.

export interface JsonLocation {
  /** 0-based offset of the value's first character. */
  value: number;
  /** 0-based offset of the key's opening quote, for object members. */
  key?: number;
}

/** JSON Pointer escaping of one path segment. */
export function pointerSegment(s: string): string {
  return s.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function jsonLocations(text: string): Map<string, JsonLocation> {
  const out = new Map<string, JsonLocation>();
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++; // closing quote
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, key?: number): void => {
    ws();
    const loc: JsonLocation = { value: i };
    if (key !== undefined) loc.key = key;
    out.set(path, loc);
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const keyAt = i;
        const k = str();
        ws();
        i++; // ':'
        value(`${path}/${pointerSegment(k)}`, keyAt);
        ws();
        if (text[i++] === "}") return;
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}/${n}`);
        ws();
        if (text[i++] === "]") return;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text[i])) i++;
    }
  };
  value("");
  return out;
}

/** 1-based line and column of a 0-based offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === "\n") {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
