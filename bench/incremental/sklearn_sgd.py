"""scikit-learn peer for bench/incremental: SGDClassifier(log_loss).partial_fit fed by pandas read_csv chunks.

Same recipe as scaleml's flights task: train = date < 2001-06-13, test = the rest; label delay > 15; features:
one-hot hour (24), day of week (7), month (12), standardized distance (incremental StandardScaler pass), one-hot
origin and destination over the training vocabulary plus an "other" slot. Prints one JSON object.

usage: python3.11 sklearn_sgd.py <flights.csv> <epochs>
"""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

path, epochs = sys.argv[1], int(sys.argv[2])
CUTOFF = pd.Timestamp("2001-06-13 00:00:00")
CHUNK = 100_000
started = time.perf_counter()


def chunks():
    return pd.read_csv(path, chunksize=CHUNK, parse_dates=["date"])


scaler = StandardScaler()
origins, destinations = set(), set()
for c in chunks():
    c = c[c["date"] < CUTOFF]
    if len(c) == 0:
        continue
    scaler.partial_fit(c[["distance"]].to_numpy(dtype=np.float64))
    origins.update(c["origin"].unique())
    destinations.update(c["destination"].unique())
o_index = {a: i for i, a in enumerate(sorted(origins))}
d_index = {a: i for i, a in enumerate(sorted(destinations))}
n_o, n_d = len(o_index) + 1, len(d_index) + 1
OFF_HOUR, OFF_DOW, OFF_MONTH, OFF_DIST = 0, 24, 31, 43
OFF_O = 44
OFF_D = OFF_O + n_o
N_FEATURES = OFF_D + n_d


def features(c):
    n = len(c)
    d = c["date"].dt
    o = c["origin"].map(o_index).fillna(n_o - 1).to_numpy(dtype=np.int64)
    de = c["destination"].map(d_index).fillna(n_d - 1).to_numpy(dtype=np.int64)
    dist = scaler.transform(c[["distance"]].to_numpy(dtype=np.float64))[:, 0]
    cols = np.stack(
        [
            OFF_HOUR + d.hour.to_numpy(),
            OFF_DOW + d.dayofweek.to_numpy(),
            OFF_MONTH + d.month.to_numpy() - 1,
            np.full(n, OFF_DIST),
            OFF_O + o,
            OFF_D + de,
        ],
        axis=1,
    ).ravel()
    vals = np.stack([np.ones(n), np.ones(n), np.ones(n), dist, np.ones(n), np.ones(n)], axis=1).ravel()
    indptr = np.arange(0, 6 * n + 1, 6)
    return sparse.csr_matrix((vals, cols, indptr), shape=(n, N_FEATURES))


model = SGDClassifier(loss="log_loss", alpha=1e-4, random_state=0)
train_rows = 0
epoch_started = time.perf_counter()
for epoch in range(epochs):
    for c in chunks():
        c = c[c["date"] < CUTOFF]
        if len(c) == 0:
            continue
        model.partial_fit(features(c), (c["delay"] > 15).to_numpy(), classes=[False, True])
        if epoch == 0:
            train_rows += len(c)
epoch_seconds = time.perf_counter() - epoch_started

ys, ps = [], []
for c in chunks():
    c = c[c["date"] >= CUTOFF]
    if len(c) == 0:
        continue
    ys.append((c["delay"] > 15).to_numpy())
    ps.append(model.predict_proba(features(c))[:, 1])
y, p = np.concatenate(ys), np.concatenate(ps)
print(
    json.dumps(
        {
            "peer": f"scikit-learn {__import__('sklearn').__version__} SGDClassifier.partial_fit + pandas {pd.__version__} read_csv(chunksize={CHUNK})",
            "epochs": epochs,
            "trainRows": train_rows,
            "testRows": int(len(y)),
            "auc": float(roc_auc_score(y, p)),
            "logLoss": float(log_loss(y, p)),
            "trainSeconds": epoch_seconds,
            "rowsPerSecond": train_rows * epochs / epoch_seconds,
            "seconds": time.perf_counter() - started,
            "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        }
    )
)
