"""A user's own objective, as a person would write it in a file of their own (the tests copy this file into a
temporary folder, outside every package): a linear classifier trained by SGD on scikit-learn's bundled breast
cancer data, with Optuna's names. ``trial.split`` says which data to measure on; per-input losses let the evidence
gate compare two designs input by input."""

import os
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

import evoforge

X, Y = load_breast_cancer(return_X_y=True)
X_REST, X_TEST, Y_REST, Y_TEST = train_test_split(X, Y, test_size=0.3, random_state=0, stratify=Y)
X_TRAIN, X_VAL, Y_TRAIN, Y_VAL = train_test_split(X_REST, Y_REST, test_size=0.3, random_state=0, stratify=Y_REST)
MEAN, SCALE = X_TRAIN.mean(0), X_TRAIN.std(0)
SLOW_S = float(os.environ.get("OBJECTIVE_SLEEP_S", "0"))  # per epoch, so a test can catch a trial in flight


def objective(trial):
    alpha = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
    eta0 = trial.suggest_float("eta0", 1e-4, 1e-1, log=True)
    penalty = trial.suggest_categorical("penalty", ["l2", "l1", "elasticnet"])
    l1_ratio = trial.suggest_float("l1_ratio", 0.0, 1.0) if penalty == "elasticnet" else 0.15  # define-by-run
    epochs = trial.suggest_int("epochs", 3, 9)
    model = SGDClassifier(
        loss="log_loss",
        alpha=alpha,
        penalty=penalty,
        l1_ratio=l1_ratio,
        learning_rate="constant",
        eta0=eta0,
        average=True,
        random_state=trial.seed,
    )
    x_eval, y_eval = (X_TEST, Y_TEST) if trial.split == "test" else (X_VAL, Y_VAL)
    losses = None
    for epoch in range(1, epochs + 1):
        model.partial_fit((X_TRAIN - MEAN) / SCALE, Y_TRAIN, classes=[0, 1])
        p = np.clip(model.predict_proba((x_eval - MEAN) / SCALE)[np.arange(len(y_eval)), y_eval], 1e-6, 1.0)
        losses = -np.log(p)  # per input
        trial.report(float(losses.mean()), epoch)
        if trial.should_prune():
            raise evoforge.TrialPruned()
        time.sleep(SLOW_S)
    accuracy = float((model.predict((x_eval - MEAN) / SCALE) == y_eval).mean())
    return {"val_loss": losses, "val_accuracy": accuracy}
