"""Predict diabetes progression with a small neural network regressor.

The five steps on the diabetes data shipped with scikit-learn (442 patients, ten
baseline measurements, a quantitative measure of progression one year later):

1. Define the problem: predict the progression measure; judged by RMSE on held-out patients.
2. Prepare the data: an 80/20 split; features standardised on the training part only.
3. Evaluate algorithms: spot-check linear and non-linear regressors with 10-fold
   cross-validation against the training mean.
4. Improve results: tune the ridge penalty with a grid search, then train a small network.
5. Present results: RMSE on the test set; predicted against observed.
"""

import keras
import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.preprocessing import StandardScaler

SEED = 42
keras.utils.set_random_seed(SEED)

# 1-2. Define the problem and prepare the data.
X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=SEED)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
print("train", X_train.shape, "test", X_test.shape)

# 3. Spot-check regressors with 10-fold cross-validation (RMSE, lower is better).
models = [
    ("Mean", DummyRegressor()),
    ("LR", LinearRegression()),
    ("Ridge", Ridge()),
    ("RF", RandomForestRegressor(n_estimators=100, random_state=SEED)),
]
for name, model in models:
    scores = -cross_val_score(model, X_train, y_train, cv=10,
                              scoring="neg_root_mean_squared_error")
    print("%s: RMSE %.2f (%.2f)" % (name, scores.mean(), scores.std()))

# 4. Improve: tune the ridge penalty, then train a small network.
grid = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 3.0, 10.0, 30.0, 100.0]}, cv=10,
                    scoring="neg_root_mean_squared_error")
grid.fit(X_train, y_train)
print("Best ridge: RMSE %.2f with %s" % (-grid.best_score_, grid.best_params_))

model = keras.Sequential([
    keras.Input(shape=(X_train.shape[1],)),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(1),
])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse",
              metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=20, restore_best_weights=True)
model.fit(X_train, y_train, epochs=200, batch_size=16, validation_split=0.15,
          callbacks=[stop], verbose=2)

# 5. Present results: score once on the test set.
loss, rmse = model.evaluate(X_test, y_test, verbose=0)
print("Test RMSE: %.2f" % rmse)

predicted = model.predict(X_test, verbose=0)[:, 0]
plt.figure(figsize=(4.5, 4.5))
plt.scatter(y_test, predicted, s=12)
plt.plot([y.min(), y.max()], [y.min(), y.max()], color="black", linestyle=":")
plt.title("Predicted against observed progression (test set)")
plt.xlabel("observed")
plt.ylabel("predicted")
plt.show()
