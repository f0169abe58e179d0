"""Writing a trained macro-space network as a standalone PyTorch source file (torch and safetensors only)."""

from __future__ import annotations

import inspect
from typing import Any

from evoforge.spaces import InputSpec, deploy_of, deployed_genes, inference_precision, network_specs
from evoforge.spaces import _macro_layers as layers


def _layer_line(kind: str, args: tuple[Any, ...], shape: tuple[int, ...]) -> str:
    return f"        {kind}({', '.join(repr(a) for a in args)}),  # -> (N, {', '.join(map(str, shape))})"


def model_source(genes: dict[str, Any], inp: InputSpec, title: str) -> str:
    """Python source defining ``build_model()`` and ``load(weights_path)`` for this design."""
    features, head = network_specs(deployed_genes(genes), inp)  # pruned widths, if pruned
    deploy = deploy_of(genes)
    bf16 = inference_precision(genes) == "bf16"
    library = inspect.getsource(layers)
    body = library.split("from torch import nn\n", 1)[1]  # the layers, without the module's own imports
    lines = [
        f'"""{title}',
        "",
        "Standalone: needs only torch and safetensors. Input: raw (unnormalized) float32 tensors of shape",
        f"(N, {', '.join(map(str, inp.shape))}); output: (N, {inp.classes}) class logits.",
        "",
        "    model = load('weights.safetensors')",
        "    predictions = model(x).argmax(dim=1)",
        *(["", "It was trained and measured in bfloat16: load() wraps it to run under bf16 autocast."] if bf16 else []),
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import math",
        "import warnings",
        "",
        "import torch",
        "from torch import nn",
        "",
        "# How the model was measured and is meant to run: its efficiency genes.",
        f"DEPLOY = {deploy!r}",
        f"INFERENCE_PRECISION = {inference_precision(genes)!r}",
        body.rstrip(),
        "",
        "",
        "class Autocast(nn.Module):",
        '    """Runs the wrapped model under bfloat16 autocast, as it was measured."""',
        "",
        "    def __init__(self, model: nn.Module) -> None:",
        "        super().__init__()",
        "        self.model = model",
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        "        with torch.autocast(x.device.type, dtype=torch.bfloat16):",
        "            return self.model(x)",
        "",
        "",
        "def build_model() -> Network:",
        f"    normalize = Normalize({list(inp.mean)!r}, {list(inp.std)!r}, {inp.stats_shape()!r})",
        "    features = [",
        *[_layer_line(s.kind, s.args, s.out_shape) for s in features],
        "    ]",
        "    head = [",
        *[_layer_line(s.kind, s.args, s.out_shape) for s in head],
        "    ]",
        "    return Network(normalize, features, head)",
        "",
        "",
        "def load(weights_path: str) -> nn.Module:",
        '    """The trained model in eval mode, deployed as DEPLOY says (int8 dynamic quantization runs on CPU)."""',
        "    from safetensors.torch import load_file",
        "",
        "    model = build_model()",
        "    model.load_state_dict(load_file(weights_path))",
        "    model = model.eval()",
        '    if DEPLOY["channels_last"]:',
        "        model = model.to(memory_format=torch.channels_last)",
        '    if DEPLOY["quantize"] == "int8":',
        "        with warnings.catch_warnings():",
        '            warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao',
        "            model = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)",
        '    if INFERENCE_PRECISION == "bf16":',
        "        model = Autocast(model)",
        '    if DEPLOY["compile"]:',
        "        model = torch.compile(model)",
        "    return model",
        "",
    ]
    return "\n".join(lines)
