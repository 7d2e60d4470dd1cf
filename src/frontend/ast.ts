// The .par abstract syntax tree. Produced by `toAst` (CST → AST), consumed by `check`
// (AST → Graph) and by the printer (`fmt`). Every node carries its source span so later
// stages can point at it. Equality for round-trip tests ignores `span` and `comments`.

export interface Span {
  /** 1-based line/column of the first character. */
  line: number;
  column: number;
  /** 0-based offsets, end exclusive. */
  offset: number;
  endOffset: number;
}

export interface Node {
  span: Span;
}

/** Comments attached to a statement or item, kept so that `par fmt` never loses them. */
export interface Commented {
  /** Full-line comments directly above, text without the leading '#'. */
  leadingComments?: string[];
  /** A comment at the end of the item's last line. */
  trailingComment?: string;
}

export interface Program extends Node {
  file: string;
  items: TopItem[];
  /** Comments after the last item. */
  endComments?: string[];
}

export type TopItem = ModelDecl | BlockDecl | MeshDecl | StrategyDecl;

// ---------------------------------------------------------------- expressions
export type Expr =
  | IntLit
  | FloatLit
  | StringLit
  | BoolLit
  | Ident
  | Unary
  | Binary
  | Call
  | ListExpr
  | RangeExpr
  | Quantity;

export interface IntLit extends Node { kind: "int"; value: number }
export interface FloatLit extends Node { kind: "float"; value: number; text: string }
export interface StringLit extends Node { kind: "string"; value: string }
export interface BoolLit extends Node { kind: "bool"; value: boolean }
export interface Ident extends Node { kind: "ident"; name: string }
export interface Unary extends Node { kind: "unary"; op: "-"; operand: Expr }
/** Integer arithmetic over model parameters: `/` is exact-or-error division, `//` floor. */
export interface Binary extends Node { kind: "binary"; op: "+" | "-" | "*" | "/" | "//" | "%"; left: Expr; right: Expr }
export interface NamedArg extends Node { name: string; value: Expr }
/** `linear(x, out = hidden)`: positional args first, then named attributes. */
export interface Call extends Node { kind: "call"; callee: string; calleeSpan: Span; args: Expr[]; named: NamedArg[] }
export interface ListExpr extends Node { kind: "list"; elements: Expr[] }
/** `0..15`, end inclusive (as device ranges are written). */
export interface RangeExpr extends Node { kind: "range"; start: Expr; end: Expr }
/** `20 GB/s`, `2 us`, `80 GB`, `312 TFLOP/s`: a number with a unit, validated semantically. */
export interface Quantity extends Node { kind: "quantity"; value: number; text: string; unit: string }

// ---------------------------------------------------------------- models and blocks
export interface Param extends Node { name: string; default?: Expr }

export type DType = "f32" | "f16" | "bf16" | "i32" | "i64" | "bool";

/** A dim of an input type: `batch` (named by the param), `784`, or `tokens: seq * 2`. */
export interface DimDecl extends Node { name?: string; size: Expr }

export interface TypeExpr extends Node { dtype: DType; dims: DimDecl[] }

export type Stmt = InputStmt | AssignStmt | RepeatStmt | ForStmt | ReturnStmt;

export interface InputStmt extends Node, Commented { kind: "input"; name: string; type: TypeExpr }
/** `h = expr` or `a, b = split(...)`. */
export interface AssignStmt extends Node, Commented { kind: "assign"; targets: Ident[]; value: Expr }
/** `repeat N [as layer] { ... }`: iteration i prefixes op names with `layer{i}.`. */
export interface RepeatStmt extends Node, Commented { kind: "repeat"; count: Expr; label?: string; body: Stmt[] }
/** `for i in a..b { ... }`: `i` is usable in expressions; op names get prefix `i{value}.`. */
export interface ForStmt extends Node, Commented { kind: "for"; variable: string; range: RangeExpr; body: Stmt[] }
/** `return a, b`, only inside blocks. */
export interface ReturnStmt extends Node, Commented { kind: "return"; values: Expr[] }

export interface ModelDecl extends Node, Commented { kind: "model"; name: string; nameSpan: Span; params: Param[]; body: Stmt[] }
export interface BlockDecl extends Node, Commented { kind: "block"; name: string; nameSpan: Span; params: Param[]; body: Stmt[] }

// ---------------------------------------------------------------- meshes
/** `device P100 x 4` or `device mygpu(flops = 10 TFLOP/s, memory = 16 GB, bandwidth = 900 GB/s) x 2`. */
export interface DeviceDecl extends Node, Commented { kind: "device"; deviceKind: string; attrs: NamedArg[]; count: Expr }
/** `link nvlink(bandwidth = 20 GB/s, latency = 2 us)`: the interconnect at this level of the hierarchy. */
export interface LinkDecl extends Node, Commented { kind: "link"; name: string; attrs: NamedArg[] }
/** `node x 4 { ... }`: a group replicated `count` times; groups nest. */
export interface GroupDecl extends Node, Commented { kind: "group"; label: string; count: Expr; body: MeshItem[] }
export type MeshItem = DeviceDecl | LinkDecl | GroupDecl;

export interface MeshDecl extends Node, Commented { kind: "mesh"; name: string; nameSpan: Span; body: MeshItem[] }

// ---------------------------------------------------------------- strategies
/** A glob over op names: `*` matches any run of characters (dots included), `?` one character. */
export interface OpPattern extends Node { text: string }
export interface StrategyRule extends Node, Commented { patterns: OpPattern[]; settings: NamedArg[] }
/** `replicas = 4, offset = 8`, `zero = 1`, `precision = bf16`: settings of the whole strategy. */
export interface StrategySettings extends Node, Commented { settings: NamedArg[] }
/** `wte .. layer5.out : devices = 0..7`: a pipeline stage from its first to its last op (`last` absent: one op). */
export interface StageDecl extends Node, Commented { first: OpPattern; last?: OpPattern; settings: NamedArg[] }
/** `pipeline(microbatches = 8, schedule = "1f1b", stages = 4)`, or with a body of explicit stages. */
export interface PipelineDecl extends Node, Commented { settings: NamedArg[]; stages?: StageDecl[] }
/**
 * Rules apply in order; a later rule overrides earlier ones for the keys it sets. The
 * strategy-wide settings and the pipeline may stand anywhere among them (their order does
 * not matter; `par fmt` keeps them where they are).
 */
export interface StrategyDecl extends Node, Commented {
  kind: "strategy";
  name: string;
  nameSpan: Span;
  model: string;
  modelSpan: Span;
  mesh: string;
  meshSpan: Span;
  rules: StrategyRule[];
  settings: StrategySettings[];
  pipelines: PipelineDecl[];
}
