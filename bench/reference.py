#!/usr/bin/python3
"""The reference pipeline for `npm run bench`: the work of `finseg train` / `finseg score`
written as a pandas + scikit-learn user would write it, on the same data set.

    reference.py train COLUMNS MODEL.pkl [--k K] [--restarts 8] [--epochs 8] [--seed 42] [--train-rows N] [--batch 512] [--lr 0.005]
    reference.py score COLUMNS MODEL.pkl OUT.csv

COLUMNS is the bench's NumPy export of the Parquet tables (bench/export-columns.ts: Debian's
pandas has no Parquet engine). Stages, each timed on the wall clock:

  ingest      np.load of the columns into DataFrames (less work than finseg's ingest: no Parquet
              decoding, no contract checks; reported, not compared)
  features    the catalog features of pipeline/02-features, version 2 (same definitions, same
              as-of date, the same 8 most used vendor modules), then, in train, the same drop of
              constant, near-constant (< 0.5% of customers off the majority value) and duplicate
              columns; score keeps the columns train kept
  preprocess  SimpleImputer(median), log1p of skewed non-negative columns, quantile clip,
              StandardScaler, PCA to 90% of the variance (at most 16 components)
  cluster     k from kMin..kMax by silhouette on a 4000-row sample (KMeans n_init=restarts per k),
              then KMeans(k, n_init=restarts) on every row; k is finseg's when --k is given
  classify    MLPClassifier(64, 32), Adam, `batch` rows a step, step size `lr` (constant: scikit-learn's
              Adam has no decay; finseg's decays linearly), `epochs` passes over the
              stratified 80% training split, or a seeded sample of `train-rows` of it (the bench
              passes finseg's own epochs and sample size, so both do the same work)

The last stdout line is a JSON object: stage seconds, total, peak RSS, and the fitted k and
held-out agreement so the two pipelines' results can be compared too.
"""
import json
import pickle
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

# The contract's module order (pipeline/01-ingest/contract.ts): feature columns follow it.
MODULES = ['general_ledger', 'receivables_payables', 'invoicing', 'inventory', 'payroll', 'tax', 'multi_currency',
           'consolidation', 'project_costing', 'contracts', 'budgeting', 'reporting', 'compliance', 'api']
WINDOW_DAYS = 90
SMALL_TICKET = 100.0
DAY = 86400
VENDOR_MODULE_LIMIT = 8
NEAR_CONSTANT_SHARE = 0.005


class Clock:
    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.stages = {}

    def lap(self, stage):
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self.last
        print(f'reference timing: {stage} {now - self.last:.2f} s', file=sys.stderr)
        self.last = now

    def result(self):
        return {
            'stages': self.stages,
            'totalSeconds': time.perf_counter() - self.start,
            'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def load(columns):
    with open(f'{columns}/meta.json') as f:
        meta = json.load(f)

    def frame(table, names):
        return pd.DataFrame({n: np.load(f'{columns}/{table}/{n}.npy') for n in names})

    customers = frame('customers', ['customer', 'signup_day'])
    events = frame('usage_events', ['customer', 'ts', 'module', 'device', 'user', 'count'])
    transactions = frame('transactions', ['customer', 'ts', 'amount', 'currency', 'kind'])
    return meta, customers, events, transactions


def features(meta, customers, events, transactions, vendor=None):
    """One row per customer (in customer_id order), the catalog's columns, and the vendor module codes with a share of their own."""
    d = meta['dictionaries']
    end_day = int(np.datetime64(meta['asOf'], 'D').astype(np.int64)) + 1
    end, start, prev_start = end_day * DAY, (end_day - WINDOW_DAYS) * DAY, (end_day - 2 * WINDOW_DAYS) * DAY

    ev = events[events['ts'] < end].copy()
    ev['n'] = ev['count'].where(ev['count'] >= 0, 1).astype(np.float64)
    win = ev[ev['ts'] >= start].copy()
    win['day'] = win['ts'] // DAY
    g = win.groupby('customer')
    usage = pd.DataFrame({
        'active_days_90': g['day'].nunique(),
        'events_90': g['n'].sum(),
        'users_90': win[win['user'] >= 0].groupby('customer')['user'].nunique(),
        'module_breadth_90': g['module'].nunique(),
    })
    by_module = win.groupby(['customer', 'module'])['n'].sum().unstack(fill_value=0.0)
    for m in MODULES:
        code = d['module'].index(m)
        usage[f'share_{m}'] = (by_module[code] if code in by_module else 0.0) / usage['events_90']
    # Vendor modules: codes outside the catalog; the 8 most used up to the as-of date (ties by name) get their own share.
    vendor_codes = [c for c, name in enumerate(d['module']) if name not in MODULES]
    if vendor is None:
        totals = ev[ev['module'].isin(vendor_codes)].groupby('module')['n'].sum()
        vendor = sorted(totals.index, key=lambda c: (-totals[c], d['module'][c]))[:VENDOR_MODULE_LIMIT]
    pooled = [c for c in vendor_codes if c not in vendor and c in by_module]
    usage['share_vendor_other'] = (by_module[pooled].sum(axis=1) if pooled else 0.0) / usage['events_90']
    for i, code in enumerate(vendor):
        usage[f'vendor_{i}'] = (by_module[code] if code in by_module else 0.0) / usage['events_90']
    by_device = win.groupby(['customer', 'device'])['n'].sum().unstack(fill_value=0.0)
    for dev in ['mobile', 'api', 'desktop']:
        code = d['device'].index(dev)
        usage[f'device_{dev}_share'] = (by_device[code] if code in by_device else 0.0) / usage['events_90']
    prev = ev[(ev['ts'] >= prev_start) & (ev['ts'] < start)].groupby('customer')['n'].sum()
    last_ts = ev.groupby('customer')['ts'].max()
    first_ts = ev.groupby('customer')['ts'].min()

    counts = transactions.loc[transactions['currency'] >= 0, 'currency'].value_counts()
    home = counts[counts == counts.max()].index.min() if len(counts) else -2
    tx = transactions[transactions['ts'] < end].copy()
    tx['size'] = tx['amount'].abs()
    txw = tx[tx['ts'] >= start].copy()
    txw['small'] = txw['size'] < SMALL_TICKET
    txw['refund'] = txw['amount'] < 0
    txw['foreign_size'] = txw['size'].where((txw['currency'] >= 0) & (txw['currency'] != home), 0.0)
    for kind in ['sale', 'purchase', 'payroll', 'transfer']:
        txw[f'kind_{kind}'] = txw['kind'] == d['kind'].index(kind)
    tg = txw.groupby('customer')
    txn = pd.DataFrame({
        'txn_count_90': tg.size(),
        'txn_volume_90': tg['size'].sum(),
        'small_ticket_share': tg['small'].mean(),
        'currencies_90': txw[txw['currency'] >= 0].groupby('customer')['currency'].nunique(),
        'refund_share': tg['refund'].mean(),
    })
    txn['txn_avg_size'] = txn['txn_volume_90'] / txn['txn_count_90']
    txn['foreign_share'] = tg['foreign_size'].sum() / txn['txn_volume_90'].replace(0.0, np.nan)
    for kind in ['sale', 'purchase', 'payroll', 'transfer']:
        txn[f'kind_{kind}_share'] = tg[f'kind_{kind}'].mean()
    volume_prev = tx[(tx['ts'] >= prev_start) & (tx['ts'] < start)].groupby('customer')['size'].sum()
    tx['month'] = tx['ts'].to_numpy().astype('datetime64[s]').astype('datetime64[M]')
    ta = tx.groupby('customer')
    txn_all = pd.DataFrame({'txn_count_all': ta.size(), 'txn_volume_all': ta['size'].sum(), 'txn_active_months': ta['month'].nunique(),
                            'txn_first_ts': ta['ts'].min(), 'txn_last_ts': ta['ts'].max()})

    out = customers.set_index('customer').join(usage).join(txn).join(txn_all)
    out['events_prev'] = prev
    out['volume_prev'] = volume_prev
    out['last_ts'] = last_ts
    out['first_ts'] = first_ts
    for c in ['active_days_90', 'events_90', 'users_90', 'module_breadth_90', 'txn_count_90', 'txn_volume_90', 'currencies_90',
              'events_prev', 'volume_prev', 'txn_count_all', 'txn_volume_all', 'txn_active_months']:
        out[c] = out[c].fillna(0.0)
    out['events_per_user_90'] = out['events_90'] / np.maximum(out['users_90'], 1)
    # Recency from the last activity of either kind; from signup without any.
    last_day = (out[['last_ts', 'txn_last_ts']].max(axis=1) // DAY).fillna(out['signup_day'])
    out['recency_days'] = end_day - last_day
    out['txn_recency_days'] = end_day - (out['txn_last_ts'] // DAY).fillna(out['signup_day'])
    out['txn_tenure_days'] = end_day - out['txn_first_ts'] // DAY
    out['txn_avg_basket'] = out['txn_volume_all'] / out['txn_count_all'].replace(0.0, np.nan)
    out['tenure_days'] = end_day - out['signup_day']
    out['usage_trend'] = np.log((out['events_90'] + 1) / (out['events_prev'] + 1))
    out['volume_trend'] = np.log((out['txn_volume_90'] + 1) / (out['volume_prev'] + 1))
    names = (['active_days_90', 'events_90', 'users_90', 'events_per_user_90', 'recency_days', 'tenure_days', 'module_breadth_90']
             + [f'share_{m}' for m in MODULES] + ['device_mobile_share', 'device_api_share', 'device_desktop_share']
             + ['txn_count_90', 'txn_volume_90', 'txn_avg_size', 'small_ticket_share', 'currencies_90', 'foreign_share', 'refund_share',
                'kind_sale_share', 'kind_purchase_share', 'kind_payroll_share', 'kind_transfer_share',
                'txn_recency_days', 'txn_tenure_days', 'txn_active_months', 'txn_count_all', 'txn_volume_all', 'txn_avg_basket',
                'usage_trend', 'volume_trend']
             + [f'vendor_{i}' for i in range(len(vendor))])
    names.insert(names.index('device_mobile_share'), 'share_vendor_other')
    return out.sort_index()[names].to_numpy(dtype=np.float64), vendor


def informative_columns(X):
    """Columns kept at fit time (pipeline/02-features/select.ts): not all missing, not constant, not near-constant, not a duplicate."""
    n, kept = len(X), []
    for j in range(X.shape[1]):
        observed = X[~np.isnan(X[:, j]), j]
        if len(observed) == 0:
            continue
        _, counts = np.unique(observed, return_counts=True)
        top = counts.max()
        off = len(observed) - top if 2 * top > len(observed) else len(observed)
        if off == 0 or off < NEAR_CONSTANT_SHARE * n:
            continue
        if any(np.array_equal(X[:, j], X[:, i], equal_nan=True) for i in kept):
            continue
        kept.append(j)
    return kept


class Preprocess:
    def fit(self, X, clip=(0.005, 0.995), skew_threshold=1.0, variance=0.9, max_components=16):
        self.imputer = SimpleImputer(strategy='median').fit(X)
        Z = self.imputer.transform(X)
        mins = np.nanmin(X, axis=0)
        centred = Z - Z.mean(axis=0)
        m2 = (centred ** 2).mean(axis=0)
        skew = np.where(m2 > 0, (centred ** 3).mean(axis=0) / np.where(m2 > 0, m2, 1) ** 1.5, 0.0)
        self.log = (mins >= 0) & (skew > skew_threshold)
        Z[:, self.log] = np.log1p(Z[:, self.log])
        # Clip bounds from observed values only, as finseg does (imputed medians would narrow the tails).
        observed = np.where(np.isnan(X), np.nan, Z)
        self.low, self.high = np.nanquantile(observed, clip, axis=0)
        Z = np.clip(Z, self.low, self.high)
        self.scaler = StandardScaler().fit(Z)
        Z = self.scaler.transform(Z)
        self.pca = PCA(n_components=variance, svd_solver='full').fit(Z)
        self.components = min(self.pca.n_components_, max_components)
        return self

    def scale(self, X):
        Z = self.imputer.transform(X)
        Z[:, self.log] = np.log1p(np.maximum(Z[:, self.log], 0))
        return self.scaler.transform(np.clip(Z, self.low, self.high))

    def reduce(self, Z):
        return self.pca.transform(Z)[:, :self.components]


def select_k(R, restarts, seed, k_min=2, k_max=10, sample=4000, min_share=0.03):
    rng = np.random.default_rng(seed)
    S = R[np.sort(rng.choice(len(R), size=min(sample, len(R)), replace=False))]
    rows = []
    for k in range(k_min, min(k_max, len(S) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=restarts, random_state=seed).fit_predict(S)
        share = np.bincount(labels, minlength=k).min() / len(S)
        rows.append({'k': k, 'silhouette': float(silhouette_score(S, labels)), 'calinskiHarabasz': float(calinski_harabasz_score(S, labels)),
                     'daviesBouldin': float(davies_bouldin_score(S, labels)), 'minShare': float(share), 'eligible': bool(share >= min_share)})
    eligible = [r for r in rows if r['eligible']] or rows
    return max(eligible, key=lambda r: (r['silhouette'], -r['k']))['k'], rows


def train(columns, model_path, k, restarts, epochs, seed, train_rows, batch, lr):
    clock = Clock()
    meta, customers, events, transactions = load(columns)
    clock.lap('ingest')
    X, vendor = features(meta, customers, events, transactions)
    del events, transactions
    keep = informative_columns(X)
    X = X[:, keep]
    clock.lap('features')
    pre = Preprocess().fit(X)
    Z = pre.scale(X)
    R = pre.reduce(Z)
    clock.lap('preprocess')
    selected_k, selection = select_k(R, restarts, seed)
    k = k or selected_k
    # finseg's tolerance is an absolute squared movement of 1e-6; scikit-learn's is relative to the mean variance.
    tol = 1e-6 / float(R.var(axis=0).mean())
    kmeans = KMeans(n_clusters=k, n_init=restarts, max_iter=300, tol=tol, random_state=seed).fit(R)
    labels = kmeans.labels_
    clock.lap('cluster')
    Z_train, Z_held, y_train, y_held = train_test_split(Z, labels, test_size=0.2, stratify=labels, random_state=seed)
    if train_rows and train_rows < len(y_train):
        # The same work as finseg: its MLP trains on a seeded sample of this many rows of the split.
        sample = np.sort(np.random.default_rng(seed).choice(len(y_train), size=train_rows, replace=False))
        Z_train, y_train = Z_train[sample], y_train[sample]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(64, 32), batch_size=batch, learning_rate_init=lr, alpha=0.0, max_iter=epochs,
                            n_iter_no_change=epochs + 1, tol=0.0, random_state=seed).fit(Z_train, y_train)
    agreement = float((mlp.predict(Z_held) == y_held).mean())
    clock.lap('classify')
    with open(model_path, 'wb') as f:
        pickle.dump({'pre': pre, 'kmeans': kmeans, 'mlp': mlp, 'vendor': vendor, 'keep': keep}, f)
    clock.lap('bundle')
    return {'job': 'train', **clock.result(), 'customers': int(len(X)), 'k': int(k), 'selectedK': int(selected_k), 'selection': selection,
            'features': int(X.shape[1]), 'pcaComponents': int(pre.components), 'inertia': float(kmeans.inertia_), 'iterations': int(kmeans.n_iter_),
            'heldOutAccuracy': agreement, 'nTrain': int(len(y_train)), 'epochs': epochs}


def score(columns, model_path, out_path):
    clock = Clock()
    with open(model_path, 'rb') as f:
        model = pickle.load(f)
    clock.lap('load')
    meta, customers, events, transactions = load(columns)
    clock.lap('ingest')
    X, _ = features(meta, customers, events, transactions, model['vendor'])
    X = X[:, model['keep']]
    del events, transactions
    clock.lap('features')
    pre = model['pre']
    Z = pre.scale(X)
    R = pre.reduce(Z)
    clock.lap('preprocess')
    kmeans = model['kmeans']
    labels = kmeans.predict(R)
    distance = np.sqrt(((R - kmeans.cluster_centers_[labels]) ** 2).sum(axis=1))
    clock.lap('assign')
    proba = model['mlp'].predict_proba(Z)
    clock.lap('classify')
    out = pd.DataFrame(proba, columns=[f'p_segment_{j}' for j in range(proba.shape[1])])
    out.insert(0, 'customer', customers['customer'].to_numpy())
    out.insert(1, 'segment_id', labels)
    out.insert(2, 'confidence', proba[np.arange(len(labels)), labels])
    out.insert(3, 'distance', distance)
    out.to_csv(out_path, index=False)
    clock.lap('write')
    return {'job': 'score', **clock.result(), 'rows': int(len(X))}


def main(argv):
    args, opts, i = [], {}, 0
    while i < len(argv):
        if argv[i].startswith('--'):
            opts[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            args.append(argv[i])
            i += 1
    flag = lambda name, default: int(opts[name]) if name in opts else default
    if args[:1] == ['train'] and len(args) == 3:
        result = train(args[1], args[2], flag('k', 0), flag('restarts', 8), flag('epochs', 8), flag('seed', 42), flag('train-rows', 0),
                       flag('batch', 512), float(opts.get('lr', 0.005)))
    elif args[:1] == ['score'] and len(args) == 4:
        result = score(args[1], args[2], args[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
