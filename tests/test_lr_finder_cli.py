"""`hypersearch lr-find MODULE:FUNCTION`."""

from __future__ import annotations

import json
import sys

import pytest

torch = pytest.importorskip("torch")

import hypersearch as hs  # noqa: E402
from hypersearch.cli import main  # noqa: E402

pytestmark = pytest.mark.torch

SETUP = """
import torch
from torch import nn

def setup():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (256,), generator=g)
    x = torch.randn(256, 4, generator=g) + 2.0 * nn.functional.one_hot(y, 4).float()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32,
                                         shuffle=True, generator=g)
    return model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), loader

def not_a_setup():
    return 42
"""


@pytest.fixture
def module(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    torch.set_num_threads(1)
    monkeypatch.delenv("COLUMNS", raising=False)
    (tmp_path / "lrsetup.py").write_text(SETUP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("lrsetup", None)


def test_cli_prints_suggestion_writes_json_and_plot(module, capsys):
    pytest.importorskip("matplotlib")
    code = main(["lr-find", "lrsetup:setup", "--json", "r.json", "--plot", "r.png"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "suggestion: " in out and "hs.Float(" in out
    run = next(line for line in out.splitlines() if line.startswith("run: "))
    assert run.startswith("run: ") and " of 100 batches; " in run
    assert out.count("diverged") + out.count("ran all") == 1  # why it stopped, said once
    data = json.loads((module / "r.json").read_text())
    assert data["suggestion"] > 0 and (module / "r.png").stat().st_size > 1000
    assert not (module / "hypersearch.db").exists()  # no storage needed without --study


def test_cli_stores_with_study(module, capsys):
    url = f"sqlite:///{module}/s.db"
    hs.create_study("s", space={"lr": hs.Float(1e-5, 1.0, log=True)}, storage=url)
    assert main(["lr-find", "lrsetup:setup", "--study", "s", "--storage", url]) == 0
    assert "enqueued trial 0" in capsys.readouterr().out
    study = hs.load_study("s", storage=url)
    trial = study.ask()
    assert trial.number == 0
    assert study.get_trial(0).attrs["lr_finder"]["suggestion"] == trial.params["lr"]


def test_cli_bad_specs(module, capsys):
    assert main(["lr-find", "nocolon"]) == 1
    assert "MODULE:FUNCTION" in capsys.readouterr().err
    assert main(["lr-find", "lrsetup:missing"]) == 1
    assert "no function 'missing'" in capsys.readouterr().err
    assert main(["lr-find", "lrsetup:not_a_setup"]) == 1
    assert "must return" in capsys.readouterr().err
    assert main(["lr-find", "lrsetup:setup", "--start-lr", "1", "--end-lr", "0.1"]) == 1
    assert "start_lr < end_lr" in capsys.readouterr().err


def test_cli_output_fits_the_terminal(module, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    main(["lr-find", "lrsetup:setup"])
    out = capsys.readouterr().out
    assert all(len(line) <= 60 for line in out.splitlines()), out
    assert out.startswith("suggestion: ") and "\nrun: " in out and "\nreason: " in out


def test_cli_error_never_shows_the_storage_password(module, capsys):
    """A password typed with a raw ``@`` (not ``%40``) is hidden whole in the error."""
    url = "postgresql://bob:p@ss@127.0.0.1:1/db"  # nothing listens on port 1: refused at once
    assert main(["lr-find", "lrsetup:setup", "--study", "s", "--storage", url]) == 1
    err = capsys.readouterr().err
    assert "error: " in err and "p@ss" not in err and "ss@" not in err
    assert "write each '@' there as %40" in err
