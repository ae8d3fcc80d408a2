"""Peers of bench/gbdt/gbdt.bench.ts: XGBoost 1.7 (hist, native categoricals) and scikit-learn's
HistGradientBoostingClassifier on the .npy files the bench wrote, same hyper-parameters. Prints one JSON line.

usage: peers_gbdt.py SPEC.json   (SPEC: {"files": {...}, "categorical": [...], "featureNames": [...],
                                        "nClasses": k, "params": {...}, "runs": ["xgboost-1", ...]})
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score


def frame(X, names, categorical, categories):
    df = pd.DataFrame(X.astype(np.float64), columns=names)
    for j in categorical:
        col = names[j]
        # Category codes as pandas categoricals over the TRAINING vocabulary (XGBoost 1.7 enable_categorical).
        df[col] = pd.Categorical(df[col], categories=categories[j])
    return df


def metrics(y, proba, n_classes):
    out = {"logLoss": float(log_loss(y, proba, labels=list(range(n_classes))))}
    if n_classes == 2:
        out["auc"] = float(roc_auc_score(y, proba[:, 1]))
    out["accuracy"] = float(accuracy_score(y, proba.argmax(axis=1)))
    return out


def run_xgboost(spec, Xtr, ytr, Xte, yte, threads):
    import xgboost as xgb

    p = spec["params"]
    names, cat = spec["featureNames"], spec["categorical"]
    categories = {j: np.unique(Xtr[:, j][~np.isnan(Xtr[:, j])]) for j in cat}
    dtr = frame(Xtr, names, cat, categories)
    dte = frame(Xte, names, cat, categories)
    k = spec["nClasses"]
    params = {
        "tree_method": "hist",
        "grow_policy": "lossguide",
        "max_leaves": p["maxLeaves"],
        "max_depth": 0,
        "eta": p["learningRate"],
        "max_bin": p["maxBins"],
        "min_child_weight": p["minChildWeight"],
        "lambda": p["lambda"],
        "max_cat_to_onehot": p["maxCatToOnehot"],
        "max_cat_threshold": p["maxCatThreshold"],
        "base_score": p["baseScore"],
        "nthread": threads,
        "seed": 0,
    }
    if k == 2:
        params.update({"objective": "binary:logistic", "eval_metric": "logloss"})
    else:
        params.update({"objective": "multi:softprob", "num_class": k, "eval_metric": "mlogloss"})
    start = time.perf_counter()
    d = xgb.DMatrix(dtr, label=ytr, enable_categorical=True, nthread=threads)
    booster = xgb.train(params, d, num_boost_round=p["nEstimators"])
    seconds = time.perf_counter() - start
    proba = booster.predict(xgb.DMatrix(dte, enable_categorical=True, nthread=threads))
    if k == 2:
        proba = np.column_stack([1 - proba, proba])
    return {"seconds": seconds, **metrics(yte, proba, k)}


def run_sklearn(spec, Xtr, ytr, Xte, yte, threads):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    p = spec["params"]
    mask = np.zeros(Xtr.shape[1], dtype=bool)
    mask[spec["categorical"]] = True
    model = HistGradientBoostingClassifier(
        learning_rate=p["learningRate"],
        max_iter=p["nEstimators"],
        max_leaf_nodes=p["maxLeaves"],
        max_bins=p["maxBins"],
        l2_regularization=p["lambda"],
        categorical_features=mask,
        early_stopping=False,
        random_state=0,
    )
    with threadpool_limits(limits=threads):
        start = time.perf_counter()
        model.fit(Xtr.astype(np.float64), ytr)
        seconds = time.perf_counter() - start
        proba = model.predict_proba(Xte.astype(np.float64))
    return {"seconds": seconds, **metrics(yte, proba, spec["nClasses"])}


def resplit(spec, X, y):
    """The robustness splits of the training period (same rules as gbdt.bench.ts): every 10th row held out, or
    train on months <= m and test on month m + 1 (feature 2 is the month)."""
    rule = spec["split"]
    if rule == "random10":
        test = np.arange(len(y)) % 10 == 0
        train = ~test
    else:
        last = int(rule.split(":")[1])
        train = X[:, 2] <= last
        test = X[:, 2] == last + 1
    return X[train], y[train], X[test], y[test]


def main():
    spec = json.load(open(sys.argv[1]))
    f = spec["files"]
    Xtr, ytr = np.load(f["Xtrain"]), np.load(f["ytrain"]).astype(np.int64)
    Xte, yte = np.load(f["Xtest"]), np.load(f["ytest"]).astype(np.int64)
    if spec.get("split"):
        Xtr, ytr, Xte, yte = resplit(spec, Xtr, ytr)
    out = {}
    for run in spec["runs"]:
        name, threads = run.rsplit("-", 1)
        try:
            fn = run_xgboost if name == "xgboost" else run_sklearn
            out[run] = fn(spec, Xtr, ytr, Xte, yte, int(threads))
        except Exception as e:  # reported, not fatal: the bench prints what failed and why
            out[run] = {"error": f"{type(e).__name__}: {e}"}
    import sklearn
    import xgboost

    out["versions"] = {"xgboost": xgboost.__version__, "sklearn": sklearn.__version__, "pandas": pd.__version__}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
