"""The Python baseline of bench/serving: FastAPI + uvicorn + scikit-learn, as a Python team would deploy it.

The model is the same kind as scaleml's default for the flights task: SGDClassifier(loss="log_loss") on hour,
day of week and month (one-hot, from `date`), standardized distance, and origin and destination (one-hot over the
training vocabulary plus an "other" slot). It is trained at start-up from the flights CSV the benchmark writes
(.bench-data/flights-3m.csv) on a sample of the training period (dates before 2001-06-13), and kept as a pickle so
that several uvicorn workers, or the next run, load it instead of training again:

    python3.11 bench/serving/fastapi_app.py train <flights.csv> <model.pkl> [rows]   # train and save (once)
    SCALEML_BENCH_FASTAPI_MODEL=<model.pkl> python3.11 -m uvicorn fastapi_app:app --app-dir bench/serving \
        --host 127.0.0.1 --port 8000 --workers 1 --no-access-log --log-level warning

Serving choices, each the faster of the usual options so the baseline is not a straw man: an `async def` route (no
thread-pool hop for a sub-millisecond computation), pydantic models for validation (what FastAPI is chosen for),
features written straight into a NumPy array (no pandas per request), one `predict_proba` call per request, and a
`JSONResponse` (no `jsonable_encoder` pass). Routes and body match `scaleml serve`:
`POST /v1/models/{name}/predict` with `{"instances": [{"date", "distance", "origin", "destination"}, ...]}`.
"""

import os
import pickle
import sys
from datetime import datetime
from typing import List

import numpy as np

HOUR, DOW, MONTH, DISTANCE = 0, 24, 31, 43
BASE_ORIGIN = 44


class Featurizer:
    """Column layout: 24 hours, 7 days, 12 months, distance, origins + other, destinations + other."""

    def __init__(self, origins, destinations, mean, std):
        self.origins = {v: i for i, v in enumerate(origins)}
        self.destinations = {v: i for i, v in enumerate(destinations)}
        self.other_origin = BASE_ORIGIN + len(origins)
        self.base_destination = self.other_origin + 1
        self.other_destination = self.base_destination + len(destinations)
        self.width = self.other_destination + 1
        self.mean = mean
        self.std = std

    def columns(self, hour, dow, month, distance, origin, destination):
        """Column indices and values of the six non-zeros of each row (vectorized, for training)."""
        o = np.array([self.origins.get(v, len(self.origins)) for v in origin]) + BASE_ORIGIN
        d = np.array([self.destinations.get(v, len(self.destinations)) for v in destination]) + self.base_destination
        cols = np.stack([HOUR + hour, DOW + dow, MONTH + month, np.full(len(hour), DISTANCE), o, d], axis=1)
        z = (distance - self.mean) / self.std
        ones = np.ones(len(hour))
        vals = np.stack([ones, ones, ones, z, ones, ones], axis=1)
        return cols, vals


def train(csv_path, model_path, rows):
    import pandas as pd
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import SGDClassifier

    df = pd.read_csv(csv_path, usecols=["date", "delay", "distance", "origin", "destination"])
    date = pd.to_datetime(df["date"], format="%Y-%m-%d %H:%M:%S")
    train_rows = df[date < "2001-06-13"].sample(n=rows, random_state=0) if rows else df[date < "2001-06-13"]
    date = pd.to_datetime(train_rows["date"], format="%Y-%m-%d %H:%M:%S")
    distance = train_rows["distance"].to_numpy(dtype=np.float64)
    vocabulary = {
        "origins": sorted(train_rows["origin"].unique()),
        "destinations": sorted(train_rows["destination"].unique()),
        "mean": float(distance.mean()),
        "std": float(distance.std()) or 1.0,
    }
    featurizer = Featurizer(**vocabulary)
    cols, vals = featurizer.columns(
        date.dt.hour.to_numpy(),
        date.dt.dayofweek.to_numpy(),
        date.dt.month.to_numpy() - 1,
        distance,
        train_rows["origin"].to_numpy(),
        train_rows["destination"].to_numpy(),
    )
    n = len(train_rows)
    X = csr_matrix((vals.ravel(), cols.ravel(), np.arange(0, 6 * n + 1, 6)), shape=(n, featurizer.width))
    y = (train_rows["delay"].to_numpy() > 15).astype(np.int64)
    model = SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=5, tol=None, random_state=0)
    model.fit(X, y)
    tmp = f"{model_path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        # Plain data and the scikit-learn model only: a class defined here would not unpickle under uvicorn.
        pickle.dump({"featurizer": vocabulary, "model": model, "rows": n}, f)
    os.replace(tmp, model_path)
    print(f"trained SGDClassifier(log_loss) on {n} rows, {featurizer.width} features", file=sys.stderr)


if __name__ == "__main__" and len(sys.argv) >= 4 and sys.argv[1] == "train":
    train(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 500_000)
    sys.exit(0)

# ---- the server ---------------------------------------------------------------------------------------------------

import fastapi  # noqa: E402
import pydantic  # noqa: E402
import sklearn  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, HTTPException  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from pydantic import BaseModel  # noqa: E402

MODEL_PATH = os.environ.get("SCALEML_BENCH_FASTAPI_MODEL", "")
if not os.path.exists(MODEL_PATH):
    train(os.environ["SCALEML_BENCH_FLIGHTS_CSV"], MODEL_PATH, 500_000)
with open(MODEL_PATH, "rb") as f:
    loaded = pickle.load(f)
FEATURIZER = Featurizer(**loaded["featurizer"])
MODEL = loaded["model"]
NAME = os.environ.get("SCALEML_BENCH_MODEL_NAME", "flights")


class Instance(BaseModel):
    date: datetime
    distance: float
    origin: str
    destination: str


class PredictRequest(BaseModel):
    instances: List[Instance]


app = FastAPI()


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.get("/versions")
async def versions():
    return {
        "python": sys.version.split()[0],
        "fastapi": fastapi.__version__,
        "uvicorn": uvicorn.__version__,
        "pydantic": pydantic.VERSION,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "trainRows": loaded["rows"],
    }


@app.post("/v1/models/{name}/predict")
async def predict(name: str, body: PredictRequest):
    if name != NAME:
        raise HTTPException(status_code=404, detail=f"No model '{name}' is served here.")
    f = FEATURIZER
    X = np.zeros((len(body.instances), f.width))
    for i, r in enumerate(body.instances):
        d = r.date
        row = X[i]
        row[HOUR + d.hour] = 1.0
        row[DOW + d.weekday()] = 1.0
        row[MONTH + d.month - 1] = 1.0
        row[DISTANCE] = (r.distance - f.mean) / f.std
        row[BASE_ORIGIN + f.origins.get(r.origin, len(f.origins))] = 1.0
        row[f.base_destination + f.destinations.get(r.destination, len(f.destinations))] = 1.0
    proba = MODEL.predict_proba(X)[:, 1]
    return JSONResponse(
        {
            "model": {"name": NAME, "version": 1},
            "predictions": [{"probability": float(p), "label": bool(p > 0.5)} for p in proba],
        }
    )
