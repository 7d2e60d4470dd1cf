// Lines and columns from offsets. The lexer tracks only offsets (cheaper: smaller tokens and
// no line counting); a line-start table turns an offset into the 1-based line and column
// that diagnostics and spans show. Line breaks are counted as the lexer would: `\n`,
// `\r\n`, or a lone `\r`; a column counts UTF-16 code units from 1.

/** Offsets at which lines start, for one text. */
export class LineTable {
  readonly starts: number[];
  /** The line of the last lookup: lookups mostly move forward, a line or two at a time. */
  private last = 0;

  constructor(readonly text: string) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 10) starts.push(i + 1);
      else if (ch === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        starts.push(i + 1);
      }
    }
    this.starts = starts;
  }

  /** 0-based index of the line that holds `offset` (offsets past the end are on the last line). */
  lineIndex(offset: number): number {
    const starts = this.starts;
    let i = this.last;
    // Close to the previous lookup: step (the front end reads in source order).
    if (starts[i] <= offset) {
      if (i + 1 === starts.length || offset < starts[i + 1]) return i;
      if (i + 2 === starts.length || offset < starts[i + 2]) return (this.last = i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return (this.last = lo);
  }

  /** 1-based line of `offset`. */
  line(offset: number): number {
    return this.lineIndex(offset) + 1;
  }

  /** 1-based column of `offset`. */
  column(offset: number): number {
    return offset - this.starts[this.lineIndex(offset)] + 1;
  }

  /** 1-based line and column of `offset`. */
  position(offset: number): { line: number; column: number } {
    const i = this.lineIndex(offset);
    return { line: i + 1, column: offset - this.starts[i] + 1 };
  }

  /** True when no line break lies between the two offsets. */
  sameLine(a: number, b: number): boolean {
    return this.lineIndex(a) === this.lineIndex(b);
  }
}

/** The table of the last text asked for: parsing one text asks several times (AST, comments, errors). */
let lastTable = new LineTable("");

export function lineTable(text: string): LineTable {
  if (lastTable.text !== text) lastTable = new LineTable(text);
  return lastTable;
}
