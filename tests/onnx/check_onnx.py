#!/usr/bin/env python3
"""Checks ONNX files exported by libnn with the onnx package's own checker (Debian:
python3-onnx): the full check, shape inference included, plus what libnn promises about its
files: IR version 7, operator set 13 of the default domain, only standard operators, one
input "input" and one output "output", both float (batch, n) with a free batch dimension.

usage: check_onnx.py FILE.onnx...   (exits non-zero on the first file that fails)"""
import sys

import onnx
from onnx import TensorProto, checker, shape_inference

STANDARD_OPS = {"Gemm", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "Elu", "PRelu"}


def shape_of(value):
    dims = value.type.tensor_type.shape.dim
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in dims]


def check(path):
    model = onnx.load(path)
    checker.check_model(model, full_check=True)
    assert model.ir_version == 7, f"ir_version {model.ir_version}"
    opsets = {o.domain: o.version for o in model.opset_import}
    assert opsets == {"": 13}, f"opset_import {opsets}"
    ops = [n.op_type for n in model.graph.node]
    assert set(ops) <= STANDARD_OPS and all(n.domain == "" for n in model.graph.node), ops
    g = model.graph
    assert [v.name for v in g.input] == ["input"], [v.name for v in g.input]
    assert [v.name for v in g.output] == ["output"], [v.name for v in g.output]
    for v in list(g.input) + list(g.output):
        assert v.type.tensor_type.elem_type == TensorProto.FLOAT
        shape = shape_of(v)
        assert len(shape) == 2 and shape[0] == "batch" and shape[1] > 0, shape
    # Shape inference must carry (batch, n_in) through every node to the declared output.
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    values = {v.name: shape_of(v) for v in inferred.graph.value_info}
    last = g.node[-1].output[0]
    assert last == "output", last
    for n in g.node[:-1]:
        assert values[n.output[0]][0] == "batch", (n.name, values[n.output[0]])
    print(f"{path}: ok (onnx {onnx.__version__} checker; {len(ops)} nodes: {' '.join(ops)})")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        check(p)
