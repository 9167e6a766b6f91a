"""A training script in the style of pytorch/examples' mnist/main.py, on scikit-learn's
bundled digits (8x8 images, no download). It knows nothing about hypersearch: it takes
argparse flags (--batch-size, --lr, --gamma, ...) and prints its usual lines,

    Train Epoch: 1 [0/1437 (0%)]	Loss: 2.301585
    Test set: Average loss: 0.1234, Accuracy: 348/360 (97%)

which `parse:` in digits_main.yaml reads: `hypersearch run examples/experiment/digits_main.yaml`.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn, optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1)  # 8x8 -> 6x6
        self.fc1 = nn.Linear(16 * 3 * 3, hidden)
        self.dropout = nn.Dropout(0.25)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # 6x6 -> 3x3
        x = self.dropout(F.relu(self.fc1(torch.flatten(x, 1))))
        return F.log_softmax(self.fc2(x), dim=1)


def train(args, model, train_loader, optimizer, epoch):  # type: ignore[no-untyped-def]
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            seen, total = batch_idx * len(data), len(train_loader.dataset)
            done = 100.0 * batch_idx / len(train_loader)
            print(f"Train Epoch: {epoch} [{seen}/{total} ({done:.0f}%)]\tLoss: {loss.item():.6f}")


def test(model, test_loader):  # type: ignore[no-untyped-def]
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            correct += int((output.argmax(dim=1) == target).sum())
    n = len(test_loader.dataset)
    print(
        f"\nTest set: Average loss: {test_loss / n:.4f}, Accuracy: {correct}/{n} "
        f"({100.0 * correct / n:.0f}%)\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="PyTorch digits example")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N")
    parser.add_argument("--test-batch-size", type=int, default=1000, metavar="N")
    parser.add_argument("--epochs", type=int, default=3, metavar="N")
    parser.add_argument("--lr", type=float, default=1.0, metavar="LR")
    parser.add_argument("--gamma", type=float, default=0.7, metavar="M")
    parser.add_argument("--hidden", type=int, default=64, metavar="N")
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)

    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(y)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    test_idx, train_idx = order[:360], order[360:]
    train_loader = DataLoader(
        TensorDataset(x[train_idx], y[train_idx]), batch_size=args.batch_size, shuffle=True
    )
    test_loader = DataLoader(
        TensorDataset(x[test_idx], y[test_idx]), batch_size=args.test_batch_size
    )
    model = Net(args.hidden)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, train_loader, optimizer, epoch)
        test(model, test_loader)
        scheduler.step()


if __name__ == "__main__":
    main()
