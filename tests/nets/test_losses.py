import torch
import torch.nn.functional as F
from sklearn.metrics import hinge_loss as sklearn_hinge

from nets import losses, mlp


def test_zero_one_loss_counts_mistakes():
    y = torch.tensor([0, 1, 2, 1])
    scores = torch.tensor([[2.0, 0, 0], [0, 1, 0], [3, 0, 1], [0, 0, 1]])
    assert losses.zero_one_loss(scores, y).item() == 0.5
    assert losses.zero_one_loss(torch.tensor([0, 1, 2, 2]), y).item() == 0.25


def test_square_and_cross_entropy_match_torch():
    torch.manual_seed(0)
    pred, y = torch.randn(32), torch.randn(32)
    assert torch.allclose(losses.square_loss(pred, y), F.mse_loss(pred, y))
    p, labels = torch.rand(32).clamp(0.01, 0.99), torch.randint(0, 2, (32,)).float()
    assert torch.allclose(losses.binary_cross_entropy(p, labels), F.binary_cross_entropy(p, labels))
    logits, classes = torch.randn(32, 5), torch.randint(0, 5, (32,))
    assert torch.allclose(losses.cross_entropy(logits, classes), F.cross_entropy(logits, classes))


def test_hinge_loss_closed_form_and_scikit_learn():
    score, y = torch.tensor([2.0, 0.5, -1.0, -3.0]), torch.tensor([1.0, 1.0, 1.0, -1.0])
    # max(0, 1 - y s): 0, 0.5, 2, 0
    assert losses.hinge_loss(score, y).item() == (0 + 0.5 + 2 + 0) / 4
    assert losses.hinge_loss(score, y).item() == sklearn_hinge(y.numpy(), score.numpy())


def test_hinge_loss_matches_torch_multi_margin_loss():
    # torch's margin loss over two classes with scores (0, s): for class index c = (y + 1) / 2 it is
    # max(0, 1 - x[c] + x[1 - c]) / 2 = max(0, 1 - y s) / 2, half the binary hinge loss.
    torch.manual_seed(0)
    score, y = 3 * torch.randn(64), torch.randint(0, 2, (64,)).float() * 2 - 1
    two_class_scores = torch.stack([torch.zeros_like(score), score], dim=1)
    torch_loss = 2 * F.multi_margin_loss(two_class_scores, ((y + 1) / 2).long(), margin=1.0)
    assert 0 < losses.hinge_loss(score, y).item()
    torch.testing.assert_close(losses.hinge_loss(score, y), torch_loss)


def test_l2_penalty_is_half_alpha_squared_norm_of_weights_only():
    model = mlp(3, [4], 2)
    weights = [model[0].weight, model[2].weight]
    expected = 0.1 * 0.5 * sum((w**2).sum() for w in weights)
    assert torch.allclose(losses.l2_penalty(model, 0.1), expected)
    # torch's weight_decay lambda adds lambda*w to the gradient: the gradient of (lambda/2)||w||^2
    losses.l2_penalty(model, 0.1).backward()
    assert torch.allclose(model[0].weight.grad, 0.1 * model[0].weight)
    assert model[0].bias.grad is None
