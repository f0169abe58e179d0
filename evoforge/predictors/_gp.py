from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

LENGTHSCALES = (0.5, 1.0, 1.5, 2.0, 3.0, 4.5, 7.0)  # in units of sqrt(number of differing one-hot genes)
NOISES = (1e-3, 1e-2, 0.05, 0.2, 0.5)  # noise variance as a fraction of the signal variance


@functools.lru_cache(maxsize=1)
def _blas() -> object | None:
    try:
        import scipy.linalg  # noqa: F401 - load every BLAS the fit uses before looking for them
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run linear algebra on one thread: the matrices here are small, and a multi-threaded BLAS competing with
    the trials' workers for the same cores is many times slower than one thread (9 s against 20 ms for a fit
    on 200 points on a busy 2-core machine)."""
    controller = _blas()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):  # type: ignore[attr-defined]
        yield


def matern52(sq_dist: np.ndarray, lengthscale: float) -> np.ndarray:
    r = np.sqrt(np.maximum(sq_dist, 0.0)) * (math.sqrt(5.0) / lengthscale)
    return (1.0 + r + r * r / 3.0) * np.exp(-r)


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0)


Matrix = Sequence[Sequence[float]] | np.ndarray


@dataclass(frozen=True)
class Fit:
    """The hyperparameters a fit chose, and how well they explain the data (log marginal likelihood per point)."""

    lengthscale: float
    noise: float
    amplitude: float
    log_likelihood: float


class GaussianProcess:
    """Gaussian-process regression with a Matérn-5/2 kernel on the space's feature encoding.

    The targets are standardized after their lower tail is clipped at ``q1 - clip_iqr * IQR`` (a failed or
    degenerate design far below the rest would otherwise set the scale for everything); the lengthscale and noise
    ratio are chosen by the log marginal likelihood on a grid, the amplitude in closed form. The mean function is
    constant, or ``a + b * prior(x)`` fitted by least squares when a ``prior`` model (e.g. one trained on another
    study) is given: the Gaussian process then models what the prior gets wrong.

    ``predict`` returns the mean and the standard deviation of the latent function (``noisy=True`` adds the
    observation noise: the spread of a new measurement) in the units of the targets.
    """

    def __init__(self, clip_iqr: float = 1.5, prior: GaussianProcess | None = None) -> None:
        self.clip_iqr = clip_iqr
        self.prior = prior
        self.fit_info: Fit | None = None

    def fit(
        self, x: Matrix, y: Sequence[float] | np.ndarray, hyper: tuple[float, float] | None = None
    ) -> GaussianProcess:
        """Fit to features ``x`` and targets ``y``; ``hyper`` = (lengthscale, noise) skips the grid search."""
        with one_blas_thread():
            return self._fit(x, y, hyper)

    def _fit(self, x: Matrix, y: Sequence[float] | np.ndarray, hyper: tuple[float, float] | None) -> GaussianProcess:
        X, Y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if X.ndim != 2 or len(X) != len(Y) or len(Y) == 0:
            raise ValueError(f"fit: expected n feature rows and n targets, got {X.shape} and {Y.shape}")
        self.X = X
        q1, q3 = np.percentile(Y, [25, 75])
        self.floor = q1 - self.clip_iqr * max(q3 - q1, 1e-12)
        Yc = np.maximum(Y, self.floor)
        self.shift, self.scale = float(Yc.mean()), float(Yc.std()) or 1.0
        z = (Yc - self.shift) / self.scale
        self.prior_coef = (0.0, 0.0)
        if self.prior is not None:
            # The prior predicts in its own (standardized) units; regress this study's standardized targets on it.
            p = self.prior.predict(X)[0]
            if len(z) >= 3 and float(p.std()) > 1e-9:
                b, a = np.polyfit(p, z, 1)
                self.prior_coef = (float(a), float(max(b, 0.0)))
            else:  # too few points to fit: take the prior's standardized forecast as this study's
                self.prior_coef = (0.0, 1.0)
            z = z - self._prior_mean(X)
        self.d2 = _sq_dist(X, X)
        best: tuple[float, float, float] | None = None
        n = len(z)
        for ell in (hyper[0],) if hyper else LENGTHSCALES:
            base = matern52(self.d2, ell)
            for noise in (hyper[1],) if hyper else NOISES:
                chol = _cholesky(base + noise * np.eye(n))
                alpha = _solve(chol, z)
                amp = max(float(z @ alpha) / n, 1e-6)  # closed-form amplitude
                lml = -0.5 * n * math.log(amp) - float(np.log(np.diag(chol)).sum()) - 0.5 * n
                if best is None or lml > best[0]:
                    best = (lml, ell, noise)
        assert best is not None
        lml, ell, noise = best
        self.chol = _cholesky(matern52(self.d2, ell) + noise * np.eye(n))
        self.alpha = _solve(self.chol, z)
        amp = max(float(z @ self.alpha) / n, 1e-6)
        self.fit_info = Fit(ell, noise, amp, (lml - 0.5 * n * math.log(2 * math.pi)) / n)
        return self

    def _prior_mean(self, X: np.ndarray) -> np.ndarray:
        if self.prior is None:
            return np.zeros(len(X))
        a, b = self.prior_coef
        return a + b * self.prior.predict(X)[0]

    def predict(self, x: Matrix, noisy: bool = False) -> tuple[np.ndarray, np.ndarray]:
        with one_blas_thread():
            return self._predict(x, noisy)

    def _predict(self, x: Matrix, noisy: bool) -> tuple[np.ndarray, np.ndarray]:
        if self.fit_info is None:
            raise RuntimeError("predict before fit")
        X = np.asarray(x, dtype=float)
        f = self.fit_info
        k = matern52(_sq_dist(X, self.X), f.lengthscale)
        mean = k @ self.alpha + self._prior_mean(X)
        v = _solve_lower(self.chol, k.T)
        var = f.amplitude * np.maximum(1.0 - (v * v).sum(0), 1e-12)
        if noisy:
            var = var + f.amplitude * f.noise
        return mean * self.scale + self.shift, np.sqrt(var) * self.scale


def _cholesky(a: np.ndarray) -> np.ndarray:
    jitter = 1e-9
    for _ in range(8):
        try:
            return np.linalg.cholesky(a + jitter * np.eye(len(a)))
        except np.linalg.LinAlgError:
            jitter *= 100
    raise np.linalg.LinAlgError("kernel matrix is not positive definite")


def _solve_lower(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.linalg import solve_triangular

    return solve_triangular(chol, b, lower=True, check_finite=False)


def _solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.linalg import solve_triangular

    return solve_triangular(chol.T, solve_triangular(chol, b, lower=True, check_finite=False), check_finite=False)
