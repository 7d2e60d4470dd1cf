// The `par` process's Io: stdout and stderr of the process. A reader that goes away
// (`par run ... | head -1`) closes the pipe; writing to it then fails with EPIPE. par treats
// that as the reader's choice, like `git log | head` does: it stops at once, quietly (no
// stack trace, nothing more written) and exits with status 0. Output files are written
// atomically, so stopping leaves no partial file.

import type { Io } from "./command.js";

/** Exit status when the reader of stdout or stderr has gone away (documented in docs/cli.md). */
export const CLOSED_PIPE_EXIT = 0;

type Stream = NodeJS.WriteStream;

/** Ends the process quietly when `stream`'s reader has gone away; other errors propagate. */
export function exitQuietlyOnClosedPipe(stream: Stream, exit: (code: number) => void = (c) => process.exit(c)): void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") exit(CLOSED_PIPE_EXIT);
    else throw e;
  });
}

export function processIo(): Io {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    isTty: Boolean(process.stdout.isTTY),
    errIsTty: Boolean(process.stderr.isTTY),
    ...(process.stderr.columns ? { errColumns: process.stderr.columns } : {}),
    cwd: process.cwd(),
  };
}
