"""Peer of bench/cluster/kmeans.bench.ts: scikit-learn's MiniBatchKMeans.partial_fit over the same standardized
flights features, in the same row order and batch size.

Usage: /usr/bin/python3.11 bench/cluster/sklearn_kmeans.py SPEC.json
SPEC: {"npy": path of a float32 rows x features .npy, "nClusters": k, "batchSize": rows per partial_fit call,
       "runs": [{"name": str, "seed": int, "init": "k-means++" | [[...], ...], "reassignmentRatio": float}]}
Prints one JSON line: {"versions": {...}, "nThreads": int, "rows": n, "runs": [{"name", "seconds", "rowsPerSecond",
"inertia", "centers"}]}. Timing covers the partial_fit calls only (features already in memory as float64).
"""

import json
import platform
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.cluster import MiniBatchKMeans


def main():
    warnings.simplefilter('ignore')
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    X = np.load(spec['npy']).astype(np.float64)
    n = X.shape[0]
    batch = spec['batchSize']
    runs = []
    n_threads = None
    for run in spec['runs']:
        init = run['init'] if isinstance(run['init'], str) else np.asarray(run['init'], dtype=np.float64)
        # compute_labels=False: scaleml's partialFit does not label the batch after the update either.
        est = MiniBatchKMeans(n_clusters=spec['nClusters'], init=init, batch_size=batch, n_init=1,
                              compute_labels=False, random_state=run['seed'],
                              reassignment_ratio=run['reassignmentRatio'])
        start = time.perf_counter()
        for a in range(0, n, batch):
            est.partial_fit(X[a:a + batch])
        seconds = time.perf_counter() - start
        n_threads = est._n_threads
        runs.append({
            'name': run['name'],
            'seconds': seconds,
            'rowsPerSecond': n / seconds,
            'inertia': float(-est.score(X)),
            'centers': est.cluster_centers_.ravel().tolist(),
        })
    versions = {'python': platform.python_version(), 'numpy': np.__version__, 'scikit-learn': sklearn.__version__}
    print(json.dumps({'versions': versions, 'nThreads': n_threads, 'rows': n, 'runs': runs}))


if __name__ == '__main__':
    main()
