// Diagnostic codes of the model importers (ONNX, TensorFlow.js / Keras model.json).
import type { CodeTable } from "../core/codes.js";

export const IMPORT_CODES: CodeTable = {
  // Reading the file.
  PAR6001: { title: "model file exceeds the importer's size limit" },
  PAR6002: { title: "not a valid ONNX model (truncated or corrupt protobuf)" },
  PAR6003: { title: "ONNX model has no graph, or the graph has no outputs" },
  PAR6004: { title: "unsupported ONNX opset (par imports opsets 11 to 17)" },
  PAR6005: { title: "model has more nodes or layers than the importer's limit" },
  PAR6006: { title: "tensor too large: a dim above 2^31 or more than 2^34 elements" },
  PAR6007: { title: "tensor data of an unsupported type or not matching its dims; external data whose side file is missing (warning)" },
  PAR6008: { title: "external data cannot be read: side file missing when values are needed, too short, or outside the model's folder" },
  PAR6009: { title: "a --freeze glob matches no weight of the model" },
  // Graph structure.
  PAR6010: { title: "model uses operators par cannot import" },
  PAR6011: { title: "a node reads a tensor name that nothing produces (dangling name)" },
  PAR6012: { title: "the model's nodes form a cycle" },
  PAR6013: { title: "a tensor name is produced more than once" },
  // Shapes and operands.
  PAR6014: { title: "an input dim is symbolic or unknown and no --input/--batch binds it" },
  PAR6015: { title: "--input names no model input, or its shape contradicts the model" },
  PAR6016: { title: "operator attribute or operand form par cannot represent" },
  PAR6017: { title: "an operand that must be constant (a shape, axes, pads) does not fold to a constant" },
  PAR6018: { title: "Gather neither indexes an embedding table nor folds to a slice or a constant" },
  PAR6019: { title: "constant folding exceeded its element limit" },
  PAR6020: { title: "the par operator rejected the imported node (see the preceding diagnostic)" },
  PAR6021: { title: "cannot add a training loss to the imported graph" },
  PAR6022: { title: "a weight several nodes read is copied into par ops that hold their own weights (the copies train separately)" },
  // par forward: arrays and how they bind to a model's inputs.
  PAR6040: { title: "not a valid .npy file (bad magic, header or data length)" },
  PAR6041: { title: ".npy data par does not read: big-endian, Fortran order, or a dtype other than f4, f8, i4, i8, u1, b1" },
  PAR6042: { title: "an --input array names no model input, is given twice, or has no input left to bind to" },
  PAR6043: { title: "an --input array's dtype does not suit the model input (float vs integer, or integers beyond int32)" },
  PAR6044: { title: "an --input array's shape contradicts the model input's rank or fixed dims" },
  PAR6045: { title: "a model input has no --input array" },
  PAR6046: { title: "the --expect array's shape differs from the model's first output" },
  // Keras / TensorFlow.js LayersModel.
  PAR6030: { title: "not a valid TensorFlow.js LayersModel model.json" },
  PAR6031: { title: "a Keras layer's inbound node names no known layer" },
  PAR6032: { title: "weight shard missing, too short, or listing weights of unexpected shape" },
};
