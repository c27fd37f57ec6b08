#!/usr/bin/env python3
"""Generates the repo's small test models (KBs) and, with --large DIR, the benchmark models.

Small models are built node by node with onnx.helper so they are deterministic and tiny:
  mlp_classifier.onnx   x float32 [N,16]                 -> probs float32 [N,10]
  two_in_two_out.onnx   a, b float32 [N,8]               -> mix float32 [N,4], distance float32 [N,1]
  token_classifier.onnx ids int64 [N,16], mask int64 [N,16] -> logits float32 [N,3]   (non-float input)
  image_mean.onnx       input float32 [N,3,224,224]      -> mean float32 [N,3]
                        (ResNet-50-sized requests, 602,208 bytes, for almost no compute: a stand-in for
                        measuring Kafka and Flink with large records on a machine without a GPU)
  image_uint8.onnx      frames uint8 [N,224,224,3]       -> mean float32 [N,3]
                        (a camera frame as sent, 150,528 bytes, made float inside the model the way a torch
                        export of `frames.permute(0, 3, 1, 2).float() / 255` does: Transpose on uint8, then
                        Cast; TensorRT builds it only after build-engine's uint8 rewrite)
Large models (torch, random weights, not committed): resnet50.onnx (images), resnet50_uint8.onnx (the same
network taking uint8 NHWC frames, normalized inside) and bert_like.onnx (BERT-base-sized encoder,
sequence 128, int64 ids + mask).
With --strongly-typed too, their twins for build-engine --strongly-typed (each layer's type from the model):
  resnet50_fp16.onnx, bert_like_fp16.onnx  the same weights in float16 and float16 compute inside, the float
                        models' inputs (cast to float16 where they enter) and float32 logits, so that the float
                        models' requests and check-engine's comparison with them on ONNX Runtime apply as they are
  resnet50_qdq.onnx, bert_like_qdq.onnx    the float models with QuantizeLinear/DequantizeLinear pairs on the
                        convolutions' / matrix products' inputs and weights (onnxruntime.quantization, QDQ format,
                        symmetric INT8 as TensorRT takes it, calibrated on a few batches drawn as check-engine
                        draws its inputs); what lies between the pairs stays float32

Run on a host with onnx (and torch for --large, onnxruntime for --strongly-typed):
  python3 models/generate.py [--large DIR [--strongly-typed]]
"""
import argparse
import copy
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261124)


def weight(name, *shape):
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.3).astype(np.float32), name)


def save(graph, name):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="flink-tensorrt/models/generate.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(HERE, name)
    onnx.save(model, path)
    print(f"{path}: {os.path.getsize(path)} bytes")


def mlp_classifier():
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], transB=1),
             helper.make_node("Relu", ["h1"], ["r1"]),
             helper.make_node("Gemm", ["r1", "w2", "b2"], ["logits"], transB=1),
             helper.make_node("Softmax", ["logits"], ["probs"], axis=-1)]
    graph = helper.make_graph(
        nodes, "mlp_classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 10])],
        [weight("w1", 32, 16), weight("b1", 32), weight("w2", 10, 32), weight("b2", 10)])
    save(graph, "mlp_classifier.onnx")


def two_in_two_out():
    nodes = [helper.make_node("Concat", ["a", "b"], ["ab"], axis=1),
             helper.make_node("Gemm", ["ab", "w", "bias"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["mix"]),
             helper.make_node("Sub", ["a", "b"], ["d"]),
             helper.make_node("ReduceSumSquare", ["d"], ["distance"], axes=[1], keepdims=1)]
    graph = helper.make_graph(
        nodes, "two_in_two_out",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 8]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("mix", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("distance", TensorProto.FLOAT, ["N", 1])],
        [weight("w", 4, 16), weight("bias", 4)])
    save(graph, "two_in_two_out.onnx")


def token_classifier():
    nodes = [helper.make_node("Gather", ["embedding", "ids"], ["emb"], axis=0),       # [N,16,8]
             helper.make_node("Cast", ["mask"], ["maskf"], to=TensorProto.FLOAT),     # [N,16]
             helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),             # [N,16,1]
             helper.make_node("Mul", ["emb", "mask3"], ["masked"]),
             helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),  # [N,8]
             helper.make_node("ReduceSum", ["maskf", "axis1"], ["count"], keepdims=1),    # [N,1]
             helper.make_node("Max", ["count", "one"], ["safe_count"]),
             helper.make_node("Div", ["summed", "safe_count"], ["pooled"]),
             helper.make_node("Gemm", ["pooled", "w", "bias"], ["logits"], transB=1)]
    graph = helper.make_graph(
        nodes, "token_classifier",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 16]),
         helper.make_tensor_value_info("mask", TensorProto.INT64, ["N", 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        [weight("embedding", 100, 8), weight("w", 3, 8), weight("bias", 3),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
         numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
         numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")])
    save(graph, "token_classifier.onnx")


def image_mean():
    nodes = [helper.make_node("ReduceMean", ["input"], ["mean"], axes=[2, 3], keepdims=0)]
    graph = helper.make_graph(
        nodes, "image_mean",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["N", 3])])
    save(graph, "image_mean.onnx")


def image_uint8():
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)
    nodes = [helper.make_node("Transpose", ["frames"], ["/Transpose_output_0"], "/Transpose", perm=[0, 3, 1, 2]),
             helper.make_node("Cast", ["/Transpose_output_0"], ["/Cast_output_0"], "/Cast", to=TensorProto.FLOAT),
             helper.make_node("Div", ["/Cast_output_0", "scale"], ["/Div_output_0"], "/Div"),
             helper.make_node("Sub", ["/Div_output_0", "mean"], ["/Sub_output_0"], "/Sub"),
             helper.make_node("Div", ["/Sub_output_0", "std"], ["normalized"], "/Div_1"),
             helper.make_node("ReduceMean", ["normalized"], ["mean_rgb"], "/ReduceMean", axes=[2, 3], keepdims=0)]
    graph = helper.make_graph(
        nodes, "image_uint8",
        [helper.make_tensor_value_info("frames", TensorProto.UINT8, ["N", 224, 224, 3])],
        [helper.make_tensor_value_info("mean_rgb", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(np.array(255, dtype=np.float32), "scale"),
         numpy_helper.from_array(mean, "mean"), numpy_helper.from_array(std, "std")],
        # what a torch export records for the transposed frame: a uint8 intermediate, TensorRT's stumbling block
        value_info=[helper.make_tensor_value_info("/Transpose_output_0", TensorProto.UINT8, ["N", 3, 224, 224])])
    save(graph, "image_uint8.onnx")


def export(module, args, path, input_names, output_names):
    import torch
    dynamic = {n: {0: "N"} for n in input_names + output_names}
    try:  # the TorchScript exporter gives plain, TensorRT-friendly graphs
        torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)
    except Exception as e:  # newer torch: only the dynamo exporter is left
        print(f"TorchScript export failed ({e}); using dynamo")
        batch = torch.export.Dim("N", min=1, max=1024)
        torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                          dynamic_shapes=tuple({0: batch} for _ in input_names), opset_version=OPSET)
    print(f"{path}: {os.path.getsize(path)} bytes")


def large(out_dir):
    """Exports the models not yet in out_dir (an export takes a while; the weights are the same each time).
    Returns the torch ResNet-50 and BERT-like modules, for their strongly typed twins."""
    import torch
    import torchvision
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    resnet = torchvision.models.resnet50(weights=None).eval()
    example = torch.randn(2, 3, 224, 224)  # drawn even when not exported: the BERT-like weights stay the same
    if not os.path.exists(os.path.join(out_dir, "resnet50.onnx")):
        export(resnet, (example,), os.path.join(out_dir, "resnet50.onnx"), ["input"], ["logits"])

    class Uint8Frames(torch.nn.Module):
        """The same ResNet-50 taking camera frames as sent: uint8 NHWC, normalized inside the model."""
        def __init__(self, net):
            super().__init__()
            self.net = net
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

        def forward(self, frames):
            x = frames.permute(0, 3, 1, 2).float() / 255  # the usual way; TensorRT needs build-engine's uint8 rewrite
            return self.net((x - self.mean) / self.std)

    if not os.path.exists(os.path.join(out_dir, "resnet50_uint8.onnx")):
        with torch.no_grad():
            export(Uint8Frames(resnet).eval(), (torch.full((2, 224, 224, 3), 128, dtype=torch.uint8),),
                   os.path.join(out_dir, "resnet50_uint8.onnx"), ["frames"], ["logits"])
    class BertLike(torch.nn.Module):
        """BERT-base shape: 12 layers, hidden 768, 12 heads, vocab 30522, sequence 128."""
        def __init__(self):
            super().__init__()
            self.tok = torch.nn.Embedding(30522, 768)
            self.pos = torch.nn.Parameter(torch.randn(1, 128, 768) * 0.02)
            layer = torch.nn.TransformerEncoderLayer(768, 12, 3072, batch_first=True, activation="gelu")
            self.encoder = torch.nn.TransformerEncoder(layer, 12, enable_nested_tensor=False)
            self.head = torch.nn.Linear(768, 2)

        def forward(self, input_ids, attention_mask):
            h = self.tok(input_ids) + self.pos[:, :input_ids.shape[1]]
            h = self.encoder(h, src_key_padding_mask=attention_mask == 0)
            return self.head(h[:, 0])

    bert = BertLike().eval()
    ids = torch.randint(0, 30522, (2, 128), dtype=torch.int64)
    mask = torch.ones(2, 128, dtype=torch.int64)
    if not os.path.exists(os.path.join(out_dir, "bert_like.onnx")):
        with torch.no_grad():
            export(bert, (ids, mask), os.path.join(out_dir, "bert_like.onnx"),
                   ["input_ids", "attention_mask"], ["logits"])
    # the same weights with a dynamic sequence length (up to 128): build-engine --sequence-lengths
    path = os.path.join(out_dir, "bert_like_dynamic.onnx")
    if not os.path.exists(path):
        names = ["input_ids", "attention_mask"]
        with torch.no_grad():
            try:
                torch.onnx.export(bert, (ids, mask), path, input_names=names, output_names=["logits"],
                                  opset_version=OPSET, dynamo=False,
                                  dynamic_axes={"input_ids": {0: "N", 1: "S"}, "attention_mask": {0: "N", 1: "S"},
                                                "logits": {0: "N"}})
            except Exception as e:  # newer torch: only the dynamo exporter is left
                print(f"TorchScript export failed ({e}); using dynamo")
                batch = torch.export.Dim("N", min=1, max=1024)
                length = torch.export.Dim("S", min=2, max=128)
                torch.onnx.export(bert, (ids, mask), path, input_names=names, output_names=["logits"],
                                  dynamic_shapes=({0: batch, 1: length}, {0: batch, 1: length}),
                                  opset_version=OPSET)
        print(f"{path}: {os.path.getsize(path)} bytes")
    return resnet, bert


def strongly_typed(out_dir, resnet, bert):
    """FP16 and Q/DQ INT8 twins of resnet50.onnx and bert_like.onnx (see the top of this file)."""
    import torch

    class Float16Inside(torch.nn.Module):
        """The float model's weights in float16; float inputs cast to float16 where they enter, logits to float32."""
        def __init__(self, net):
            super().__init__()
            self.net = copy.deepcopy(net).half()

        def forward(self, *inputs):
            return self.net(*(x.half() if x.is_floating_point() else x for x in inputs)).float()

    # on the GPU where there is one: not every float16 kernel exists for the CPU
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if hasattr(torch.backends, "mha"):  # the traced graph, not the fused encoder kernel that ONNX has no op for
        torch.backends.mha.set_fastpath_enabled(False)
    rng = np.random.default_rng(24)
    images = [rng.uniform(-1, 1, (8, 3, 224, 224)).astype(np.float32) for _ in range(4)]
    texts = [{"input_ids": rng.integers(0, 100, (8, 128), dtype=np.int64),  # check-engine's ids and mask
              "attention_mask": rng.integers(0, 2, (8, 128), dtype=np.int64)} for _ in range(4)]
    path = os.path.join(out_dir, "resnet50_fp16.onnx")
    if not os.path.exists(path):
        with torch.no_grad():
            export(Float16Inside(resnet).to(device).eval(), (torch.from_numpy(images[0]).to(device),), path,
                   ["input"], ["logits"])
    path = os.path.join(out_dir, "bert_like_fp16.onnx")
    if not os.path.exists(path):
        with torch.no_grad():
            export(Float16Inside(bert).to(device).eval(),
                   tuple(torch.from_numpy(texts[0][n]).to(device) for n in ("input_ids", "attention_mask")), path,
                   ["input_ids", "attention_mask"], ["logits"])
    # TensorRT takes Conv weights quantized per output channel, MatMul's per tensor
    qdq(os.path.join(out_dir, "resnet50.onnx"), os.path.join(out_dir, "resnet50_qdq.onnx"),
        [{"input": batch} for batch in images], ["Conv"], per_channel=True)
    qdq(os.path.join(out_dir, "bert_like.onnx"), os.path.join(out_dir, "bert_like_qdq.onnx"), texts, ["MatMul"],
        per_channel=False)


def qdq(source, path, batches, op_types, per_channel):
    """source with symmetric INT8 QuantizeLinear/DequantizeLinear pairs on op_types, calibrated on batches."""
    if os.path.exists(path):
        return
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Batches(CalibrationDataReader):
        def __init__(self):
            self.left = iter(batches)

        def get_next(self):
            return next(self.left, None)

    quantize_static(source, path, Batches(), quant_format=QuantFormat.QDQ, op_types_to_quantize=op_types,
                    per_channel=per_channel, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})  # TensorRT: zero point 0
    print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", metavar="DIR", help="also export ResNet-50 and the BERT-like encoder to DIR")
    parser.add_argument("--strongly-typed", action="store_true",
                        help="with --large: also their FP16 and Q/DQ INT8 twins (needs onnxruntime)")
    options = parser.parse_args()
    if options.strongly_typed and not options.large:
        parser.error("--strongly-typed needs --large DIR")
    mlp_classifier()
    two_in_two_out()
    token_classifier()
    image_mean()
    image_uint8()
    if options.large:
        nets = large(options.large)
        if options.strongly_typed:
            strongly_typed(options.large, *nets)
