"""The recipe of the `mnist` and `fashion_mnist` examples in PyTorch, for
the README's comparison (run by bench/readme_figures.sh).

The same network (784-128-10, ReLU, He-uniform weights, zero biases),
the same data handling (5,000 of the 60,000 training images held out at
random for validation, every pixel standardized by the training split's
one mean and deviation), Adam 1e-3, batches of 64, 10 epochs, the epoch
with the best validation accuracy kept, then the test accuracy.

    ~/.cache/chainrule-peers/bin/python bench/mlp_recipe.py <folder of IDX files> <seed>
"""

import gzip
import pathlib
import sys
import time

import numpy as np
import torch
from torch import nn


def idx(path):
    data = gzip.open(path).read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    folder, seed = pathlib.Path(sys.argv[1]), int(sys.argv[2])
    started = time.perf_counter()
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    images = idx(folder / "train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    labels = idx(folder / "train-labels-idx1-ubyte.gz").astype(np.int64)
    test_x = idx(folder / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    test_y = idx(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    order = generator.permutation(len(images))
    train, valid = order[:55_000], order[55_000:]
    mean, std = images[train].mean(), images[train].std()
    scale = lambda a: torch.from_numpy((a - mean) / std)
    x, y = scale(images[train]), torch.from_numpy(labels[train])
    vx, vy = scale(images[valid]), torch.from_numpy(labels[valid])
    tx, ty = scale(test_x), torch.from_numpy(test_y)

    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    for layer in (model[0], model[2]):
        nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    best, kept = -1.0, None
    for _ in range(10):
        model.train()
        for batch in torch.randperm(len(x)).split(64):
            optimizer.zero_grad()
            loss_fn(model(x[batch]), y[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(vx).argmax(1) == vy).float().mean().item()
        if accuracy > best:
            best, kept = accuracy, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(kept)
    with torch.no_grad():
        accuracy = (model(tx).argmax(1) == ty).float().mean().item()
    print(f"test accuracy: {accuracy:.4f}")
    print(f"seconds: {time.perf_counter() - started:.1f}")


if __name__ == "__main__":
    main()
