"""
Diabetes progression: a stacked ensemble, cross-validated in parallel
=====================================================================

A DataFrame, a ColumnTransformer in a Pipeline, a StackingRegressor of a linear model,
a random forest and gradient boosting, then cross_validate and cross_val_predict with
n_jobs=-1, timers printed along the way. `make bench` times it on its own and under a
build, side by side (bench/run_bench.py, "Capture's overhead").
"""
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor, StackingRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import KFold, cross_val_predict, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

t0 = time.time()

# Load the data and make it a bit bigger (noisy copies of the rows)
data = load_diabetes(as_frame=True)
df = data.frame
rng = np.random.RandomState(0)
copies = []
for _ in range(3):
    noisy = df.copy()
    num_cols = [c for c in df.columns if c not in ("sex", "target")]
    noisy[num_cols] = noisy[num_cols] + rng.normal(0, 0.005, size=noisy[num_cols].shape)
    copies.append(noisy)
df = pd.concat(copies, ignore_index=True)
df["sex"] = np.where(df["sex"] > 0, "male", "female")
df["age_group"] = pd.cut(df["age"], bins=4, labels=["young", "mid", "older", "old"])

X = df.drop(columns=["target"])
y = df["target"]
print("Data shape:", X.shape)

categorical = ["sex", "age_group"]
numeric = [c for c in X.columns if c not in categorical]

preprocess = ColumnTransformer([
    ("num", StandardScaler(), numeric),
    ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
])

stack = StackingRegressor(
    estimators=[
        ("ridge", RidgeCV(alphas=np.logspace(-3, 3, 13))),
        ("rf", RandomForestRegressor(n_estimators=100, min_samples_leaf=3, n_jobs=-1,
                                     random_state=42)),
        ("hgb", HistGradientBoostingRegressor(max_iter=100, learning_rate=0.05,
                                              random_state=42)),
    ],
    final_estimator=RidgeCV(),
    cv=5,
    n_jobs=-1,
)

model = Pipeline([("prep", preprocess), ("stack", stack)])
cv = KFold(n_splits=5, shuffle=True, random_state=42)

t1 = time.time()
scores = cross_validate(model, X, y, cv=cv, n_jobs=-1,
                        scoring=["r2", "neg_mean_absolute_error", "neg_root_mean_squared_error"],
                        return_train_score=False)
print(f"cross_validate took {time.time() - t1:.1f} s")
print("R2 per fold:", np.round(scores["test_r2"], 3))
print(f"R2:   {scores['test_r2'].mean():.3f} +/- {scores['test_r2'].std():.3f}")
print(f"MAE:  {-scores['test_neg_mean_absolute_error'].mean():.2f}")
print(f"RMSE: {-scores['test_neg_root_mean_squared_error'].mean():.2f}")

t2 = time.time()
oof = cross_val_predict(model, X, y, cv=cv, n_jobs=-1)
print(f"cross_val_predict took {time.time() - t2:.1f} s")
print(f"Out-of-fold R2:  {r2_score(y, oof):.3f}")
print(f"Out-of-fold MAE: {mean_absolute_error(y, oof):.2f}")

print(f"Total time: {time.time() - t0:.1f} s")
