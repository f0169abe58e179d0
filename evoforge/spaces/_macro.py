from __future__ import annotations

import copy
import math
import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evoforge.design import Design
from evoforge.spaces._base import Space
from evoforge.spaces._input import InputSpec
from evoforge.spaces._macro_ops import FLAT_AUGMENTS, OPERATORS, TYPICAL_LR

BlockType = Literal["conv", "dsconv", "residual", "pool"]

# Efficiency genes: how the trained model is run. A design without a ``deploy`` section runs with these.
DEPLOY_DEFAULTS: dict[str, Any] = {
    "precision": "fp32",
    "channels_last": False,
    "compile": False,
    "quantize": "none",
    "prune": 0.0,
}
# The space option that lists each efficiency gene's choices.
DEPLOY_OPTIONS = {
    "precision": "precisions",
    "channels_last": "channels_last",
    "compile": "compile",
    "quantize": "quantize",
    "prune": "prune",
}


def deploy_of(genes: dict[str, Any]) -> dict[str, Any]:
    """A design's efficiency genes, defaults filled in."""
    return {**DEPLOY_DEFAULTS, **genes.get("deploy", {})}


def inference_precision(genes: dict[str, Any]) -> str:
    """The precision the deployed model runs in: the design's, except that int8 layers take float32 activations."""
    deploy = deploy_of(genes)
    return "fp32" if deploy["quantize"] == "int8" else str(deploy["precision"])


def pruned_width(width: int, fraction: float) -> int:
    return max(1, round(width * (1 - fraction)))


def deployed_genes(genes: dict[str, Any]) -> dict[str, Any]:
    """The genes of the network as deployed: with ``deploy.prune`` > 0, every block's width and every dense
    layer's units cut by that fraction (structured pruning after training); otherwise the genes themselves."""
    fraction = deploy_of(genes)["prune"]
    if not fraction:
        return genes
    g = copy.deepcopy(genes)
    for block in g["arch"]["blocks"]:
        if block["type"] != "pool":
            block["width"] = pruned_width(block["width"], fraction)
    g["arch"]["hidden"] = [pruned_width(h, fraction) for h in g["arch"]["hidden"]]
    return g


class MacroOptions(BaseModel):
    """The goal's ``space:`` section for macro-architecture tasks: what the search may build."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    block_types: list[BlockType] = ["conv", "dsconv", "residual", "pool"]
    max_blocks: int = Field(6, ge=0, le=32)
    widths: list[int] = [8, 16, 24, 32, 48, 64, 96, 128]
    kernels: list[int] = [3, 5]
    max_hidden: int = Field(3, ge=0, le=8)
    hidden_widths: list[int] = [16, 32, 64, 128, 256]
    activations: list[Literal["relu", "gelu", "silu", "tanh", "leaky_relu"]] = [
        "relu",
        "gelu",
        "silu",
        "tanh",
    ]
    norms: list[Literal["none", "batch", "group"]] = ["none", "batch", "group"]
    optimizers: list[Literal["sgd", "adamw"]] = ["sgd", "adamw"]
    schedules: list[Literal["constant", "cosine", "onecycle"]] = ["constant", "cosine", "onecycle"]
    # ``flip`` and ``crop`` suit photos, and the images task offers them; this default stays what stored studies
    # sampled from.
    augments: list[Literal["none", "shift", "noise", "flip", "crop"]] = ["none", "shift", "noise"]
    batch_sizes: list[int] = [16, 32, 64, 128, 256]
    lr: tuple[float, float] = (1e-4, 1.0)
    epochs: tuple[int, int] = (2, 40)
    weight_decay: tuple[float, float] = (0.0, 0.1)
    max_dropout: float = Field(0.5, ge=0.0, lt=1.0)
    max_label_smoothing: float = Field(0.2, ge=0.0, lt=1.0)
    # Efficiency genes (searched only when given more than the default): bf16 autocast in training and inference,
    # channels-last memory format, torch.compile of the inference model, dynamic int8 quantization (CPU).
    precisions: list[Literal["fp32", "bf16"]] = ["fp32"]
    channels_last: list[bool] = [False]
    compile: list[bool] = [False]
    quantize: list[Literal["none", "int8"]] = ["none"]
    # Structured channel pruning after training (fraction of channels and units removed), then short fine-tuning.
    prune: list[float] = [0.0]
    # Train on this fraction of the training split (a fixed subset): a cheaper recipe, judged by its results.
    data_fractions: list[float] = [1.0]

    @property
    def searches_deploy(self) -> bool:
        return any(getattr(self, option) != [DEPLOY_DEFAULTS[gene]] for gene, option in DEPLOY_OPTIONS.items())

    @model_validator(mode="after")
    def _check(self) -> MacroOptions:
        for name in (
            "widths",
            "kernels",
            "hidden_widths",
            "activations",
            "norms",
            "optimizers",
            "schedules",
            "augments",
            "batch_sizes",
            *DEPLOY_OPTIONS.values(),
            "data_fractions",
        ):
            if not getattr(self, name):
                raise ValueError(f"{name}: must list at least one choice")
        if any(k % 2 == 0 or k < 1 for k in self.kernels):
            raise ValueError("kernels: each must be an odd positive integer")
        if any(not 0 <= f <= 0.9 for f in self.prune):
            raise ValueError("prune: each fraction must lie in [0, 0.9]")
        if any(not 0 < f <= 1 for f in self.data_fractions):
            raise ValueError("data_fractions: each must lie in (0, 1]")
        if any(w < 1 for w in self.widths + self.hidden_widths + self.batch_sizes):
            raise ValueError("widths, hidden_widths and batch_sizes must be positive")
        for name in ("lr", "epochs", "weight_decay"):
            low, high = getattr(self, name)
            if not 0 <= low <= high or (name != "weight_decay" and low <= 0):
                raise ValueError(f"{name}: expected [low, high] with 0 < low <= high")
        return self


class MacroSpace(Space):
    """Feed-forward networks built from blocks, plus the recipe that trains them.

    Genes: ``arch`` = {blocks: [{type, width, kernel} | {type: pool, op}], norm, activation, dropout, pooling,
    hidden: [widths]} and ``recipe`` = {optimizer, lr, momentum, weight_decay, schedule, batch_size, epochs,
    label_smoothing, augment[, data_fraction]}, plus ``deploy`` = {precision, channels_last, compile, quantize,
    prune} when the options search efficiency genes. Flat inputs get dense-only networks (no blocks).
    """

    name = "macro"
    operators = OPERATORS

    def __init__(self, inp: InputSpec, options: MacroOptions | None = None) -> None:
        self.inp = inp
        self.options = options or MacroOptions()
        if not inp.is_image:
            # A flat vector has no spatial structure for convolutions or pooling.
            self.options = self.options.model_copy(update={"block_types": [], "max_blocks": 0})

    # -- sampling ------------------------------------------------------------------------------------------------
    def sample(self, rng: random.Random) -> Design:
        for _ in range(1000):
            genes = {"arch": self._sample_arch(rng), "recipe": self._sample_recipe(rng)}
            if self.options.searches_deploy:
                genes["deploy"] = {g: rng.choice(getattr(self.options, o)) for g, o in DEPLOY_OPTIONS.items()}
            design = Design.make(self.name, genes)
            if self._is_valid(design):
                return design
        raise ValueError("could not sample a valid design: the space options leave no room")

    def random_block(self, rng: random.Random) -> dict[str, Any]:
        kind = rng.choice(self.options.block_types)
        if kind == "pool":
            return {"type": "pool", "op": rng.choice(["max", "avg"])}
        return {
            "type": kind,
            "width": rng.choice(self.options.widths),
            "kernel": rng.choice(self.options.kernels),
        }

    def _sample_arch(self, rng: random.Random) -> dict[str, Any]:
        o = self.options
        n_blocks = rng.randint(0, min(4, o.max_blocks)) if o.block_types else 0
        return {
            "blocks": [self.random_block(rng) for _ in range(n_blocks)],
            "norm": rng.choice(o.norms),
            "activation": rng.choice(o.activations),
            "dropout": rng.choice([d for d in (0.0, 0.1, 0.2, 0.3) if d <= o.max_dropout]),
            "pooling": rng.choice(["flatten", "avg"]),
            "hidden": [rng.choice(o.hidden_widths) for _ in range(rng.randint(0, min(2, o.max_hidden)))],
        }

    def _sample_recipe(self, rng: random.Random) -> dict[str, Any]:
        o = self.options
        optimizer = rng.choice(o.optimizers)
        center = TYPICAL_LR[optimizer]  # sample log-uniformly around a usually good rate
        lr = min(max(center * math.exp(rng.uniform(-2.0, 2.0)), o.lr[0]), o.lr[1])
        return {
            "optimizer": optimizer,
            "lr": round_sig(lr),
            "momentum": 0.9,
            "weight_decay": min(max(rng.choice([0.0, 1e-4, 5e-4, 1e-3, 1e-2]), o.weight_decay[0]), o.weight_decay[1]),
            "schedule": rng.choice(o.schedules),
            "batch_size": rng.choice(o.batch_sizes),
            "epochs": rng.randint(o.epochs[0], max(o.epochs[0], min(o.epochs[1], 20))),
            "label_smoothing": rng.choice([s for s in (0.0, 0.05, 0.1) if s <= o.max_label_smoothing]),
            "augment": rng.choice(o.augments),
            **({"data_fraction": rng.choice(o.data_fractions)} if o.data_fractions != [1.0] else {}),
        }

    # -- validity --------------------------------------------------------------------------------------------------
    def validate(self, design: Design) -> None:
        if design.space != self.name:
            raise ValueError(f"design belongs to space {design.space!r}, not {self.name!r}")
        genes = design.genes
        try:
            self._validate_arch(genes["arch"])
            self._validate_recipe(genes["recipe"])
            self._validate_deploy(genes)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed macro design: missing or mistyped gene {exc}") from exc

    def _validate_arch(self, arch: dict[str, Any]) -> None:
        o = self.options
        blocks = arch["blocks"]
        if len(blocks) > o.max_blocks:
            raise ValueError(f"arch.blocks: {len(blocks)} blocks, at most {o.max_blocks} allowed")
        size = min(self.inp.shape[1:]) if self.inp.is_image else 0
        for i, block in enumerate(blocks):
            if block["type"] not in o.block_types:
                raise ValueError(f"arch.blocks[{i}]: type {block['type']!r} not allowed here")
            if block["type"] == "pool":
                size //= 2
                if size < 1 or block["op"] not in ("max", "avg"):
                    raise ValueError(f"arch.blocks[{i}]: pooling below 1x1 or unknown op")
            elif block["width"] not in o.widths or block["kernel"] not in o.kernels:
                raise ValueError(f"arch.blocks[{i}]: width or kernel outside the space")
        checks = {
            "norm": arch["norm"] in o.norms,
            "activation": arch["activation"] in o.activations,
            "dropout": 0.0 <= arch["dropout"] <= o.max_dropout,
            "pooling": arch["pooling"] in ("flatten", "avg"),
            "hidden": len(arch["hidden"]) <= o.max_hidden and all(h in o.hidden_widths for h in arch["hidden"]),
        }
        _raise_first_failed("arch", checks)

    def _validate_recipe(self, r: dict[str, Any]) -> None:
        o = self.options
        checks = {
            "optimizer": r["optimizer"] in o.optimizers,
            "lr": o.lr[0] <= r["lr"] <= o.lr[1],
            "momentum": 0.0 <= r["momentum"] < 1.0,
            "weight_decay": o.weight_decay[0] <= r["weight_decay"] <= o.weight_decay[1],
            "schedule": r["schedule"] in o.schedules,
            "batch_size": r["batch_size"] in o.batch_sizes,
            "epochs": isinstance(r["epochs"], int) and o.epochs[0] <= r["epochs"] <= o.epochs[1],
            "label_smoothing": 0.0 <= r["label_smoothing"] <= o.max_label_smoothing,
            "augment": r["augment"] in o.augments and (self.inp.is_image or r["augment"] in FLAT_AUGMENTS),
            "data_fraction": r.get("data_fraction", 1.0) in o.data_fractions,
        }
        _raise_first_failed("recipe", checks)

    def _validate_deploy(self, genes: dict[str, Any]) -> None:
        extra = set(genes.get("deploy", {})) - set(DEPLOY_DEFAULTS)
        if extra:
            raise ValueError(f"deploy.{sorted(extra)[0]}: unknown efficiency gene")
        deploy = deploy_of(genes)
        checks = {gene: deploy[gene] in getattr(self.options, option) for gene, option in DEPLOY_OPTIONS.items()}
        checks["channels_last"] = checks["channels_last"] and (self.inp.is_image or not deploy["channels_last"])
        _raise_first_failed("deploy", checks)

    # -- measurements known before training -------------------------------------------------------------------
    def static_metrics(self, design: Design, batch: int = 1) -> dict[str, float]:
        """``params`` (count), ``flops`` (forward pass, per sample) and a lower bound of ``peak_memory_mb`` for
        inference over ``batch`` inputs (weights at 1 byte each if int8-quantized, else 4; the float32 input; the
        largest input + output pair of any one layer, which must be alive together, at 2 bytes a value under bf16,
        else 4), from one pass over a zero input."""
        import torch
        from torch.utils.flop_counter import FlopCounterMode

        from evoforge.spaces._macro_build import build_network

        model = build_network(deployed_genes(design.genes), self.inp).eval()
        params = sum(p.numel() for p in model.parameters())
        pairs: list[int] = []
        hooks = [
            m.register_forward_hook(lambda _, i, o: pairs.append(i[0].numel() + o.numel()))
            for m in model.modules()
            if not list(m.children())
        ]
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(torch.zeros((1, *self.inp.shape)))
        for h in hooks:
            h.remove()
        deploy = deploy_of(design.genes)
        weight_bytes = 1 if deploy["quantize"] == "int8" else 4
        value_bytes = 2 if inference_precision(design.genes) == "bf16" else 4
        x = math.prod(self.inp.shape)
        largest_pair = max(max(pairs, default=0) - x, 0)  # the input itself is counted once, below
        floor = weight_bytes * params + 4 * batch * x + value_bytes * batch * largest_pair
        floor_mb = floor / 2**20
        return {"params": float(params), "flops": float(counter.get_total_flops()), "peak_memory_mb": floor_mb}

    def canonical(self, design: Design) -> str:
        """Genes with every value that cannot change the trained model dropped or made explicit: SGD momentum under
        another optimizer, the default deployment settings, and training on the whole split."""
        g = design.genes
        if g["recipe"]["optimizer"] != "sgd":
            g["recipe"].pop("momentum", None)
        if g["recipe"].get("data_fraction") == 1.0:
            del g["recipe"]["data_fraction"]
        g["deploy"] = deploy_of(g)
        return Design.make(self.name, g).hash

    def features(self, design: Design) -> list[float]:
        """A fixed-length numeric encoding for learned predictors: per block slot a one-hot type (or absent) with
        log-width and kernel, then one-hot categories and numbers scaled to about [0, 1] for everything else."""
        o, g = self.options, design.genes
        arch, recipe, deploy = g["arch"], g["recipe"], deploy_of(g)

        def onehot(value: object, choices: list) -> list[float]:
            return [1.0 if value == c else 0.0 for c in choices]

        def scaled(value: float, low: float, high: float, log: bool = False) -> float:
            if log:
                value, low, high = (math.log(max(v, 1e-12)) for v in (value, low, high))
            return 0.0 if high <= low else (value - low) / (high - low)

        out: list[float] = []
        widths = (min(o.widths), max(o.widths))
        for i in range(o.max_blocks):
            block = arch["blocks"][i] if i < len(arch["blocks"]) else None
            out += onehot(block and block["type"], list(o.block_types))
            if block is None or block["type"] == "pool":
                out += [0.0, 0.0, 1.0 if block and block["op"] == "max" else 0.0]
            else:
                out += [scaled(block["width"], *widths, log=True), scaled(block["kernel"], 1, max(o.kernels)), 0.0]
        out.append(scaled(len(arch["blocks"]), 0, max(o.max_blocks, 1)))
        out += onehot(arch["norm"], list(o.norms)) + onehot(arch["activation"], list(o.activations))
        out += onehot(arch["pooling"], ["flatten", "avg"]) + [arch["dropout"]]
        hidden = (min(o.hidden_widths), max(o.hidden_widths))
        out.append(scaled(len(arch["hidden"]), 0, max(o.max_hidden, 1)))
        out += [
            scaled(arch["hidden"][i], *hidden, log=True) if i < len(arch["hidden"]) else 0.0
            for i in range(o.max_hidden)
        ]
        out += onehot(recipe["optimizer"], list(o.optimizers)) + onehot(recipe["schedule"], list(o.schedules))
        out += [
            scaled(recipe["lr"], *o.lr, log=True),
            recipe["momentum"] if recipe["optimizer"] == "sgd" else 0.0,
            scaled(recipe["weight_decay"] + 1e-5, o.weight_decay[0] + 1e-5, o.weight_decay[1] + 1e-5, log=True),
            scaled(recipe["batch_size"], min(o.batch_sizes), max(o.batch_sizes), log=True),
            scaled(recipe["epochs"], *o.epochs),
            recipe["label_smoothing"],
            recipe.get("data_fraction", 1.0),
        ]
        out += onehot(recipe["augment"], list(o.augments))
        out += onehot(deploy["precision"], ["fp32", "bf16"]) + onehot(deploy["quantize"], ["none", "int8"])
        out += [float(deploy["channels_last"]), float(deploy["compile"]), deploy["prune"]]
        return out

    def smallest(self) -> Design:
        o = self.options
        genes = {
            "arch": {
                "blocks": [],
                "norm": o.norms[0],
                "activation": o.activations[0],
                "dropout": 0.0,
                "pooling": "avg" if self.inp.is_image else "flatten",
                "hidden": [],
            },
            "recipe": self._sample_recipe(random.Random(0)),
        }
        return Design.make(self.name, genes)

    def largest(self) -> Design:
        o = self.options
        kind = next((k for k in ("residual", "conv", "dsconv") if k in o.block_types), None)
        blocks = [{"type": kind, "width": max(o.widths), "kernel": max(o.kernels)}] * o.max_blocks if kind else []
        genes = {
            "arch": {
                "blocks": blocks,
                "norm": "batch" if "batch" in o.norms else o.norms[0],
                "activation": o.activations[0],
                "dropout": 0.0,
                "pooling": "flatten",
                "hidden": [max(o.hidden_widths)] * o.max_hidden,
            },
            "recipe": self._sample_recipe(random.Random(0)),
        }
        return Design.make(self.name, genes)


def _raise_first_failed(prefix: str, checks: dict[str, bool]) -> None:
    for name, ok in checks.items():
        if not ok:
            raise ValueError(f"{prefix}.{name}: value outside the space")


def round_sig(x: float, digits: int = 3) -> float:
    """Round to a few significant digits so learning rates read well in diffs and lineage."""
    return float(f"{x:.{digits}g}")
