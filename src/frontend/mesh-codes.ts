// Diagnostic codes raised while building a mesh from a `mesh` declaration (PAR3001–PAR3049).
import type { CodeTable } from "../core/codes.js";

export const MESH_CODES: CodeTable = {
  PAR3001: { title: "unknown device kind (not in the catalog, and no custom figures given)" },
  PAR3002: { title: "unknown unit" },
  PAR3003: { title: "a quantity of the wrong dimension (e.g. a bandwidth where a time is expected)" },
  PAR3004: { title: "a device or link attribute is not a number with a unit" },
  PAR3005: { title: "a custom device is missing a required attribute (flops, memory, bandwidth)" },
  PAR3006: { title: "unknown device attribute" },
  PAR3007: { title: "attribute given twice" },
  PAR3008: { title: "a link is missing a required attribute (bandwidth, latency)" },
  PAR3009: { title: "unknown link attribute" },
  PAR3010: { title: "more than one link at one level of the mesh" },
  PAR3011: { title: "a group with several members has no link joining them" },
  PAR3012: { title: "a count is not a positive integer" },
  PAR3013: { title: "a count is not a constant integer expression (meshes take no parameters)" },
  PAR3014: { title: "the mesh has no devices" },
  PAR3015: { title: "a group has no devices" },
  PAR3016: { title: "the mesh has too many devices" },
  PAR3017: { title: "a quantity is out of range (must be positive and finite; a latency may be 0)" },
};
