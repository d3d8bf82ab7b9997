"""The training loop pinned with a learning rate of 1e-30 (float32 weights never move, so every loss is
computable by hand), BatchNorm's batch of one, transforms, checkpoints without a schedule, and which loss
the plateau schedule watches."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

import nets
from nets.checkpoint import load_checkpoint
from nets.losses import square_loss
from nets.trainer import as_tensor

X = np.arange(8, dtype=np.float32).reshape(4, 2) / 4
Y = np.array([[1.0], [0.0], [2.0], [1.0]], dtype=np.float32)


def frozen_linear() -> nn.Linear:
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -1.0]]))
        model.bias.fill_(0.5)
    return model


def test_train_loss_is_the_data_loss_plus_the_l2_penalty():
    trainer = nets.Trainer(frozen_linear(), square_loss, epochs=2, batch_size=3, optimizer="sgd", lr=1e-30, l2=0.5,
                           device="cpu")
    history = trainer.fit(X, Y)
    prediction = X @ np.array([1.0, -1.0]) + 0.5  # the weights never move with lr 1e-30
    expected = np.mean((prediction - Y[:, 0]) ** 2) + 0.5 * 0.5 * 2.0  # + alpha/2 ||w||^2, bias excluded
    assert history.train_loss == pytest.approx([expected, expected], rel=1e-6)


def test_transform_is_applied_to_each_training_batch():
    trainer = nets.Trainer(frozen_linear(), square_loss, epochs=1, batch_size=4, optimizer="sgd", lr=1e-30,
                           device="cpu")
    history = trainer.fit(X, Y, transform=torch.zeros_like)  # the model then only sees its bias, 0.5
    assert history.train_loss == pytest.approx([np.mean((0.5 - Y[:, 0]) ** 2)])


def test_batch_norm_skips_a_trailing_batch_of_one():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    data = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    history = nets.Trainer(model, square_loss, epochs=2, batch_size=2, device="cpu").fit(data, data[:, :1])
    assert len(history.train_loss) == 2 and all(np.isfinite(history.train_loss))


def test_non_finite_loss_names_the_batch_as_an_integer():
    data = np.full((4, 2), np.nan, dtype=np.float32)
    trainer = nets.Trainer(nn.Linear(2, 1), square_loss, epochs=1, batch_size=2, device="cpu")
    with pytest.raises(FloatingPointError, match=r"at epoch 0, batch 0: lower the learning rate or check the "
                                                 r"inputs for NaN/inf"):
        trainer.fit(data, np.zeros((4, 1), np.float32))


def test_checkpoint_without_a_schedule_and_resuming_it_with_one_or_another_model(tmp_path):
    path = tmp_path / "run.pt"
    nets.Trainer(frozen_linear(), square_loss, epochs=1, device="cpu", checkpoint_path=str(path)).fit(X, Y)
    assert load_checkpoint(str(path), required=("scheduler",))["scheduler"] == {}
    with pytest.raises(ValueError, match=r"does not fit this model"):
        nets.Trainer(nn.Linear(3, 1), square_loss, epochs=2, device="cpu", checkpoint_path=str(path),
                     resume=True).fit(np.zeros((4, 3), np.float32), Y)
    scheduled = tmp_path / "scheduled.pt"
    nets.Trainer(frozen_linear(), square_loss, epochs=1, device="cpu", schedule="power",
                 checkpoint_path=str(scheduled)).fit(X, Y)
    # A run resumed without the schedule it was saved with ignores the saved scheduler state.
    history = nets.Trainer(frozen_linear(), square_loss, epochs=2, device="cpu", checkpoint_path=str(scheduled),
                           resume=True).fit(X, Y)
    assert history.epochs_run == 2


def test_plateau_schedule_watches_the_validation_loss_when_there_is_one():
    # Training on y = x drives the validation loss on y = -x up while the training loss goes down.
    x = np.linspace(-1, 1, 16, dtype=np.float32)[:, None]
    kwargs = dict(epochs=3, batch_size=16, optimizer="sgd", lr=0.1, device="cpu", schedule="performance",
                  schedule_kwargs={"factor": 0.5, "patience": 0})

    def zero_line():
        model = nn.Linear(1, 1)
        nn.init.zeros_(model.weight)
        nn.init.zeros_(model.bias)
        return model

    watched_val = nets.Trainer(zero_line(), square_loss, **kwargs).fit(x, x, X_val=x, y_val=-x)
    assert watched_val.val_loss[1] > watched_val.val_loss[0]
    assert watched_val.lr == pytest.approx([0.1, 0.1, 0.05])  # recorded before each step
    watched_train = nets.Trainer(zero_line(), square_loss, **kwargs).fit(x, x)
    assert watched_train.train_loss[1] < watched_train.train_loss[0]
    assert watched_train.lr == pytest.approx([0.1, 0.1, 0.1])


def test_early_stopping_needs_a_strict_improvement_and_no_validation_means_no_stopping():
    # lr 1e-30: the validation loss is the same every epoch, which is not an improvement after the first.
    trainer = nets.Trainer(frozen_linear(), square_loss, epochs=10, optimizer="sgd", lr=1e-30, patience=1,
                           device="cpu")
    history = trainer.fit(X, Y, X_val=X, y_val=Y)
    assert history.stopped_early and history.epochs_run == 3 and history.best_epoch == 0
    history = nets.Trainer(frozen_linear(), square_loss, epochs=3, patience=1, device="cpu").fit(X, Y)
    assert history.epochs_run == 3 and not history.stopped_early


def test_documented_defaults():
    trainer = nets.Trainer(nn.Linear(2, 1), square_loss)
    assert (trainer.epochs, trainer.batch_size, trainer.seed, trainer.l2) == (50, 64, 0, 0.0)
    assert trainer.device == nets.get_device("auto")
    assert isinstance(trainer.optimizer, torch.optim.Adam) and trainer.optimizer.param_groups[0]["lr"] == 1e-3
    momentum = nets.Trainer(nn.Linear(2, 1), square_loss, optimizer="momentum", device="cpu")
    assert momentum.optimizer.param_groups[0]["momentum"] == 0.9


def test_argument_checks_at_their_boundaries():
    model = nn.Linear(2, 1)
    nets.Trainer(model, square_loss, epochs=1, batch_size=1, device="cpu")  # 1 is allowed for both
    with pytest.raises(ValueError, match="epochs and batch_size must be >= 1, got 0 and 64"):
        nets.Trainer(model, square_loss, epochs=0, device="cpu")
    with pytest.raises(ValueError, match="epochs and batch_size must be >= 1, got 5 and 0"):
        nets.Trainer(model, square_loss, epochs=5, batch_size=0, device="cpu")
    with pytest.raises(ValueError, match=r"validation_fraction must be in \[0, 1\), got 1.0"):
        nets.Trainer(model, square_loss, validation_fraction=1.0, device="cpu")
    trainer = nets.Trainer(model, square_loss, validation_fraction=0.9, device="cpu")
    with pytest.raises(ValueError, match="validation_fraction 0.9 leaves no training data"):
        trainer.fit(X[:2], Y[:2])


def test_validation_split_takes_round_fraction_rows_but_at_least_one():
    # Row losses 0, 1, 4, 9 under the frozen model; 0.1 of 4 rows rounds to 0, so exactly one row validates,
    # and 3 * train_loss + 1 * val_loss adds up to the total loss whichever row it is.
    targets = (X @ np.array([1.0, -1.0]) + 0.5)[:, None] + np.array([[0.0], [1.0], [2.0], [3.0]])
    trainer = nets.Trainer(frozen_linear(), square_loss, epochs=1, optimizer="sgd", lr=1e-30,
                           validation_fraction=0.1, device="cpu")
    history = trainer.fit(X, targets.astype(np.float32))
    assert 3 * history.train_loss[0] + history.val_loss[0] == pytest.approx(14.0, rel=1e-6)


def test_autoencoder_validation_data_without_targets():
    data = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    history = nets.Trainer(nn.Linear(2, 2), square_loss, epochs=2, device="cpu").fit(data, X_val=data[:3])
    assert len(history.val_loss) == 2 and all(np.isfinite(history.val_loss))


def test_as_tensor_types_and_read_only_arrays():
    assert as_tensor(np.array([1, 2])).dtype == torch.int64
    assert as_tensor(np.array([1.0, 2.0])).dtype == torch.float32
    read_only = np.arange(3, dtype=np.float32)
    read_only.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns when it would share memory with a read-only array
        tensor = as_tensor(read_only)
    assert tensor.tolist() == [0.0, 1.0, 2.0]
    tensor[0] = 5.0  # a copy: the read-only array is not written through the tensor
    assert read_only[0] == 0.0


def test_empty_dataset_and_progress_bar(capsys):
    with pytest.raises(ValueError, match="cannot fit on an empty dataset"):
        nets.Trainer(nn.Linear(2, 1), square_loss, device="cpu").fit(np.zeros((0, 2), np.float32))
    nets.Trainer(frozen_linear(), square_loss, epochs=2, device="cpu", progress=True).fit(X, Y)
    assert "train" in capsys.readouterr().err  # progress=True shows the bar even without a terminal


def test_progress_false_writes_nothing(capsys):
    nets.Trainer(frozen_linear(), square_loss, epochs=2, device="cpu", progress=False).fit(X, Y)
    assert capsys.readouterr().err == ""


def test_callback_gets_the_epoch_and_its_logs():
    seen = []
    trainer = nets.Trainer(frozen_linear(), square_loss, epochs=2, optimizer="sgd", lr=1e-30, device="cpu",
                           callback=lambda epoch, logs: seen.append((epoch, logs)))
    history = trainer.fit(X, Y, X_val=X, y_val=Y)
    assert [epoch for epoch, _ in seen] == [0, 1]
    for epoch, logs in seen:
        assert logs == {"train_loss": history.train_loss[epoch], "val_loss": history.val_loss[epoch],
                        "lr": history.lr[epoch]}


def test_an_improvement_resets_the_patience_count():
    """Validation losses scripted through the bias of a frozen constant model (targets 0, so the loss is b^2):
    1.0 (best), 1.21, 1.44, then 0.81 (a new best: the count of bad epochs starts again), then 1.0 for ever.
    With patience 2, training stops at the third bad epoch after the new best: epoch 6, seven epochs run."""
    distances = [1.0, 1.1, 1.2, 0.9] + [1.0] * 10
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.fill_(distances[0])

    def script(epoch, logs):
        with torch.no_grad():
            model.bias.fill_(distances[epoch + 1])

    trainer = nets.Trainer(model, square_loss, epochs=len(distances), batch_size=4, lr=1e-30, optimizer="sgd",
                           momentum=0.0, validation_fraction=0.25, patience=2, device="cpu", callback=script)
    history = trainer.fit(np.ones((8, 2), dtype=np.float32), np.zeros((8, 1), dtype=np.float32))
    assert history.val_loss[:4] == pytest.approx([1.0, 1.21, 1.44, 0.81], rel=1e-5)
    assert history.best_epoch == 3 and history.stopped_early
    assert history.epochs_run == 7


def test_batch_norm_trains_on_two_rows_in_batches_of_one_by_skipping_them():
    """A one-row batch cannot go through BatchNorm in training mode; with more than one row in the data the
    trainer skips such batches rather than fail (two rows in batches of one: every batch is skipped)."""
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    trainer = nets.Trainer(model, square_loss, epochs=2, batch_size=1, device="cpu")
    history = trainer.fit(X[:2], Y[:2])
    assert history.epochs_run == 2
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nets.Trainer(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)), square_loss, epochs=1, batch_size=1,
                     device="cpu").fit(X[:1], Y[:1, :1].repeat(3, axis=1))
