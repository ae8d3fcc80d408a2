"""Peer of bench/trees/predict.bench.ts: XGBoost 1.7 prediction, single-threaded, on the benchmark's rows.

Either trains a model of 100 trees x 31 leaves (hist, lossguide) on the rows and saves it as JSON for scaleml to
import (--train), or loads the JSON of a scaleml model that the bench exported (categorical features typed 'c').
Then times, with nthread=1 (wall clock, and process CPU time, which a busy machine disturbs less): batch margins (inplace_predict), single-row margins (p50/p99 of inplace_predict on one
row, Python call included), and TreeSHAP (predict(pred_contribs=True) on the first --shap-rows rows, DMatrix built
outside the clock). Writes XGBoost's margins and contributions of the first --sample rows as float64 files for the
bench to compare with scaleml's, and prints one JSON object on stdout.

Usage: xgboost_predict.py --x X.f32 --rows R --cols C --model model.json [--train] [--categorical 4,5]
                          [--shap-rows 5000] [--sample 1000] [--sample-out prefix]"""
import argparse
import json
import time

import numpy as np
import xgboost as xgb


def train(X, out):
    x = np.nan_to_num(X)
    y = ((x[:, 0] - 0.5 * x[:, 1] + x[:, 2] * x[:, 3] + 0.3 * np.sin(3 * x[:, 4])) > 0).astype(np.float32)
    booster = xgb.train(
        {
            "objective": "binary:logistic",
            "tree_method": "hist",
            "grow_policy": "lossguide",
            "max_leaves": 31,
            "max_depth": 0,
            "eta": 0.1,
            "nthread": 1,
            "seed": 0,
        },
        xgb.DMatrix(X, label=y),
        num_boost_round=100,
    )
    booster.save_model(out)
    return booster


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--x", required=True)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--cols", type=int, required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--train", action="store_true")
    p.add_argument("--categorical", default="")
    p.add_argument("--shap-rows", type=int, default=5000)
    p.add_argument("--sample", type=int, default=1000)
    p.add_argument("--sample-out", default="")
    a = p.parse_args()
    X = np.fromfile(a.x, dtype=np.float32).reshape(a.rows, a.cols)
    booster = train(X, a.model) if a.train else xgb.Booster(model_file=a.model)
    booster.set_param({"nthread": 1})
    cats = {int(c) for c in a.categorical.split(",") if c != ""}
    types = ["c" if f in cats else "float" for f in range(a.cols)]

    def dmatrix(rows):
        return xgb.DMatrix(rows, feature_types=types, feature_names=booster.feature_names, enable_categorical=True)

    for i in range(2000):
        booster.inplace_predict(X[i % 1000 : i % 1000 + 1], predict_type="margin")
    times = []
    for i in range(20000):
        row = X[i % 1000 : i % 1000 + 1]
        t0 = time.perf_counter_ns()
        booster.inplace_predict(row, predict_type="margin")
        times.append((time.perf_counter_ns() - t0) / 1000)
    times.sort()
    best = best_cpu = float("inf")
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        booster.inplace_predict(X, predict_type="margin")
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    n = min(a.shap_rows, a.rows)
    d = dmatrix(X[:n])
    booster.predict(dmatrix(X[: min(n, 200)]), pred_contribs=True)
    shap_best = shap_cpu = float("inf")
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        booster.predict(d, pred_contribs=True)
        shap_best = min(shap_best, time.perf_counter() - t0)
        shap_cpu = min(shap_cpu, time.process_time() - c0)
    if a.sample_out:
        s = min(a.sample, a.rows)
        booster.inplace_predict(X[:s], predict_type="margin").astype(np.float64).tofile(a.sample_out + "-margin.f64")
        booster.predict(dmatrix(X[:s]), pred_contribs=True).astype(np.float64).tofile(a.sample_out + "-contribs.f64")
    print(
        json.dumps(
            {
                "version": xgb.__version__,
                "single_p50_us": times[len(times) // 2],
                "single_p99_us": times[int(len(times) * 0.99)],
                "batch_rows_per_s": a.rows / best,
                "batch_rows_per_cpu_s": a.rows / best_cpu,
                "shap_rows": n,
                "shap_rows_per_s": n / shap_best,
                "shap_rows_per_cpu_s": n / shap_cpu,
            }
        )
    )


if __name__ == "__main__":
    main()
