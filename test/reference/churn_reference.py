"""scikit-learn references for the churn model (pipeline/05-classify/churn*.ts). Run from the
repository root:

    /usr/bin/python3 test/reference/churn_reference.py > test/reference/churn-reference.json

1. telco: 5-fold stratified CV ROC AUC of LogisticRegression and HistGradientBoostingClassifier on
   the Telco sample (test/fixtures/real/telco-churn), one-hot encoded and standardised (the issue's
   anchor), and of LogisticRegression (C = 0.1, finseg's default l2 = 10) on finseg's
   profile-table encoding (a two-valued column gives one indicator): without expansion, with
   finseg's default expansion (log1p of each measure with more than two values) and with the full
   one (also quantile-threshold indicators at 1/3 and 2/3 and pairwise products of the 3 features
   most correlated with the label), each fitted inside each training fold. The in-sample AUC beside the CV AUC shows whether the
   expansion only overfits.
2. logistic: a small synthetic set and scikit-learn's L2 LogisticRegression on it (coefficients,
   intercept, probabilities), which the Newton solver must reproduce.
"""
import json
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

COMMAND = '/usr/bin/python3 test/reference/churn_reference.py > test/reference/churn-reference.json'
TELCO = 'test/fixtures/real/telco-churn/Telco-Customer-Churn.csv'
NUMERIC = ['SeniorCitizen', 'tenure', 'MonthlyCharges', 'TotalCharges']
C = 0.1


def telco():
    df = pd.read_csv(TELCO)
    df['TotalCharges'] = pd.to_numeric(df['TotalCharges'], errors='coerce')
    y = (df['Churn'] == 'Yes').astype(int).values
    cats = [c for c in df.columns if c not in NUMERIC + ['customerID', 'Churn']]
    numeric = df[NUMERIC].fillna(df[NUMERIC].median())
    onehot = pd.concat([numeric, pd.get_dummies(df[cats]).astype(float)], axis=1).values
    finseg = [numeric]
    for c in cats:
        counts = df[c].value_counts()
        values = sorted(counts.index, key=lambda v: (-counts[v], v))
        keep = [values[1]] if len(values) == 2 else values
        finseg.append(pd.DataFrame({f'{c}={v}': (df[c] == v).astype(float) for v in keep}))
    finseg = pd.concat(finseg, axis=1).values
    cv = StratifiedKFold(5, shuffle=True, random_state=0)

    def cv_auc(make, X, expand=None):
        oof = np.zeros(len(y))
        for tr, te in cv.split(X, y):
            e = Expansion(X[tr], y[tr], *expand) if expand else None
            Xtr, Xte = (e.apply(X[tr]), e.apply(X[te])) if e else (X[tr], X[te])
            oof[te] = make().fit(Xtr, y[tr]).predict_proba(Xte)[:, 1]
        return float(roc_auc_score(y, oof))

    def in_sample(X, expand):
        e = Expansion(X, y, *expand) if expand else None
        Xe = e.apply(X) if e else X
        return float(roc_auc_score(y, lr_c().fit(Xe, y).predict_proba(Xe)[:, 1]))

    lr = lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
    lr_c = lambda: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))
    hgb = lambda: HistGradientBoostingClassifier(random_state=0)
    return {
        'rows': int(len(y)),
        'churners': int(y.sum()),
        'cv': '5-fold StratifiedKFold(shuffle=True, random_state=0)',
        'logisticOneHotAuc': cv_auc(lr, onehot),
        'histGradientBoostingOneHotAuc': cv_auc(hgb, onehot),
        'logisticFinsegEncodingAuc': cv_auc(lr_c, finseg),
        'logisticFinsegLog1pAuc': cv_auc(lr_c, finseg, expand=(1, 0)),
        'logisticFinsegFullExpansionAuc': cv_auc(lr_c, finseg, expand=(3, 3)),
        'logisticFinsegEncodingInSampleAuc': in_sample(finseg, None),
        'logisticFinsegLog1pInSampleAuc': in_sample(finseg, (1, 0)),
        'logisticFinsegFullExpansionInSampleAuc': in_sample(finseg, (3, 3)),
    }


class Expansion:
    """finseg's churn expansion (pipeline/05-classify/churn-expand.ts), fitted on training rows."""

    def __init__(self, X, y, bins, interactions):
        self.mu, self.sd = X.mean(0), X.std(0)
        self.sd[self.sd < 1e-12] = 1
        self.logs, self.thresholds = [], []
        for j in range(X.shape[1]):
            x = X[:, j]
            if len(np.unique(x)) <= 2:
                continue
            if x.min() >= 0:
                self.logs.append(j)
            seen = set()
            for b in range(1, bins):
                q = float(np.quantile(x, b / bins))
                if q < x.max() and q not in seen:
                    self.thresholds.append((j, q))
                seen.add(q)
        Z = (X - self.mu) / self.sd
        yc = y - y.mean()
        corr = np.abs((Z * yc[:, None]).mean(0) / (np.sqrt(y.mean() * (1 - y.mean()))))
        top = sorted(sorted(range(X.shape[1]), key=lambda j: (-corr[j], j))[:interactions]) if interactions >= 2 else []
        self.products = [(a, b) for i, a in enumerate(top) for b in top[i + 1:]]

    def apply(self, X):
        Z = (X - self.mu) / self.sd
        cols = [X]
        cols += [np.log1p(np.maximum(X[:, [j]], 0)) for j in self.logs]
        cols += [(X[:, [j]] > q).astype(float) for j, q in self.thresholds]
        cols += [Z[:, [a]] * Z[:, [b]] for a, b in self.products]
        return np.hstack(cols)


def logistic():
    rng = np.random.default_rng(17)
    X = np.round(rng.normal(size=(80, 3)) * [1.0, 2.0, 0.5], 4)
    z = 0.4 + X @ np.array([1.2, -0.6, 2.0])
    y = (rng.random(80) < 1 / (1 + np.exp(-z))).astype(int)
    out = {'X': X.tolist(), 'y': y.tolist(), 'fits': []}
    for l2 in [0.5, 10.0]:
        m = LogisticRegression(C=1 / l2, tol=1e-12, max_iter=10000).fit(X, y)
        out['fits'].append({'l2': l2, 'coef': m.coef_[0].tolist(), 'intercept': float(m.intercept_[0]), 'probabilities': m.predict_proba(X)[:, 1].tolist()})
    return out


if __name__ == '__main__':
    json.dump({'command': COMMAND, 'sklearn': sklearn.__version__, 'telco': telco(), 'logistic': logistic()}, sys.stdout, indent=1)
    sys.stdout.write('\n')
