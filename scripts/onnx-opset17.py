#!/usr/bin/env python3
"""Writes src/frontend/onnx/opset17-ops.json: every operator of the ONNX default domain at
opset 17 (not deprecated there), with the opset version of its definition in force at 17.
docs/import.md's operator table is generated from this list and the importer's handlers
(test/frontend/onnx/op-table.test.ts, which also reruns this script, when onnx is
importable, to check that the list is what the installed onnx says). Run with Debian's
python3-onnx:
    /usr/bin/python3 scripts/onnx-opset17.py [OUT.json]
"""
import json
import os
import sys

import onnx
import onnx.defs

OPSET = 17
names = sorted({s.name for s in onnx.defs.get_all_schemas_with_history() if s.domain == ""})
ops = []
for name in names:
    try:
        schema = onnx.defs.get_schema(name, OPSET, "")
    except onnx.defs.SchemaError:
        continue  # introduced after opset 17
    if schema.deprecated:
        continue
    ops.append({"name": name, "since": schema.since_version})

out = {
    "provenance": {
        "source": f"onnx {onnx.__version__}: onnx.defs.get_schema(name, {OPSET}, '') for every default-domain name of onnx.defs.get_all_schemas_with_history(), deprecated ones left out",
        "generator": "scripts/onnx-opset17.py",
        "opset": OPSET,
    },
    "ops": ops,
}
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src", "frontend", "onnx", "opset17-ops.json")
with open(path, "w") as f:
    # One operator a line, so that a diff shows what an onnx upgrade changed.
    f.write('{\n "provenance": ' + json.dumps(out["provenance"]) + ',\n "ops": [\n')
    f.write(",\n".join("  " + json.dumps(op) for op in ops))
    f.write("\n ]\n}\n")
print(f"{len(ops)} operators → {os.path.normpath(path)}")
