// Typed reads of an ONNX node's attributes, with the defaults the ONNX spec gives.

import type { OnnxNode } from "./decode.js";

export interface AttrReader {
  has(name: string): boolean;
  int(name: string, dflt: number): number;
  float(name: string): number | undefined;
  float(name: string, dflt: number): number;
  /** An ints attribute; a single int reads as a one-element list (some exporters write one). */
  ints(name: string): number[] | undefined;
  string(name: string, dflt: string): string;
  /** A strings attribute (LSTM activations), or undefined. */
  strings(name: string): string[] | undefined;
}

export function attrReader(n: OnnxNode): AttrReader {
  function float(name: string): number | undefined;
  function float(name: string, dflt: number): number;
  function float(name: string, dflt?: number): number | undefined {
    return n.attrs.get(name)?.f ?? dflt;
  }
  return {
    has: (name) => n.attrs.has(name),
    int: (name, dflt) => n.attrs.get(name)?.i ?? dflt,
    float,
    ints: (name) => {
      const a = n.attrs.get(name);
      return a?.ints ?? (a?.i !== undefined ? [a.i] : undefined);
    },
    string: (name, dflt) => n.attrs.get(name)?.s ?? dflt,
    strings: (name) => n.attrs.get(name)?.strings,
  };
}
