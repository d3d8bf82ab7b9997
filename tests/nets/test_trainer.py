import math

import numpy as np
import pytest
import torch
from torch import nn

import nets
from nets.losses import cross_entropy, square_loss

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0])


def test_mlp_learns_xor_perfectly():
    torch.manual_seed(0)
    model = nets.mlp(2, [8], 2, activation="tanh")
    trainer = nets.Trainer(model, cross_entropy, epochs=300, batch_size=4, lr=0.05, device="cpu", seed=0)
    trainer.fit(XOR_X, XOR_Y)
    assert (trainer.predict(XOR_X).argmax(1).numpy() == XOR_Y).all()


def bars(n, seed):
    """Synthetic 8x8 images: a vertical bar (class 0) or a horizontal bar (class 1) at a random place + noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 2, n)
    pos = rng.integers(0, 8, n)
    for i in range(n):
        if y[i] == 0:
            X[i, 0, :, pos[i]] += 1.0
        else:
            X[i, 0, pos[i], :] += 1.0
    return X, y


def test_small_cnn_learns_bar_orientation():
    X, y = bars(600, 0)
    X_test, y_test = bars(200, 1)
    torch.manual_seed(0)
    model = nets.cnn((1, 8, 8), [8], kernel_sizes=3, paddings=1, pool="max", head=(16, 2))
    trainer = nets.Trainer(model, cross_entropy, epochs=15, batch_size=32, lr=3e-3, device="cpu", seed=0)
    trainer.fit(X, y)
    accuracy = (trainer.predict(X_test).argmax(1).numpy() == y_test).mean()
    assert accuracy >= 0.95


def regression_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=n)).astype(np.float32)[:, None]
    return X, y


def make_trainer(tmp_path=None, resume=False, callback=None, epochs=8, seed=3):
    torch.manual_seed(seed)
    model = nets.mlp(3, [16], 1, dropout=0.1)  # dropout makes the run depend on torch's global RNG too
    return nets.Trainer(model, square_loss, epochs=epochs, batch_size=16, lr=1e-2, schedule="exponential",
                        schedule_kwargs={"s": 4}, validation_fraction=0.2, patience=100, device="cpu",
                        seed=seed, checkpoint_path=None if tmp_path is None else tmp_path / "ckpt.pt",
                        resume=resume, callback=callback)


def weights(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_same_seed_gives_same_weights():
    X, y = regression_data()
    a, b = make_trainer(), make_trainer()
    a.fit(X, y)
    b.fit(X, y)
    assert torch.equal(weights(a.model), weights(b.model))


def test_interrupted_then_resumed_run_ends_with_the_same_weights(tmp_path):
    X, y = regression_data()
    straight = make_trainer()
    straight.fit(X, y)

    def crash(epoch, logs):
        if epoch == 3:
            raise KeyboardInterrupt

    interrupted = make_trainer(tmp_path, callback=crash)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(X, y)
    torch.manual_seed(12345)  # the resumed process starts from unrelated RNG state
    resumed = make_trainer(tmp_path, resume=True, seed=3)
    history = resumed.fit(X, y)
    assert history.epochs_run == 8 and len(history.train_loss) == 8
    assert history.train_loss == pytest.approx(straight.history.train_loss)
    assert torch.equal(weights(resumed.model), weights(straight.model))


def learning_rates_during_fit(schedule, schedule_kwargs, epochs, lr, validation_fraction=0.0):
    """(lr the optimizer held at every loss evaluation, grouped by epoch (epochs, calls), History)."""
    X, y = regression_data(n=64)
    torch.manual_seed(0)
    seen, trainer = [], None

    def loss(output, target):
        seen.append(trainer.optimizer.param_groups[0]["lr"])
        return square_loss(output, target)

    trainer = nets.Trainer(nets.mlp(3, [8], 1), loss, epochs=epochs, batch_size=16, optimizer="sgd", lr=lr,
                           schedule=schedule, schedule_kwargs=schedule_kwargs,
                           validation_fraction=validation_fraction, device="cpu", seed=0)
    history = trainer.fit(X, y)
    per_epoch = np.array(seen).reshape(epochs, -1)  # each training batch, then the validation pass if any
    return per_epoch, history


@pytest.mark.parametrize(("schedule", "kwargs", "formula"), [
    ("power", {"s": 3, "c": 2}, lambda t: 0.1 / (1 + t / 3) ** 2),
    ("exponential", {"s": 4}, lambda t: 0.1 * 0.1 ** (t / 4)),
    # 11 epochs: eta0 = 0.1 up to eta1 = 1.0 at epoch 5, back to 0.1 at epoch 10.
    ("one_cycle", {"max_lr": 1.0}, lambda t: 0.1 + 0.9 * (1 - abs(t - 5) / 5)),
])
def test_fit_follows_the_schedule_formula_epoch_by_epoch(schedule, kwargs, formula):
    per_epoch, history = learning_rates_during_fit(schedule, kwargs, epochs=11, lr=0.1)
    expected = [formula(t) for t in range(11)]
    # Every batch of epoch t trains at eta(t), and the history records it.
    np.testing.assert_allclose(per_epoch, np.repeat(np.array(expected)[:, None], per_epoch.shape[1], 1),
                               rtol=1e-12)
    assert history.lr == pytest.approx(expected, rel=1e-12)


def test_fit_multiplies_the_rate_by_lambda_when_the_validation_loss_stalls():
    # A learning rate of 1e-6 leaves the validation loss all but fixed: it stalls from the second epoch on.
    per_epoch, history = learning_rates_during_fit("performance", {"factor": 0.5, "patience": 2}, epochs=14,
                                                   lr=1e-6, validation_fraction=0.25)
    # The rule, written out: an epoch improves when its validation loss is below the best so far by more than
    # torch's default relative threshold (1e-4); after more than `patience` epochs without one, eta *= lambda.
    eta, best, bad, expected = 1e-6, math.inf, 0, []
    for val_loss in history.val_loss:
        expected.append(eta)
        if val_loss < best * (1 - 1e-4):
            best, bad = val_loss, 0
        else:
            bad += 1
        if bad > 2:
            eta, bad = eta * 0.5, 0
    assert expected[-1] < expected[0] / 4  # the rate was cut at least three times
    np.testing.assert_allclose(per_epoch, np.repeat(np.array(expected)[:, None], per_epoch.shape[1], 1),
                               rtol=1e-12)
    assert history.lr == pytest.approx(expected, rel=1e-12)


def test_corrupt_or_foreign_checkpoint_gives_a_clear_error(tmp_path):
    X, y = regression_data()
    bad = tmp_path / "ckpt.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(nets.CheckpointError, match="ckpt.pt is corrupt"):
        make_trainer(tmp_path, resume=True).fit(X, y)
    torch.save({"weights": torch.zeros(3)}, bad)
    with pytest.raises(nets.CheckpointError, match="lacks"):
        make_trainer(tmp_path, resume=True).fit(X, y)
    with pytest.raises(nets.CheckpointError, match="does not exist"):
        nets.load_checkpoint(tmp_path / "missing.pt")


def test_checkpoint_is_written_atomically(tmp_path):
    X, y = regression_data()
    make_trainer(tmp_path, epochs=2).fit(X, y)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temp files left behind
    assert nets.load_checkpoint(tmp_path / "ckpt.pt")["epoch"] == 1


def test_non_finite_loss_stops_naming_the_epoch():
    X, y = regression_data()
    X[5, 0] = np.nan
    trainer = nets.Trainer(nets.mlp(3, [4], 1), square_loss, epochs=3, device="cpu")
    with pytest.raises(FloatingPointError, match="non-finite loss .* at epoch 0"):
        trainer.fit(X, y)


def test_early_stopping_restores_the_best_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 20)).astype(np.float32)
    y = rng.normal(size=(60, 1)).astype(np.float32)  # pure noise: the net can only overfit
    torch.manual_seed(0)
    model = nets.mlp(20, [128], 1)
    trainer = nets.Trainer(model, square_loss, epochs=500, batch_size=8, lr=1e-2, validation_fraction=0.3,
                           patience=5, device="cpu")
    history = trainer.fit(X, y)
    assert history.stopped_early and history.epochs_run < 500
    assert history.epochs_run == history.best_epoch + 1 + 6
    X_val, y_val = trainer._split(torch.as_tensor(X), (torch.as_tensor(y),), None, None)[1]
    assert trainer.evaluate(X_val, y_val) == pytest.approx(min(history.val_loss))


def test_multitask_targets_and_autoencoder_targets():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk, self.a, self.b = nets.mlp(2, [8], 8), nn.Linear(8, 2), nn.Linear(8, 1)

        def forward(self, x):
            z = torch.relu(self.trunk(x))
            return self.a(z), self.b(z)

    y_b = XOR_X.sum(1, keepdims=True)

    def loss(out, targets):
        return cross_entropy(out[0], targets[0]) + square_loss(out[1], targets[1])

    torch.manual_seed(0)
    trainer = nets.Trainer(TwoHeads(), loss, epochs=400, batch_size=4, lr=0.02, device="cpu")
    trainer.fit(XOR_X, (XOR_Y, y_b))
    logits, counts = trainer.predict(XOR_X)
    assert (logits.argmax(1).numpy() == XOR_Y).all() and np.allclose(counts.numpy(), y_b, atol=0.2)

    class Sparse(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nets.mlp(2, [4], 2)

        def forward(self, x):
            return self.net(x)

        def penalty(self):
            return sum(p.abs().sum() for p in self.parameters()) * 0.0 + torch.tensor(1.0)

    ae = nets.Trainer(Sparse(), square_loss, epochs=2, device="cpu")
    history = ae.fit(XOR_X)  # y=None: the input is the target
    assert history.train_loss[-1] > 1.0  # the penalty hook's constant 1 is part of the loss


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="validation_fraction"):
        nets.Trainer(nets.mlp(2, [2], 1), square_loss, validation_fraction=1.5)
    with pytest.raises(ValueError, match="resume=True needs a checkpoint_path"):
        nets.Trainer(nets.mlp(2, [2], 1), square_loss, resume=True)
    with pytest.raises(ValueError, match="X has 4 rows but y has"):
        nets.Trainer(nets.mlp(2, [2], 1), square_loss, device="cpu").fit(XOR_X, XOR_Y[:3])
