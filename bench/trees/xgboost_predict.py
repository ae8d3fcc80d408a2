"""Peer of bench/trees/predict.bench.ts: trains an XGBoost 1.7 model of 100 trees x 31 leaves (hist, lossguide) on
the benchmark's rows, saves it as JSON for scaleml to import, and times single-threaded prediction on the same rows.
Prints one JSON object on stdout. Usage: xgboost_predict.py X.f32 rows cols model.json"""
import json
import sys
import time

import numpy as np
import xgboost as xgb


def main():
    path, rows, cols, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    X = np.fromfile(path, dtype=np.float32).reshape(rows, cols)
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
    booster.set_param({"nthread": 1})
    for i in range(2000):
        booster.inplace_predict(X[i % 1000 : i % 1000 + 1], predict_type="margin")
    times = []
    for i in range(20000):
        row = X[i % 1000 : i % 1000 + 1]
        t0 = time.perf_counter_ns()
        booster.inplace_predict(row, predict_type="margin")
        times.append((time.perf_counter_ns() - t0) / 1000)
    times.sort()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        booster.inplace_predict(X, predict_type="margin")
        best = min(best, time.perf_counter() - t0)
    print(
        json.dumps(
            {
                "single_p50_us": times[len(times) // 2],
                "single_p99_us": times[int(len(times) * 0.99)],
                "batch_rows_per_s": rows / best,
            }
        )
    )


if __name__ == "__main__":
    main()
