// The .par grammar as a chevrotain CstParser: no embedded actions, only the grammar, so
// the CST types and railroad diagrams can be generated from it (grammar/diagrams.ts).
// Error recovery is on, so one run reports several mistakes. The parser is built once
// (self-analysis is the expensive part) and reused for every file.

import { CstParser, type CstNode, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import * as T from "./tokens.js";

/**
 * Parser errors carry a JSON payload instead of prose: the front end turns the expected
 * token sets into words and picks a diagnostic code (src/frontend/parse.ts).
 */
export interface SyntaxErrorPayload {
  kind: "mismatch" | "noViableAlt" | "earlyExit" | "redundant";
  rule: string;
  /** Token type names the parser could accept here. */
  expected: string[];
}

function firstTokens(paths: TokenType[][]): string[] {
  return paths.filter((p) => p.length > 0).map((p) => p[0].name);
}

/**
 * Recovery costs time per error; a file that is not .par at all (a binary, a JSON file)
 * would take seconds. The front end sets a budget per parse; the error that exceeds it
 * aborts the parse with `ErrorLimitReached`. (Not a grammar action: the error provider.)
 */
export const errorBudget = { left: Infinity };

export class ErrorLimitReached extends Error {
  constructor(readonly token: IToken) {
    super("too many syntax errors");
  }
}

function spend(token: IToken, payload: SyntaxErrorPayload): string {
  if (--errorBudget.left < 0) throw new ErrorLimitReached(token);
  return JSON.stringify(payload);
}

const errorPayloads: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual, ruleName }) => spend(actual, { kind: "mismatch", rule: ruleName, expected: [expected.name] }),
  buildNotAllInputParsedMessage: ({ firstRedundant, ruleName }) => spend(firstRedundant, { kind: "redundant", rule: ruleName, expected: ["Model", "Block", "Mesh", "Strategy"] }),
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) =>
    spend(actual[0], { kind: "noViableAlt", rule: ruleName, expected: expectedPathsPerAlt.flatMap(firstTokens) }),
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, ruleName }) =>
    spend(actual[0], { kind: "earlyExit", rule: ruleName, expected: firstTokens(expectedIterationPaths) }),
};

/** Two tokens written with nothing between them (pattern pieces, `GB/s`). */
function adjacent(a: IToken, b: IToken): boolean {
  return a.endOffset !== undefined && a.endOffset + 1 === b.startOffset;
}

/**
 * Performance only: once these two fields have held a non-number, V8 keeps them as tagged
 * values in every object of this shape, so the NaN a node location starts with (and the
 * offsets it gets) are not boxed doubles: a node location takes 40 bytes instead of 72.
 */
export const TAGGED_LOCATION_SHAPE: unknown = { startOffset: undefined, endOffset: undefined };

/** True when chevrotain starts a node's location as `ParParser.cstInvocationStateUpdate` does. */
function startsUnlocated(builder: CstBuilderInternals): boolean {
  const probe: CstNode = { name: "probe", children: {} };
  builder.setInitialNodeLocation(probe);
  const loc = probe.location;
  return loc !== undefined && Object.keys(loc).join() === "startOffset,endOffset" && Number.isNaN(loc.startOffset) && Number.isNaN(loc.endOffset);
}

/** The parts of chevrotain's CST builder (its TreeBuilder trait) that `ParParser` overrides. */
interface CstBuilderInternals {
  CST_STACK: CstNode[];
  setInitialNodeLocation(node: CstNode): void;
  cstInvocationStateUpdate(ruleName: string): void;
}

export class ParParser extends CstParser {
  constructor() {
    super(T.PARSER_TOKENS, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: "onlyOffset", errorMessageProvider: errorPayloads });
    this.performSelfAnalysis();
    // Should a chevrotain update change what the override below reproduces (a new node's
    // location under offset-only tracking with recovery), use its own builder.
    const self = this as unknown as CstBuilderInternals;
    if (!Array.isArray(self.CST_STACK) || typeof self.setInitialNodeLocation !== "function" || !startsUnlocated(self)) {
      self.cstInvocationStateUpdate = (Object.getPrototypeOf(ParParser.prototype) as CstBuilderInternals).cstInvocationStateUpdate;
    }
  }

  /**
   * The text the input tokens were read from. Tokens carry offsets only, so the two gates that
   * ask "on the same line?" look for a line break between the tokens here. Set it with `input`.
   */
  source = "";

  /** True when no line break separates token `a` from the later token `b` (false at the end of input). */
  private sameLine(a: IToken, b: IToken): boolean {
    const end = a.endOffset;
    if (end === undefined || !Number.isFinite(end) || !Number.isFinite(b.startOffset)) return false;
    for (let i = end + 1; i < b.startOffset; i++) {
      const ch = this.source.charCodeAt(i);
      if (ch === 10 || ch === 13) return false;
    }
    return true;
  }

  /**
   * Performance only (not a grammar action; the CST is the same): chevrotain starts every CST
   * node's `children` as `Object.create(null)`, which V8 keeps as a slow dictionary. With about
   * ten nodes per line, a plain object (fast properties) halves the parser's time and makes
   * reading the CST faster. The keys are rule and token names, never `__proto__`.
   */
  cstInvocationStateUpdate(ruleName: string): void {
    // The location as chevrotain's `setInitialNodeLocation` makes it, but in the same literal:
    // adding it afterwards would give every node an out-of-object property store.
    const node: CstNode = { name: ruleName, children: {}, location: { startOffset: NaN, endOffset: NaN } };
    (this as unknown as CstBuilderInternals).CST_STACK.push(node);
  }

  // The closures and option objects handed to OR / MANY / OPTION are built once, not on
  // every rule invocation (chevrotain's advice for speed; the grammar is the same).

  // ------------------------------------------------------------ top level
  private readonly programAlts = [
    { ALT: () => this.SUBRULE(this.modelDecl) },
    { ALT: () => this.SUBRULE(this.blockDecl) },
    { ALT: () => this.SUBRULE(this.meshDecl) },
    { ALT: () => this.SUBRULE(this.strategyDecl) },
    { ALT: () => this.CONSUME(T.Semicolon) },
  ];
  private readonly programItem = (): void => {
    this.OR(this.programAlts);
  };

  program = this.RULE("program", () => {
    this.MANY(this.programItem);
  });

  private readonly optParamList = (): void => {
    this.SUBRULE(this.paramList);
  };

  modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.OPTION(this.optParamList);
    this.SUBRULE(this.body);
  });

  blockDecl = this.RULE("blockDecl", () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.OPTION(this.optParamList);
    this.SUBRULE(this.body);
  });

  private readonly paramSep = { SEP: T.Comma, DEF: () => this.SUBRULE(this.param) };

  paramList = this.RULE("paramList", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP(this.paramSep);
    this.CONSUME(T.RParen);
  });

  private readonly paramDefault = (): void => {
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
  };

  param = this.RULE("param", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(this.paramDefault);
  });

  // ------------------------------------------------------------ statements
  private readonly bodyAlts = [
    { ALT: () => this.SUBRULE(this.inputStmt) },
    { ALT: () => this.SUBRULE(this.repeatStmt) },
    { ALT: () => this.SUBRULE(this.forStmt) },
    { ALT: () => this.SUBRULE(this.returnStmt) },
    { ALT: () => this.SUBRULE(this.assignStmt) },
    { ALT: () => this.CONSUME(T.Semicolon) },
  ];
  private readonly bodyItem = (): void => {
    this.OR(this.bodyAlts);
  };

  /** Statements; `;` is an optional separator. */
  body = this.RULE("body", () => {
    this.CONSUME(T.LBrace);
    this.MANY(this.bodyItem);
    this.CONSUME(T.RBrace);
  });

  inputStmt = this.RULE("inputStmt", () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
  });

  private readonly dimDeclSep = { SEP: T.Comma, DEF: () => this.SUBRULE(this.dimDecl) };

  typeExpr = this.RULE("typeExpr", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LBracket);
    this.MANY_SEP(this.dimDeclSep);
    this.CONSUME(T.RBracket);
  });

  private readonly dimName = (): void => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
  };

  /** `784`, `batch`, or `tokens: seq * 2`. */
  dimDecl = this.RULE("dimDecl", () => {
    this.OPTION(this.dimName);
    this.SUBRULE(this.expr);
  });

  private readonly targetSep = { SEP: T.Comma, DEF: () => this.CONSUME(T.Identifier) };

  assignStmt = this.RULE("assignStmt", () => {
    this.AT_LEAST_ONE_SEP(this.targetSep);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
  });

  private readonly repeatLabel = (): void => {
    this.CONSUME(T.As);
    this.CONSUME(T.Identifier);
  };

  repeatStmt = this.RULE("repeatStmt", () => {
    this.CONSUME(T.Repeat);
    this.SUBRULE(this.expr);
    this.OPTION(this.repeatLabel);
    this.SUBRULE(this.body);
  });

  forStmt = this.RULE("forStmt", () => {
    this.CONSUME(T.For);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.In);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.body);
  });

  private readonly returnSep = { SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) };

  returnStmt = this.RULE("returnStmt", () => {
    this.CONSUME(T.Return);
    this.AT_LEAST_ONE_SEP(this.returnSep);
  });

  // ------------------------------------------------------------ expressions
  // Kept flat for speed (each rule level costs a CST node per operand): one operator loop,
  // precedence and associativity are applied when building the AST; a call's arguments are
  // read in its operand's `unary` node (no node of their own).

  private readonly exprOperand = (): void => {
    this.CONSUME(T.BinaryOp);
    this.SUBRULE2(this.unary);
  };
  private readonly rangeOperand = (): void => {
    this.CONSUME2(T.BinaryOp);
    this.SUBRULE4(this.unary);
  };
  private readonly exprRange = (): void => {
    this.CONSUME(T.DotDot);
    this.SUBRULE3(this.unary);
    this.MANY2(this.rangeOperand);
  };

  /**
   * Operands joined by `+ - * / // %`, optionally a range `a..b` (binding loosest). The
   * tree (precedence, associativity, the range's two sides) is built with the AST.
   */
  expr = this.RULE("expr", () => {
    this.SUBRULE(this.unary);
    this.MANY(this.exprOperand);
    this.OPTION(this.exprRange);
  });

  private readonly minus = (): void => {
    this.CONSUME(T.Minus);
  };
  // OPTION around AT_LEAST_ONE rather than MANY: the same language, cheaper for the usual
  // operand without a sign.
  private readonly minuses = (): void => {
    this.AT_LEAST_ONE(this.minus);
  };
  private readonly numberAlts = [{ ALT: () => this.CONSUME(T.IntLiteral) }, { ALT: () => this.CONSUME(T.FloatLiteral) }];
  private readonly optUnit = { GATE: () => this.unitFollows(), DEF: () => this.SUBRULE(this.unit) };
  private readonly argAlts = [{ ALT: () => this.SUBRULE(this.namedArg) }, { ALT: () => this.SUBRULE2(this.expr) }];
  private readonly argSep = {
    SEP: T.Comma,
    DEF: () => {
      this.OR3(this.argAlts);
    },
  };
  /** A call's arguments, in any order here; "positional after named" is reported when building the AST, with a hint. */
  private readonly args = (): void => {
    this.CONSUME2(T.LParen);
    this.MANY_SEP(this.argSep);
    this.CONSUME2(T.RParen);
  };
  private readonly unaryAlts = [
    {
      ALT: () => {
        this.OR2(this.numberAlts);
        this.OPTION(this.optUnit);
      },
    },
    { ALT: () => this.CONSUME(T.StringLiteral) },
    { ALT: () => this.CONSUME(T.True) },
    { ALT: () => this.CONSUME(T.False) },
    {
      ALT: () => {
        this.CONSUME(T.Identifier);
        this.OPTION2(this.args);
      },
    },
    {
      ALT: () => {
        this.CONSUME(T.LParen);
        this.SUBRULE(this.expr);
        this.CONSUME(T.RParen);
      },
    },
    { ALT: () => this.SUBRULE(this.listExpr) },
  ];

  /** Prefix minus signs, then a primary expression (a call's parentheses and arguments included). */
  unary = this.RULE("unary", () => {
    this.OPTION3(this.minuses);
    this.OR(this.unaryAlts);
  });

  /**
   * A number is a quantity (`20 GB/s`) when a name follows on its line that does not start
   * a statement or attribute (`n = 64` then `y = ...` on the next line).
   */
  private unitFollows(): boolean {
    const unit = this.LA(1);
    const after = this.LA(2).tokenType;
    return this.sameLine(this.LA(0), unit) && after !== T.Equals && after !== T.Colon && after !== T.LParen;
  }

  private readonly unitPer = {
    GATE: () => adjacent(this.LA(0), this.LA(1)) && this.LA(2).tokenType === T.Identifier && adjacent(this.LA(1), this.LA(2)),
    DEF: () => {
      this.CONSUME(T.Slash);
      this.CONSUME2(T.Identifier);
    },
  };

  /** `GB`, `us`, `GB/s`: the `/` part is written without spaces, so `a / b` stays a division. */
  unit = this.RULE("unit", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(this.unitPer);
  });

  private readonly elementSep = { SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) };

  listExpr = this.RULE("listExpr", () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP(this.elementSep);
    this.CONSUME(T.RBracket);
  });

  namedArg = this.RULE("namedArg", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
  });

  // ------------------------------------------------------------ meshes
  meshDecl = this.RULE("meshDecl", () => {
    this.CONSUME(T.Mesh);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.meshBody);
  });

  private readonly meshAlts = [
    { ALT: () => this.SUBRULE(this.deviceDecl) },
    { ALT: () => this.SUBRULE(this.linkDecl) },
    { ALT: () => this.SUBRULE(this.groupDecl) },
    { ALT: () => this.CONSUME(T.Semicolon) },
  ];
  private readonly meshItem = (): void => {
    this.OR(this.meshAlts);
  };

  meshBody = this.RULE("meshBody", () => {
    this.CONSUME(T.LBrace);
    this.MANY(this.meshItem);
    this.CONSUME(T.RBrace);
  });

  private readonly optAttrList = (): void => {
    this.SUBRULE(this.attrList);
  };
  private readonly deviceCount = {
    // `x` on the device's line: a group labelled `x` may start the next line.
    GATE: () => this.LA(1).image === "x" && this.sameLine(this.LA(0), this.LA(1)),
    DEF: () => {
      this.CONSUME2(T.Identifier);
      this.SUBRULE(this.expr);
    },
  };

  /** `device P100 x 4`, `device mygpu(flops = 10 TFLOP/s) x 2`; the `x` is an ordinary name. */
  deviceDecl = this.RULE("deviceDecl", () => {
    this.CONSUME(T.Device);
    this.CONSUME(T.Identifier);
    this.OPTION(this.optAttrList);
    this.OPTION2(this.deviceCount);
  });

  linkDecl = this.RULE("linkDecl", () => {
    this.CONSUME(T.Link);
    this.CONSUME(T.Identifier);
    this.OPTION(this.optAttrList);
  });

  /** `node x 4 { ... }`: LABEL, the name `x`, a count, a nested body. */
  groupDecl = this.RULE("groupDecl", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME2(T.Identifier);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.meshBody);
  });

  private readonly attrSep = { SEP: T.Comma, DEF: () => this.SUBRULE(this.namedArg) };

  attrList = this.RULE("attrList", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP(this.attrSep);
    this.CONSUME(T.RParen);
  });

  // ------------------------------------------------------------ strategies
  // Items are told apart by their second token: a rule's patterns are followed by `,`, `:`
  // or more pattern pieces, a strategy-wide setting line by `=`, the pipeline by `(`.
  private readonly strategyAlts = [
    { ALT: () => this.SUBRULE(this.rule) },
    { ALT: () => this.SUBRULE(this.strategySettings) },
    { ALT: () => this.SUBRULE(this.pipelineDecl) },
    { ALT: () => this.CONSUME(T.Semicolon) },
  ];
  private readonly strategyItem = (): void => {
    this.OR(this.strategyAlts);
  };

  strategyDecl = this.RULE("strategyDecl", () => {
    this.CONSUME(T.Strategy);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.For);
    this.CONSUME2(T.Identifier);
    this.CONSUME(T.On);
    this.CONSUME3(T.Identifier);
    this.CONSUME(T.LBrace);
    this.MANY(this.strategyItem);
    this.CONSUME(T.RBrace);
  });

  private readonly patternSep = { SEP: T.Comma, DEF: () => this.SUBRULE(this.pattern) };
  private readonly settingSep = { SEP: T.Comma, DEF: () => this.SUBRULE(this.setting) };

  rule = this.RULE("rule", () => {
    this.AT_LEAST_ONE_SEP(this.patternSep);
    this.CONSUME(T.Colon);
    this.AT_LEAST_ONE_SEP2(this.settingSep);
  });

  /** `replicas = 4, offset = 8`, `zero = 1`, `precision = bf16`: settings of the whole strategy. */
  strategySettings = this.RULE("strategySettings", () => {
    this.AT_LEAST_ONE_SEP(this.settingSep);
  });

  private readonly stageItemAlts = [{ ALT: () => this.SUBRULE(this.stageDecl) }, { ALT: () => this.CONSUME(T.Semicolon) }];
  private readonly stageItem = (): void => {
    this.OR(this.stageItemAlts);
  };
  private readonly pipelineBody = (): void => {
    this.CONSUME(T.LBrace);
    this.MANY(this.stageItem);
    this.CONSUME(T.RBrace);
  };

  /**
   * `pipeline(microbatches = 8, schedule = "1f1b", stages = 4)`, optionally with a body of
   * explicit stages. The name `pipeline` is not reserved: any name followed by `(` parses
   * here, and the AST builder accepts only `pipeline`.
   */
  pipelineDecl = this.RULE("pipelineDecl", () => {
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.attrList);
    this.OPTION(this.pipelineBody);
  });

  private readonly stageLast = (): void => {
    this.CONSUME(T.DotDot);
    this.SUBRULE2(this.pattern);
  };
  private readonly stageSettings = (): void => {
    this.CONSUME(T.Colon);
    this.AT_LEAST_ONE_SEP(this.settingSep);
  };

  /** `wte .. layer5.out : devices = 0..7`: a stage from its first to its last op (one op: just its name). */
  stageDecl = this.RULE("stageDecl", () => {
    this.SUBRULE(this.pattern);
    this.OPTION(this.stageLast);
    this.OPTION2(this.stageSettings);
  });

  private readonly settingRange = (): void => {
    this.CONSUME(T.DotDot);
    this.SUBRULE2(this.unary);
  };

  /**
   * A setting's value has no binary operators: the next rule may start with the glob `*`
   * on the next line, which must not read as a multiplication (`sample = 4` / `* : ...`).
   */
  setting = this.RULE("setting", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.unary);
    this.OPTION(this.settingRange);
  });

  private readonly morePieces = { GATE: () => adjacent(this.LA(0), this.LA(1)), DEF: () => this.SUBRULE2(this.patternPiece) };
  private readonly patternAlts = [
    { ALT: () => this.CONSUME(T.StringLiteral) },
    {
      ALT: () => {
        this.SUBRULE(this.patternPiece);
        this.MANY(this.morePieces);
      },
    },
  ];

  /** A quoted name, or glob pieces written without spaces between them (`layer*.attn.qkv`). */
  pattern = this.RULE("pattern", () => {
    this.OR(this.patternAlts);
  });

  private readonly pieceAlts = [
    { ALT: () => this.CONSUME(T.Identifier) },
    { ALT: () => this.CONSUME(T.IntLiteral) },
    { ALT: () => this.CONSUME(T.FloatLiteral) },
    { ALT: () => this.CONSUME(T.Star) },
    { ALT: () => this.CONSUME(T.Question) },
    { ALT: () => this.CONSUME(T.Dot) },
  ];

  patternPiece = this.RULE("patternPiece", () => {
    this.OR(this.pieceAlts);
  });
}

/** The one parser instance (construction runs the grammar analysis). */
export const parParser = new ParParser();

export type { CstNode };
