"""Your own PyTorch model on your own image folder, searched by evoforge through its Python API.

    python examples/your_model/train_cnn.py --images path/to/folder     # one subfolder per class
    python examples/your_model/train_cnn.py --demo                      # writes a folder of digits first

The objective is ordinary PyTorch: it builds a small CNN from the parameters it asks for, trains it with the seed the
trial gives, reports the validation loss every epoch (so weak trials are stopped early), and measures on the
held-out images when ``trial.split == "test"``: that is what evoforge's evidence gate reads before it promotes a
design, never what the search sees. Everything is recorded in cnn.db: ``evoforge status --storage sqlite:///cnn.db``,
``evoforge review``, ``evoforge report``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

import evoforge

SIZE = 16  # images are resized to SIZE x SIZE grayscale


def load_folder(root: Path) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Every image under ``root/<class>/`` as (N, 1, SIZE, SIZE) floats in [0, 1], its labels and the class names."""
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    images, labels = [], []
    for label, name in enumerate(names):
        for file in sorted((root / name).iterdir()):
            with Image.open(file) as img:
                pixels = np.asarray(img.convert("L").resize((SIZE, SIZE), Image.Resampling.BILINEAR), np.float32)
            images.append(pixels / 255.0)
            labels.append(label)
    return torch.tensor(np.stack(images))[:, None], torch.tensor(labels), names


def splits() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Fixed train / val / test splits (60 / 20 / 20), the same in every process and every run."""
    x, y, _ = load_folder(Path(os.environ["EVOFORGE_EXAMPLE_IMAGES"]))
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    cut = [int(len(y) * 0.6), int(len(y) * 0.8)]
    parts = {"train": order[: cut[0]], "val": order[cut[0] : cut[1]], "test": order[cut[1] :]}
    return {name: (x[idx], y[idx]) for name, idx in parts.items()}


def make_model(trial: evoforge.Trial, classes: int) -> nn.Module:
    layers: list[nn.Module] = []
    channels = 1
    for i in range(trial.suggest_int("conv_layers", 1, 3)):
        width = trial.suggest_categorical(f"width_{i}", [8, 16, 32])
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)]
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(trial.suggest_float("dropout", 0.0, 0.5))]
    return nn.Sequential(*layers, nn.Linear(channels, classes))


def objective(trial: evoforge.Trial) -> dict:
    torch.manual_seed(trial.seed)
    torch.set_num_threads(1)
    data = splits()
    (x, y), (x_eval, y_eval) = data["train"], data["test" if trial.split == "test" else "val"]
    model = make_model(trial, int(y.max()) + 1)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=trial.suggest_float("wd", 1e-6, 1e-2, log=True))
    flip = trial.suggest_categorical("flip", [False, True])
    batch = trial.suggest_categorical("batch", [32, 64, 128])
    for epoch in range(1, trial.suggest_int("epochs", 2, 12) + 1):
        model.train()
        for idx in torch.randperm(len(y)).split(batch):
            xb = x[idx].flip(-1) if flip and torch.rand(()) < 0.5 else x[idx]  # (B, 1, SIZE, SIZE)
            loss = nn.functional.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(x_eval)  # (N, classes)
            losses = nn.functional.cross_entropy(logits, y_eval, reduction="none")  # one per image
        trial.report(float(losses.mean()), epoch)
        if trial.should_prune():
            raise evoforge.TrialPruned()
    accuracy = float((logits.argmax(1) == y_eval).float().mean())
    return {"val_loss": losses.tolist(), "val_accuracy": accuracy}  # per-image losses: the gate compares image by image


def write_demo_folder(root: Path) -> None:
    """scikit-learn's 8x8 digits as PNG files, one subfolder per class."""
    from sklearn.datasets import load_digits

    data = load_digits()
    for i, (pixels, label) in enumerate(zip(data.images, data.target, strict=True)):
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray((pixels * 255 / 16).astype(np.uint8)).save(root / str(label) / f"{i:04d}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, help="a folder with one subfolder of images per class")
    parser.add_argument("--demo", action="store_true", help="write scikit-learn's digits as a folder and use it")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--storage", default="sqlite:///cnn.db")
    args = parser.parse_args()
    folder = args.images
    if args.demo:
        folder = Path("digits-png")
        if not folder.exists():
            write_demo_folder(folder)
    if folder is None or not folder.is_dir():
        sys.exit("give --images FOLDER (one subfolder per class) or --demo")
    os.environ["EVOFORGE_EXAMPLE_IMAGES"] = str(folder.resolve())  # worker processes read the same folder
    result = evoforge.optimize(
        objective,
        study="my-cnn",
        storage=args.storage,
        objectives={"val_loss": "min"},
        trials=args.trials,
        workers=args.workers,
        goal={"scheduler": {"name": "asha", "min_epochs": 2, "eta": 3}, "budget": {"trial_timeout_s": 300}},
        quiet=False,
    )
    print(f"stopped: {result.stopped_because}")
    print(f"best single run: val_loss {result.best_value:.4f} with {result.best_params}")
    print(f"champion (promoted on evidence): held-out val_loss {result.held_out} with {result.champion_params}")


if __name__ == "__main__":  # worker processes are spawned: a script needs this guard
    main()
