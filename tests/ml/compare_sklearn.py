#!/usr/bin/python3
"""Check netagm's analysis against numpy and scikit-learn, independently.

usage: compare_sklearn.py DATASET_DIR [DATASET_DIR ...]

Each directory holds what tests/unit/test_ml_sklearn.c wrote:
  X.csv       the matrix netagm analysed (unscaled), no header
  ours.json   netagm's scaler, PCA, k-means inertias and mean shift labels
  agm.csv     (real captures only) the AGM table the matrix was encoded from

Checks (the issue's acceptance criteria):
  encoding   X.csv equals the Numerical AGM built here from agm.csv (exact)
  scaler     mean and sample std equal numpy's to 1e-9 relative
  PCA        explained variance (and ratio) equal scikit-learn's to 1e-6
             relative; components equal up to sign to 1e-6 where the
             eigenvalue is separated from its neighbours
  k-means    median over 5 seeds of netagm's inertia <= 1.02 x the median of
             scikit-learn's best of n_init=10
  mean shift with netagm's bandwidth: same number of clusters, adjusted Rand
             index >= 0.99
Exit status 0 when every check passes, 1 otherwise.
"""
import csv
import json
import os
import sys
import time

import numpy as np
from sklearn.cluster import KMeans, MeanShift
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

NUMERIC = ["pkts", "dst_ip_uniq", "dst_ip_mode_pkts", "src_port_uniq", "src_port_mode_pkts",
           "dst_port_uniq", "dst_port_mode_pkts", "ttl_uniq", "ttl_mode", "ttl_mode_pkts",
           "flags_uniq", "flags_mode_pkts", "len_uniq", "len_mode", "len_mode_pkts"]
ONEHOT = [("src_port_mode", 10), ("dst_port_mode", 10), ("flags_mode", 16)]

failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)


def encode(agm_path):
    """docs/agm.md, "Numerical AGM": 15 numbers, then one-hot over the K modes
    held by the most rows (ties: smaller value first); others all zeros."""
    with open(agm_path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = []
    for name in NUMERIC:
        cols.append([float(r[name]) for r in rows])
    for field, k in ONEHOT:
        vals = [int(r[field]) for r in rows]
        counts = {}
        for v in vals:
            counts[v] = counts.get(v, 0) + 1
        cats = sorted(counts, key=lambda v: (-counts[v], v))[:k]
        for c in range(k):
            if c < len(cats):
                cols.append([1.0 if v == cats[c] else 0.0 for v in vals])
            else:
                cols.append([0.0] * len(vals))
    return np.array(cols).T


def scaler_ref(X):
    n = X.shape[0]
    mean = X.mean(axis=0)
    var = X.var(axis=0, ddof=1) if n > 1 else np.zeros(X.shape[1])
    eps = np.finfo(np.float64).eps
    const = var <= n * eps * var + (n * mean * eps) ** 2
    std = np.where(const, 0.0, np.sqrt(var))
    Z = np.where(std > 0, (X - mean) / np.where(std > 0, std, 1.0), 0.0)
    return mean, std, Z


def close_rel(a, b, rtol, floor):
    """|a - b| <= rtol * max(|b|, floor), elementwise; returns (ok, worst)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    den = np.maximum(np.abs(b), floor)
    err = np.abs(a - b) / den
    return bool(np.all(err <= rtol)), float(err.max()) if err.size else 0.0


def run(d):
    name = os.path.basename(os.path.normpath(d))
    ours = json.load(open(os.path.join(d, "ours.json")))
    X = np.loadtxt(os.path.join(d, "X.csv"), delimiter=",", ndmin=2)
    n, dim = X.shape
    print("%s: %d x %d" % (name, n, dim))

    agm = os.path.join(d, "agm.csv")
    if os.path.exists(agm):
        Xr = encode(agm)
        check(Xr.shape == X.shape and np.array_equal(Xr, X),
              "encoding: %s equals the Numerical AGM of agm.csv" % "X.csv")

    mean, std, Z = scaler_ref(X)
    ok1, e1 = close_rel(ours["scaler_mean"], mean, 1e-9, 1e-300)
    ok2, e2 = close_rel(ours["scaler_std"], std, 1e-9, 1e-300)
    check(ok1 and ok2, "scaler: mean and sample std within 1e-9 relative (worst %.2g, %.2g)"
          % (e1, e2))

    pca = PCA(n_components=dim, svd_solver="full").fit(Z)
    ev = pca.explained_variance_
    total = ev.sum()
    floor = max(total, 1e-300) * 1e-9
    ok1, e1 = close_rel(ours["pca_variance"][:len(ev)], ev, 1e-6, floor)
    ok2, e2 = close_rel(ours["pca_ratio"][:len(ev)], pca.explained_variance_ratio_, 1e-6, 1e-9)
    check(ok1 and ok2, "PCA: explained variance and ratio within 1e-6 (worst %.2g, %.2g)"
          % (e1, e2))
    comps = np.array(ours["pca_components"])
    lmax = ev[0] if ev[0] > 0 else 1.0
    compared, worst = 0, 0.0
    for i in range(min(len(ev), comps.shape[0])):
        gaps = [abs(ev[i] - ev[j]) for j in (i - 1, i + 1) if 0 <= j < len(ev)]
        if ev[i] < 1e-8 * lmax or min(gaps) < 1e-4 * lmax:
            continue  # a (nearly) repeated eigenvalue: its vectors are not unique
        a, b = comps[i], pca.components_[i]
        err = min(np.abs(a - b).max(), np.abs(a + b).max())
        worst = max(worst, err)
        compared += 1
    need = min(5, int(np.sum(ev > 1e-8 * lmax)))
    check(compared >= need and worst <= 1e-6,
          "PCA: %d well-separated components equal up to sign within 1e-6 (worst %.2g)"
          % (compared, worst))

    if "kmeans_inertia" in ours:
        k = ours["kmeans_k"]
        t0 = time.time()
        sk = [KMeans(n_clusters=k, n_init=10, random_state=s).fit(Z).inertia_
              for s in range(len(ours["kmeans_inertia"]))]
        mo, ms = float(np.median(ours["kmeans_inertia"])), float(np.median(sk))
        check(mo <= 1.02 * ms + 1e-9 * max(ms, 1.0),
              "k-means (k=%d): median inertia %.6g <= 1.02 x scikit-learn's %.6g (ratio %.4f, "
              "%.1f s)" % (k, mo, ms, mo / ms if ms else 0, time.time() - t0))

    if "meanshift_labels" in ours:
        bw = ours["meanshift_bandwidth"]
        t0 = time.time()
        sk = MeanShift(bandwidth=bw, bin_seeding=True).fit(Z)
        nk = len(sk.cluster_centers_)
        ari = adjusted_rand_score(sk.labels_, ours["meanshift_labels"])
        check(nk == ours["meanshift_k"] and ari >= 0.99,
              "mean shift (bandwidth %.4g): %d clusters vs scikit-learn's %d, ARI %.4f (%.1f s)"
              % (bw, ours["meanshift_k"], nk, ari, time.time() - t0))


def main():
    for d in sys.argv[1:]:
        run(d)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
