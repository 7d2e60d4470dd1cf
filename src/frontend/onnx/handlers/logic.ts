// Comparisons, boolean logic, Where and Cast. ONNX BOOL tensors are par i32 tensors of 0
// and 1; any operand may be a constant (a mask folded from the model's buffers), which
// becomes a `constant` op (NodeContext.operand).

import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { isFloatDType, isIntDType, ONNX_DTYPE } from "../decode.js";
import { Unmappable } from "../errors.js";

/** An ONNX op that is exactly the par op `parOp` on all its inputs. */
const same =
  (parOp: string): OnnxOpHandler =>
  (cx) =>
    cx.out(cx.emit(parOp, {}, cx.node.inputs.map((_, i) => cx.operand(i))));

const isInf: OnnxOpHandler = (cx) =>
  cx.out(cx.emit("is_inf", { detect_positive: cx.attr.int("detect_positive", 1) !== 0, detect_negative: cx.attr.int("detect_negative", 1) !== 0 }, [cx.operand(0)]));

/** par's kind for an ONNX element type, or undefined (strings, complex). */
function kindOf(elemType: number): "float" | "int" | "bool" | undefined {
  if (elemType === ONNX_DTYPE.BOOL) return "bool";
  if (isFloatDType(elemType)) return "float";
  if (isIntDType(elemType)) return "int";
  return undefined;
}

/** Cast to `to`: nothing when the kind stays (par has one float and one integer type), else par's cast. */
function castTo(cx: Parameters<OnnxOpHandler>[0], to: number): boolean {
  const x = cx.operand(0);
  const kind = kindOf(to);
  if (!kind) throw new Unmappable("PAR6016", `Cast to data type ${to} (par has float, integer and bool tensors only)`);
  const isF = cx.type(x).dtype === "f32";
  if ((kind === "float" && isF) || (kind === "int" && !isF)) return cx.alias(x);
  return cx.out(cx.emit("cast", { to: kind }, [x]));
}

const cast: OnnxOpHandler = (cx) => castTo(cx, cx.attr.int("to", ONNX_DTYPE.FLOAT));

/** CastLike: Cast to the element type of the second input (par knows only its kind). */
const castLike: OnnxOpHandler = (cx) => {
  const like = cx.operand(1, "target_type");
  return castTo(cx, cx.type(like).dtype === "f32" ? ONNX_DTYPE.FLOAT : ONNX_DTYPE.INT32);
};

export const LOGIC_HANDLERS: HandlerTable = {
  Equal: { map: same("equal"), par: "`equal` (i32 0/1)" },
  Less: { map: same("less"), par: "`less`" },
  LessOrEqual: { map: same("less_equal"), par: "`less_equal`" },
  Greater: { map: same("greater"), par: "`greater`" },
  GreaterOrEqual: { map: same("greater_equal"), par: "`greater_equal`" },
  And: { map: same("logical_and"), par: "`logical_and`" },
  Or: { map: same("logical_or"), par: "`logical_or`" },
  Xor: { map: same("logical_xor"), par: "`logical_xor`" },
  Not: { map: same("logical_not"), par: "`logical_not`" },
  IsNaN: { map: same("is_nan"), par: "`is_nan`" },
  IsInf: { map: isInf, par: "`is_inf` (detect_positive, detect_negative)" },
  Where: { map: same("where"), par: "`where` (a constant condition or operand becomes a `constant`)" },
  Cast: { map: cast, par: "alias when the kind stays (float → float, integer → integer); `cast` to float, int or bool (i32 0/1); strings are PAR6016" },
  CastLike: { map: castLike, par: "as Cast, to the kind of the second input" },
};
