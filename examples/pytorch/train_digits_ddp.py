"""Trains the digits classifier in PyTorch with DistributedDataParallel and
saves it for chainrule to compile in.

This is the route for a model too big, or data too large, for one
machine: PyTorch trains it on as many processes and machines as it has
(DistributedDataParallel averages the gradients across them every step),
the trained `state_dict` is saved as safetensors, and chainrule compiles
that file into the program that runs the model (`weights:` in the
declaration, see `examples/from_pytorch.rs`). The network is an
`nn.Sequential` named `layers`, so its tensor names are chainrule's.

Here the processes are CPU processes on one machine (the `gloo` backend);
across machines only the launch changes (`torchrun --nnodes ...
--rdzv-endpoint host:port`, and `nccl` with GPUs).

Run from the repository root with the Python of ../shared/peers/setup.sh:

    ~/.cache/chainrule-peers/bin/torchrun --nproc-per-node 2 examples/pytorch/train_digits_ddp.py

It writes examples/models/digits_pytorch.safetensors with the test
accuracy PyTorch measured in the file's metadata. The split is by index,
which the Rust side repeats: the first 80% of the shipped CSV's rows
train, the rest test.
"""

import gzip
import os
import pathlib

import torch
import torch.distributed as dist
from safetensors.torch import save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

ROOT = pathlib.Path(__file__).resolve().parents[2]
EPOCHS = 40


class Digits(nn.Module):
    """chainrule: input: [64], layers: [dense(64), tanh, dense(10)]."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))

    def forward(self, x):
        return self.layers(x)


def digits():
    rows = [line.split(",") for line in gzip.open(ROOT / "data/digits/digits.csv.gz", "rt").read().split()]
    x = torch.tensor([[float(v) / 16.0 for v in row[:64]] for row in rows])
    y = torch.tensor([int(row[64]) for row in rows])
    cut = round(0.8 * len(rows))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def main():
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(7)  # the same initial weights in every process
    (train_x, train_y), (test_x, test_y) = digits()
    data = TensorDataset(train_x, train_y)
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=3)
    loader = DataLoader(data, batch_size=32, sampler=sampler)
    model = DistributedDataParallel(Digits())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1 * world, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()  # gradients averaged across the processes here
            optimizer.step()
    if rank == 0:
        net = model.module.eval()
        with torch.no_grad():
            accuracy = (net(test_x).argmax(dim=1) == test_y).float().mean().item()
        out = ROOT / "examples/models/digits_pytorch.safetensors"
        save_file(net.state_dict(), str(out), metadata={"test_accuracy": f"{accuracy:.6f}", "processes": str(world)})
        print(f"{world} processes, {EPOCHS} epochs: test accuracy {accuracy:.4f}; wrote {out.relative_to(ROOT)}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
