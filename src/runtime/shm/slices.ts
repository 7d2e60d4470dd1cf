// How the all-reduces cut a buffer among a group's members: the plan's even slices
// (src/plan/slices.ts), which ZeRO's reduce-scatter and all-gather use too.
export { sliceOf } from "../../plan/slices.js";
