// The error a handler throws when a node has no par form. The dispatcher catches it and
// reports it once, prefixed with the file and the node, so handlers state only the reason.

export class Unmappable extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
