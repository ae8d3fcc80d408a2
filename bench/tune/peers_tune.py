"""Peers of bench/tune/tune.bench.ts: scikit-learn 1.2's HalvingRandomSearchCV and RandomizedSearchCV, and Optuna's
TPE, each searching HistGradientBoostingClassifier's learning rate, leaves, min samples per leaf and L2 on the CSV the
bench wrote, refitting the best configuration on all training rows and scoring it on the test rows. Prints one JSON
line: per run, wall seconds of the search including the refit, the best CV AUC, the test AUC, the best params.

usage: peers_tune.py SPEC.json   (SPEC: {"csv": path, "runs": ["halving", "random", "optuna"], "seed": 0,
                                        "nCandidates": 20, "factor": 3, "minResources": "exhaust", "cv": 3 | "time-series:3",
                                        "nIter": 20, "optunaTrials": 30, "maxIter": 100, "earlyStopping": "auto",
                                        "space": {"learningRate": [lo, hi], "maxLeaves": [lo, hi],
                                                  "minSamplesLeaf": [lo, hi], "lambda": [lo, hi]}})
"""
import json
import math
import sys
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

FEATURES = ["hour", "dow", "month", "distance", "origin", "destination"]
CATEGORICAL = [4, 5]


class IntLogUniform:
    """A whole number whose log is uniform over [low - 0.5, high + 0.5], rounded: scaleml's `integer(low, high,
    { log: true })` and Optuna's `suggest_int(log=True)`. scipy has no such distribution; ParameterSampler only
    needs `rvs`."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def rvs(self, random_state=None):
        rng = np.random.mtrand._rand if random_state is None else random_state
        x = math.exp(rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5)))
        return int(min(max(round(x), self.low), self.high))


def load(path):
    df = pd.read_csv(path)
    for col in ("origin", "destination"):
        # 'a123' -> 123: the code of bench/gbdt's shared airport vocabulary (229 airports, < max_bins).
        df[col] = df[col].str.slice(1).astype(np.int64)
    X = df[FEATURES].to_numpy(dtype=np.float64)
    y = df["delayed"].to_numpy(dtype=np.int64)
    test = df["is_test"].to_numpy() == 1
    return X[~test], y[~test], X[test], y[test]


def estimator(spec, **params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    mask = np.zeros(len(FEATURES), dtype=bool)
    mask[CATEGORICAL] = True
    # early_stopping 'auto' is scikit-learn's default (on above 10,000 rows); False trains max_iter rounds, as every
    # scaleml trial does.
    return HistGradientBoostingClassifier(
        max_iter=spec["maxIter"],
        categorical_features=mask,
        early_stopping=spec.get("earlyStopping", "auto"),
        random_state=spec["seed"],
        **params,
    )


def folds(spec):
    """scikit-learn's `cv=k` (stratified k-fold for a classifier, unshuffled), or `TimeSeriesSplit(k)` for
    "time-series:k" (each validation fold follows its training rows, in file order)."""
    from sklearn.model_selection import TimeSeriesSplit

    cv = spec["cv"]
    if isinstance(cv, str) and cv.startswith("time-series:"):
        return TimeSeriesSplit(int(cv.split(":")[1]))
    return int(cv)


def distributions(spec):
    from scipy.stats import loguniform

    s = spec["space"]
    return {
        "learning_rate": loguniform(*s["learningRate"]),
        "max_leaf_nodes": IntLogUniform(*s["maxLeaves"]),
        "min_samples_leaf": IntLogUniform(*s["minSamplesLeaf"]),
        "l2_regularization": loguniform(*s["lambda"]),
    }


def run_search(spec, kind, Xtr, ytr):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV, RandomizedSearchCV

    common = dict(cv=folds(spec), scoring="roc_auc", refit=True, random_state=spec["seed"])
    if kind == "halving":
        search = HalvingRandomSearchCV(
            estimator(spec),
            distributions(spec),
            n_candidates=spec["nCandidates"],
            factor=spec["factor"],
            min_resources=spec["minResources"],
            **common,
        )
    else:
        search = RandomizedSearchCV(estimator(spec), distributions(spec), n_iter=spec["nIter"], **common)
    start = time.perf_counter()
    search.fit(Xtr, ytr)
    seconds = time.perf_counter() - start
    extra = {}
    if kind == "halving":
        extra = {"nResources": [int(r) for r in search.n_resources_], "nCandidates": list(map(int, search.n_candidates_))}
    return search.best_estimator_, seconds, float(search.best_score_), search.best_params_, extra


def run_optuna(spec, Xtr, ytr):
    import optuna
    from sklearn.model_selection import cross_val_score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = spec["space"]

    def objective(trial):
        params = {
            "learning_rate": trial.suggest_float("learning_rate", *s["learningRate"], log=True),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", *s["maxLeaves"], log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", *s["minSamplesLeaf"], log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", *s["lambda"], log=True),
        }
        return cross_val_score(estimator(spec, **params), Xtr, ytr, cv=folds(spec), scoring="roc_auc").mean()

    start = time.perf_counter()
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=spec["seed"]))
    study.optimize(objective, n_trials=spec["optunaTrials"])
    best = estimator(spec, **study.best_params)
    best.fit(Xtr, ytr)
    seconds = time.perf_counter() - start
    return best, seconds, float(study.best_value), study.best_params, {}


def main():
    spec = json.load(open(sys.argv[1]))
    Xtr, ytr, Xte, yte = load(spec["csv"])
    out = {"rows": {"train": int(len(ytr)), "test": int(len(yte))}}
    for kind in spec["runs"]:
        try:
            if kind == "optuna":
                model, seconds, cv, params, extra = run_optuna(spec, Xtr, ytr)
            else:
                model, seconds, cv, params, extra = run_search(spec, kind, Xtr, ytr)
            auc = float(roc_auc_score(yte, model.predict_proba(Xte)[:, 1]))
            params = {k: (v.item() if hasattr(v, "item") else v) for k, v in params.items()}
            out[kind] = {"seconds": seconds, "cvAuc": cv, "auc": auc, "params": params, **extra}
        except Exception as e:  # reported, not fatal: the bench prints what failed and why
            out[kind] = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps({"progress": kind, **out[kind]}), file=sys.stderr, flush=True)
    import optuna
    import sklearn

    out["versions"] = {"sklearn": sklearn.__version__, "optuna": optuna.__version__, "pandas": pd.__version__}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
