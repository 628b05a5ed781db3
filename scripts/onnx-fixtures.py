# Writes the ONNX import fixtures in test/fixtures/onnx/ with the onnx package's own helpers (an
# encoder independent of kiln's), each checked by onnx.checker, and their reference outputs
# computed here in float64 numpy (independent of kiln and of ONNX Runtime).
#   mlp-gemm.onnx    the conventions of PyTorch's exporter for nn.Sequential(Linear, ReLU, Linear,
#                    GELU, Linear): Gemm with transB=1 and '<module>.weight' names, '/fc1/Gemm'
#                    node names, GELU as Div → Erf → Add → Mul → Mul with Constant nodes, a
#                    symbolic 'batch_size', raw logits out (softmax left to the loss), opset 17
#   mlp-matmul.onnx  the conventions of TensorFlow/Keras converters: Sub/Div standardisation,
#                    MatMul + Add with W [inputs, units], float16 weights cast to float32,
#                    Flatten, Identity, Dropout, Tanh, LeakyRelu, Sigmoid and Softmax, opset 13
# Run: python3 scripts/onnx-fixtures.py   (needs python3-onnx and python3-numpy)
import json
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'onnx')
rng = np.random.default_rng(20261203)


def linear(n_in, n_out):
    bound = 1 / math.sqrt(n_in)  # nn.Linear's default init range
    return rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32), rng.uniform(-bound, bound, n_out).astype(np.float32)


def erf(x):
    return np.vectorize(math.erf)(x)


def save(name, model, rows, outputs, note):
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, os.path.join(OUT, f'{name}.onnx'))
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump({'note': note, 'inputs': int(rows.shape[1]), 'rows': rows.astype(np.float32).tolist(), 'outputs': outputs.tolist()}, f)


def gemm_fixture():
    w1, b1 = linear(6, 16)
    w2, b2 = linear(16, 12)
    w3, b3 = linear(12, 3)
    inits = [numpy_helper.from_array(a, n) for a, n in [(w1, 'fc1.weight'), (b1, 'fc1.bias'), (w2, 'fc2.weight'), (b2, 'fc2.bias'), (w3, 'fc3.weight'), (b3, 'fc3.bias')]]

    def const(name, value):
        return helper.make_node('Constant', [], [name], name=name, value=numpy_helper.from_array(np.array(value, dtype=np.float32)))

    nodes = [
        helper.make_node('Gemm', ['input', 'fc1.weight', 'fc1.bias'], ['/fc1/Gemm_output_0'], name='/fc1/Gemm', alpha=1.0, beta=1.0, transB=1),
        helper.make_node('Relu', ['/fc1/Gemm_output_0'], ['/act1/Relu_output_0'], name='/act1/Relu'),
        helper.make_node('Gemm', ['/act1/Relu_output_0', 'fc2.weight', 'fc2.bias'], ['/fc2/Gemm_output_0'], name='/fc2/Gemm', alpha=1.0, beta=1.0, transB=1),
        const('/act2/Constant_output_0', 1.4142135381698608),
        helper.make_node('Div', ['/fc2/Gemm_output_0', '/act2/Constant_output_0'], ['/act2/Div_output_0'], name='/act2/Div'),
        helper.make_node('Erf', ['/act2/Div_output_0'], ['/act2/Erf_output_0'], name='/act2/Erf'),
        const('/act2/Constant_1_output_0', 1.0),
        helper.make_node('Add', ['/act2/Erf_output_0', '/act2/Constant_1_output_0'], ['/act2/Add_output_0'], name='/act2/Add'),
        helper.make_node('Mul', ['/fc2/Gemm_output_0', '/act2/Add_output_0'], ['/act2/Mul_output_0'], name='/act2/Mul'),
        const('/act2/Constant_2_output_0', 0.5),
        helper.make_node('Mul', ['/act2/Mul_output_0', '/act2/Constant_2_output_0'], ['/act2/Mul_1_output_0'], name='/act2/Mul_1'),
        helper.make_node('Gemm', ['/act2/Mul_1_output_0', 'fc3.weight', 'fc3.bias'], ['logits'], name='/fc3/Gemm', alpha=1.0, beta=1.0, transB=1),
    ]
    graph = helper.make_graph(nodes, 'main_graph', [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['batch_size', 6])],
                              [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch_size', 3])], inits)
    model = helper.make_model(graph, producer_name='onnx.helper (PyTorch exporter conventions)', opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    rows = rng.normal(0, 2, (40, 6)).astype(np.float32)
    x = rows.astype(np.float64)
    h = np.maximum(x @ w1.T.astype(np.float64) + b1, 0)
    h = h @ w2.T.astype(np.float64) + b2
    h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
    logits = h @ w3.T.astype(np.float64) + b3
    save('mlp-gemm', model, rows, logits, 'outputs: raw logits (float64 reference)')


def matmul_fixture():
    mean = rng.normal(3, 1, 5).astype(np.float32)
    std = rng.uniform(0.5, 2, 5).astype(np.float32)
    w1, b1 = linear(5, 10)
    w2, b2 = linear(10, 8)
    w3, b3 = linear(8, 4)
    w1h = w1.T.astype(np.float16)  # [inputs, units] in float16
    inits = [
        numpy_helper.from_array(mean, 'scaler_mean'), numpy_helper.from_array(std, 'scaler_std'),
        numpy_helper.from_array(w1h, 'dense/kernel_fp16'), numpy_helper.from_array(b1, 'dense/bias'),
        numpy_helper.from_array(w2.T.copy(), 'dense_1/kernel'), numpy_helper.from_array(b2, 'dense_1/bias'),
        numpy_helper.from_array(w3.T.copy(), 'dense_2/kernel'), numpy_helper.from_array(b3, 'dense_2/bias'),
    ]
    nodes = [
        helper.make_node('Flatten', ['features'], ['flat'], name='flatten', axis=1),
        helper.make_node('Sub', ['flat', 'scaler_mean'], ['centred'], name='scaler/sub'),
        helper.make_node('Div', ['centred', 'scaler_std'], ['scaled'], name='scaler/div'),
        helper.make_node('Cast', ['dense/kernel_fp16'], ['dense/kernel'], name='dense/cast', to=TensorProto.FLOAT),
        helper.make_node('MatMul', ['scaled', 'dense/kernel'], ['dense/mm'], name='dense/MatMul'),
        helper.make_node('Add', ['dense/mm', 'dense/bias'], ['dense/out'], name='dense/BiasAdd'),
        helper.make_node('Tanh', ['dense/out'], ['dense/act'], name='dense/Tanh'),
        helper.make_node('Dropout', ['dense/act'], ['dropout/out'], name='dropout'),
        helper.make_node('MatMul', ['dropout/out', 'dense_1/kernel'], ['dense_1/mm'], name='dense_1/MatMul'),
        helper.make_node('Add', ['dense_1/mm', 'dense_1/bias'], ['dense_1/out'], name='dense_1/BiasAdd'),
        helper.make_node('LeakyRelu', ['dense_1/out'], ['dense_1/act'], name='dense_1/LeakyRelu', alpha=0.1),
        helper.make_node('Identity', ['dense_1/act'], ['id'], name='identity'),
        helper.make_node('MatMul', ['id', 'dense_2/kernel'], ['dense_2/mm'], name='dense_2/MatMul'),
        helper.make_node('Add', ['dense_2/mm', 'dense_2/bias'], ['dense_2/out'], name='dense_2/BiasAdd'),
        helper.make_node('Softmax', ['dense_2/out'], ['probabilities'], name='softmax', axis=-1),
    ]
    graph = helper.make_graph(nodes, 'keras_mlp', [helper.make_tensor_value_info('features', TensorProto.FLOAT, ['N', 5])],
                              [helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, ['N', 4])], inits)
    model = helper.make_model(graph, producer_name='onnx.helper (Keras converter conventions)', opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 7
    rows = rng.normal(3, 2, (40, 5)).astype(np.float32)
    x = (rows.astype(np.float64) - mean) / std
    h = np.tanh(x @ w1h.astype(np.float64) + b1)
    h = h @ w2.T.astype(np.float64) + b2
    h = np.where(h >= 0, h, 0.1 * h)
    z = h @ w3.T.astype(np.float64) + b3
    e = np.exp(z - z.max(axis=1, keepdims=True))
    save('mlp-matmul', model, rows, e / e.sum(axis=1, keepdims=True), 'outputs: softmax probabilities (float64 reference)')


os.makedirs(OUT, exist_ok=True)
gemm_fixture()
matmul_fixture()
print('wrote', sorted(os.listdir(OUT)))
