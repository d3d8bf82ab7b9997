"""SGD (with momentum and Nesterov), Adagrad, RMSProp and Adam written in numpy, one short update each.

Same update rules, hyperparameters and defaults as torch.optim, so they match it step for step
(tests/nets/test_teaching.py). Usage: `opt = Adam([w]); opt.step([dloss_dw])` updates `w` in place.
"""

from __future__ import annotations

import numpy as np


class NumpyOptimizer:
    """Holds a list of float parameter arrays and updates them in place from a list of gradients.

    params: arrays of any shape (float dtype); `step(grads)` takes one gradient per parameter, same shape.
    Per-parameter state (moment estimates, step counts) lives in `self.state[i]`.
    """

    def __init__(self, params, lr: float, weight_decay: float = 0.0, maximize: bool = False):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for i, param in enumerate(self.params):
            if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
                raise ValueError(f"parameter {i} must be a float numpy array (updated in place), "
                                 f"got {type(param).__name__}")
        if lr < 0 or weight_decay < 0:
            raise ValueError(f"need lr >= 0 and weight_decay >= 0, got lr={lr}, weight_decay={weight_decay}")
        self.lr = lr
        self.weight_decay = weight_decay
        self.maximize = maximize
        self.state: list[dict] = [{} for _ in self.params]

    def step(self, grads) -> None:
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"step got {len(grads)} gradients for {len(self.params)} parameters")
        for i, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
            grad = np.asarray(grad, dtype=param.dtype)
            if grad.shape != param.shape:
                raise ValueError(f"gradient {i} has shape {grad.shape}, parameter has {param.shape}")
            grad = -grad if self.maximize else grad
            self._update(param, grad, self.state[i])

    def _l2_gradient(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Weight decay as torch applies it: the gradient of (weight_decay / 2) ||param||^2 is added."""
        return grad + self.weight_decay * param if self.weight_decay else grad

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError


class SGD(NumpyOptimizer):
    """theta <- theta - lr * d, where d is the gradient, or with momentum beta the velocity
    v <- beta v + (1 - dampening) g (v = g on the first step); Nesterov looks ahead: d = g + beta v."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        super().__init__(params, lr, weight_decay, maximize)
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening, self.nesterov = momentum, dampening, nesterov

    def _update(self, param, grad, state):
        direction = self._l2_gradient(param, grad)
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = direction.copy()
            else:
                state["velocity"] = self.momentum * state["velocity"] + (1 - self.dampening) * direction
            velocity = state["velocity"]
            direction = direction + self.momentum * velocity if self.nesterov else velocity
        param -= self.lr * direction


class Adagrad(NumpyOptimizer):
    """Scales each coordinate's step by 1/sqrt(sum of its squared gradients): steep directions slow down."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, maximize: bool = False):
        super().__init__(params, lr, weight_decay, maximize)
        if lr_decay < 0 or initial_accumulator_value < 0 or eps < 0:
            raise ValueError("lr_decay, initial_accumulator_value and eps must be >= 0")
        self.lr_decay, self.initial_accumulator_value, self.eps = lr_decay, initial_accumulator_value, eps

    def _update(self, param, grad, state):
        if not state:
            state.update(step=0, sum=np.full_like(param, self.initial_accumulator_value))
        state["step"] += 1
        grad = self._l2_gradient(param, grad)
        lr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] += grad * grad
        param -= lr * grad / (np.sqrt(state["sum"]) + self.eps)


class RMSprop(NumpyOptimizer):
    """Like Adagrad, but squared gradients decay exponentially (factor alpha), so steps do not shrink to zero."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False):
        super().__init__(params, lr, weight_decay, maximize)
        if not 0 <= alpha <= 1 or eps < 0 or momentum < 0:
            raise ValueError(f"need 0 <= alpha <= 1, eps >= 0, momentum >= 0, got {alpha}, {eps}, {momentum}")
        self.alpha, self.eps, self.momentum, self.centered = alpha, eps, momentum, centered

    def _update(self, param, grad, state):
        if not state:
            state.update(square_avg=np.zeros_like(param), grad_avg=np.zeros_like(param),
                         momentum_buffer=np.zeros_like(param))
        grad = self._l2_gradient(param, grad)
        state["square_avg"] = self.alpha * state["square_avg"] + (1 - self.alpha) * grad * grad
        variance = state["square_avg"]
        if self.centered:  # divide by the gradient's standard deviation instead of its root mean square
            state["grad_avg"] = state["grad_avg"] + (1 - self.alpha) * (grad - state["grad_avg"])
            variance = variance - state["grad_avg"] ** 2
        scaled = grad / (np.sqrt(variance) + self.eps)
        if self.momentum > 0:
            state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + scaled
            scaled = state["momentum_buffer"]
        param -= self.lr * scaled


class Adam(NumpyOptimizer):
    """Momentum (first moment m) plus RMSProp (second moment v), both bias-corrected:
    theta <- theta - lr * m_hat / (sqrt(v_hat) + eps). decoupled_weight_decay=True gives AdamW."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, lr, weight_decay, maximize)
        if not all(0 <= beta < 1 for beta in betas) or eps < 0:
            raise ValueError(f"need 0 <= betas < 1 and eps >= 0, got betas={betas}, eps={eps}")
        self.betas, self.eps, self.amsgrad = tuple(betas), eps, amsgrad
        self.decoupled_weight_decay = decoupled_weight_decay

    def _update(self, param, grad, state):
        beta1, beta2 = self.betas
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param),
                         max_exp_avg_sq=np.zeros_like(param))
        state["step"] += 1
        if self.decoupled_weight_decay and self.weight_decay:
            param *= 1 - self.lr * self.weight_decay  # AdamW: shrink the weights, leave the moments alone
        elif self.weight_decay:
            grad = self._l2_gradient(param, grad)
        state["exp_avg"] = state["exp_avg"] + (1 - beta1) * (grad - state["exp_avg"])
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
        second_moment = state["exp_avg_sq"]
        if self.amsgrad:  # never let the denominator shrink
            state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], second_moment)
            second_moment = state["max_exp_avg_sq"]
        bias_correction1 = 1 - beta1 ** state["step"]
        bias_correction2 = 1 - beta2 ** state["step"]
        denom = np.sqrt(second_moment) / np.sqrt(bias_correction2) + self.eps
        param -= (self.lr / bias_correction1) * state["exp_avg"] / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW), default weight_decay 0.01."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True)
