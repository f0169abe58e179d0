"""Named mutation operators of the macro space. Each takes a copy of the parent's genes and returns the child's
genes with a one-line rationale, or None when it does not apply to this parent."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from evoforge.design import describe

if TYPE_CHECKING:
    pass

Genes = dict[str, Any]
TYPICAL_LR = {"sgd": 0.05, "adamw": 0.002}  # rates that usually train small networks well


def _step(choices: list[Any], current: Any, direction: int) -> Any | None:
    ordered = sorted(choices)
    bigger = [c for c in ordered if c > current]
    smaller = [c for c in ordered if c < current]
    if direction > 0:
        return bigger[0] if bigger else None
    return smaller[-1] if smaller else None


def add_block(g: Genes, rng: random.Random, space: Any) -> Any:
    blocks = g["arch"]["blocks"]
    if not space.options.block_types or len(blocks) >= space.options.max_blocks:
        return None
    block = space.random_block(rng)
    at = rng.randint(0, len(blocks))
    blocks.insert(at, block)
    return g, f"insert {describe(block)} at position {at} to add capacity"


def remove_block(g: Genes, rng: random.Random, space: Any) -> Any:
    blocks = g["arch"]["blocks"]
    if not blocks:
        return None
    at = rng.randrange(len(blocks))
    removed = blocks.pop(at)
    return g, f"remove {describe(removed)} at position {at}: a smaller, faster network"


def swap_block_type(g: Genes, rng: random.Random, space: Any) -> Any:
    convs = [i for i, b in enumerate(g["arch"]["blocks"]) if b["type"] != "pool"]
    kinds = [k for k in space.options.block_types if k != "pool"]
    if not convs or len(kinds) < 2:
        return None
    block = g["arch"]["blocks"][rng.choice(convs)]
    old = block["type"]
    block["type"] = rng.choice([k for k in kinds if k != old])
    return g, f"turn a {old} block into a {block['type']} block"


def _resize(g: Genes, rng: random.Random, space: Any, direction: int) -> Any:
    sites: list[tuple[str, int]] = [("block", i) for i, b in enumerate(g["arch"]["blocks"]) if b["type"] != "pool"]
    sites += [("hidden", i) for i in range(len(g["arch"]["hidden"]))]
    rng.shuffle(sites)
    verb = "widen" if direction > 0 else "narrow"
    for kind, i in sites:
        if kind == "block":
            block = g["arch"]["blocks"][i]
            new = _step(space.options.widths, block["width"], direction)
            if new is not None:
                old, block["width"] = block["width"], new
                return g, f"{verb} block {i} from {old} to {new} channels"
        else:
            new = _step(space.options.hidden_widths, g["arch"]["hidden"][i], direction)
            if new is not None:
                old, g["arch"]["hidden"][i] = g["arch"]["hidden"][i], new
                return g, f"{verb} dense layer {i} from {old} to {new} units"
    return None


def widen(g: Genes, rng: random.Random, space: Any) -> Any:
    return _resize(g, rng, space, +1)


def narrow(g: Genes, rng: random.Random, space: Any) -> Any:
    return _resize(g, rng, space, -1)


def change_kernel(g: Genes, rng: random.Random, space: Any) -> Any:
    convs = [b for b in g["arch"]["blocks"] if b["type"] != "pool"]
    if not convs or len(space.options.kernels) < 2:
        return None
    block = rng.choice(convs)
    old = block["kernel"]
    block["kernel"] = rng.choice([k for k in space.options.kernels if k != old])
    return g, f"change a {block['type']} kernel from {old}x{old} to {block['kernel']}x{block['kernel']}"


def _swap_choice(g: Genes, rng: random.Random, section: str, key: str, choices: list[Any], why: str) -> Any:
    old = g[section][key]
    others = [c for c in choices if c != old]
    if not others:
        return None
    g[section][key] = rng.choice(others)
    return g, f"{key} {old} -> {g[section][key]}: {why}"


def swap_activation(g: Genes, rng: random.Random, space: Any) -> Any:
    return _swap_choice(g, rng, "arch", "activation", space.options.activations, "try another non-linearity")


def swap_norm(g: Genes, rng: random.Random, space: Any) -> Any:
    return _swap_choice(
        g, rng, "arch", "norm", space.options.norms, "normalization changes how fast and how stably it trains"
    )


def swap_pooling(g: Genes, rng: random.Random, space: Any) -> Any:
    if not space.inp.is_image:
        return None
    return _swap_choice(g, rng, "arch", "pooling", ["flatten", "avg"], "keep or drop the spatial layout")


def change_dropout(g: Genes, rng: random.Random, space: Any) -> Any:
    choices = [d for d in (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5) if d <= space.options.max_dropout]
    return _swap_choice(g, rng, "arch", "dropout", choices, "adjust regularization")


def add_hidden(g: Genes, rng: random.Random, space: Any) -> Any:
    hidden = g["arch"]["hidden"]
    if len(hidden) >= space.options.max_hidden:
        return None
    width = rng.choice(space.options.hidden_widths)
    at = rng.randint(0, len(hidden))
    hidden.insert(at, width)
    return g, f"insert a dense layer of {width} units in the head"


def remove_hidden(g: Genes, rng: random.Random, space: Any) -> Any:
    hidden = g["arch"]["hidden"]
    if not hidden:
        return None
    width = hidden.pop(rng.randrange(len(hidden)))
    return g, f"remove a dense layer of {width} units from the head"


def scale_lr(g: Genes, rng: random.Random, space: Any) -> Any:
    from evoforge.spaces._macro import round_sig

    r = g["recipe"]
    # Small steps refine; a x10 step lets a poor rate (too small by orders of magnitude) be escaped quickly.
    factor = rng.choice([0.1, 0.3, 0.5, 2.0, 3.0, 10.0])
    low, high = space.options.lr
    new = round_sig(min(max(r["lr"] * factor, low), high))
    if new == r["lr"]:
        return None
    old, r["lr"] = r["lr"], new
    return g, f"scale learning rate x{factor:g}: {old:g} -> {new:g}"


def swap_optimizer(g: Genes, rng: random.Random, space: Any) -> Any:
    from evoforge.spaces._macro import round_sig

    r = g["recipe"]
    others = [o for o in space.options.optimizers if o != r["optimizer"]]
    if not others:
        return None
    old, r["optimizer"] = r["optimizer"], rng.choice(others)
    # The old rate says little about a good rate for the new optimizer: start near the new one's usual rate, so
    # the switch is a fair try.
    low, high = space.options.lr
    r["lr"] = round_sig(min(max(TYPICAL_LR[r["optimizer"]] * rng.choice([0.5, 1.0, 2.0]), low), high))
    return g, f"switch optimizer {old} -> {r['optimizer']} at lr {r['lr']:g}"


def change_schedule(g: Genes, rng: random.Random, space: Any) -> Any:
    return _swap_choice(g, rng, "recipe", "schedule", space.options.schedules, "change how the rate decays")


def change_batch_size(g: Genes, rng: random.Random, space: Any) -> Any:
    r = g["recipe"]
    new = _step(space.options.batch_sizes, r["batch_size"], rng.choice([-1, 1]))
    if new is None:
        return None
    old, r["batch_size"] = r["batch_size"], new
    return g, f"batch size {old} -> {new}: {'more, noisier' if new < old else 'fewer, smoother'} steps"


def change_epochs(g: Genes, rng: random.Random, space: Any) -> Any:
    r = g["recipe"]
    low, high = space.options.epochs
    factor = rng.choice([0.67, 1.5])
    new = min(max(int(round(r["epochs"] * factor)), low), high)
    if new == r["epochs"]:
        new = min(max(r["epochs"] + (1 if factor > 1 else -1), low), high)
    if new == r["epochs"]:
        return None
    old, r["epochs"] = r["epochs"], new
    return g, f"train for {new} epochs instead of {old}"


def change_weight_decay(g: Genes, rng: random.Random, space: Any) -> Any:
    low, high = space.options.weight_decay
    choices = [w for w in (0.0, 1e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2) if low <= w <= high]
    return _swap_choice(g, rng, "recipe", "weight_decay", choices, "adjust weight regularization")


def change_label_smoothing(g: Genes, rng: random.Random, space: Any) -> Any:
    choices = [s for s in (0.0, 0.05, 0.1, 0.15, 0.2) if s <= space.options.max_label_smoothing]
    return _swap_choice(g, rng, "recipe", "label_smoothing", choices, "soften or sharpen the targets")


# The augmentations that make sense for a flat feature vector; the others move or mirror pixels.
FLAT_AUGMENTS = ("none", "noise")


def swap_augment(g: Genes, rng: random.Random, space: Any) -> Any:
    choices = [a for a in space.options.augments if space.inp.is_image or a in FLAT_AUGMENTS]
    return _swap_choice(g, rng, "recipe", "augment", choices, "change the data augmentation")


def _momentum_range() -> list[float]:
    return [0.8, 0.9, 0.95, 0.99]


def change_momentum(g: Genes, rng: random.Random, space: Any) -> Any:
    if g["recipe"]["optimizer"] != "sgd":
        return None
    return _swap_choice(g, rng, "recipe", "momentum", _momentum_range(), "trade speed for stability")


def swap_deploy(g: Genes, rng: random.Random, space: Any) -> Any:
    from evoforge.spaces._macro import DEPLOY_OPTIONS, deploy_of

    deploy = deploy_of(g)
    genes = [gene for gene, option in DEPLOY_OPTIONS.items() if len(getattr(space.options, option)) > 1]
    if not genes:
        return None
    gene = rng.choice(genes)
    old = deploy[gene]
    deploy[gene] = rng.choice([c for c in getattr(space.options, DEPLOY_OPTIONS[gene]) if c != old])
    g["deploy"] = deploy
    return g, f"run it with {gene} {old} -> {deploy[gene]}: measure what it saves"


def change_data_fraction(g: Genes, rng: random.Random, space: Any) -> Any:
    r = g["recipe"]
    old = r.get("data_fraction", 1.0)
    others = [f for f in space.options.data_fractions if f != old]
    if not others:
        return None
    r["data_fraction"] = rng.choice(others)
    return g, f"train on {r['data_fraction']:g} of the data instead of {old:g}: cheaper, maybe as good"


OPERATORS = {
    fn.__name__: fn
    for fn in (
        add_block,
        remove_block,
        swap_block_type,
        widen,
        narrow,
        change_kernel,
        swap_activation,
        swap_norm,
        swap_pooling,
        change_dropout,
        add_hidden,
        remove_hidden,
        scale_lr,
        swap_optimizer,
        change_schedule,
        change_batch_size,
        change_epochs,
        change_weight_decay,
        change_label_smoothing,
        swap_augment,
        change_momentum,
        swap_deploy,
        change_data_fraction,
    )
}
