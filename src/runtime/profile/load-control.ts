// The control words of a background load (profile-load.ts ↔ load-worker.ts): two Int32
// per load worker in one SharedArrayBuffer. Kept apart from load-worker.ts, whose import
// starts a worker's main loop: a thread that only needs the indices must not import it.

/** Word 0: what the parent wants (1 run, 0 pause, −1 exit). */
export const LOAD_WANTED = 0;
/** Word 1: what the worker does (1 running, 0 paused). */
export const LOAD_STATE = 1;
