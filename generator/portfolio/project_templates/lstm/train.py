"""Forecast next month's CO2 concentration at Mauna Loa with an LSTM.

The five steps on the weekly CO2 series 1958–2001 shipped with statsmodels:

1. Define the problem: predict next month's change in CO2 (ppm) from the changes of the
   previous 24 months; the error of the change is the error of the forecast level.
   Judged by RMSE on the last 20% of months, which the model never sees in training.
2. Prepare the data: weekly readings averaged by month, gaps interpolated; month-to-month
   changes; sliding windows; a chronological split (no shuffling across time).
3. Evaluate algorithms: the persistence forecast (next change = this change) is the
   baseline every forecast must beat; spot-check the mean and a linear autoregression
   with time-series cross-validation (each fold tested on months after its training).
4. Improve results: a single LSTM layer with early stopping on a validation tail.
5. Present results: RMSE on the test months; the forecast plotted.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import TimeSeriesSplit, cross_val_score
from statsmodels.datasets import co2

SEED = 42
WINDOW = 24
keras.utils.set_random_seed(SEED)

# 1-2. Define the problem and prepare the data.
weekly = co2.load_pandas().data["co2"]
monthly = weekly.resample("MS").mean().interpolate()
changes = monthly.diff().dropna().to_numpy("float32")  # ppm per month
windows = np.lib.stride_tricks.sliding_window_view(changes[:-1], WINDOW)
targets = changes[WINDOW:]
split = int(len(windows) * 0.8)
X_train, X_test = windows[:split, :, np.newaxis], windows[split:, :, np.newaxis]
y_train, y_test = targets[:split], targets[split:]
print("train", X_train.shape, "test", X_test.shape)

# 3. The baseline: persistence (next month's change = this month's change), and two
# classic models spot-checked with time-series cross-validation on the training months.
persistence_rmse = mean_squared_error(y_test, X_test[:, -1, 0]) ** 0.5
print("Persistence RMSE: %.3f ppm" % persistence_rmse)
models = [("Mean", DummyRegressor()), ("Linear AR", Ridge(alpha=1.0))]
for name, model in models:
    scores = -cross_val_score(model, X_train[:, :, 0], y_train, cv=TimeSeriesSplit(n_splits=5),
                              scoring="neg_root_mean_squared_error")
    print("%s: RMSE %.3f (%.3f)" % (name, scores.mean(), scores.std()))

# 4. Improve: an LSTM with early stopping on the last 15% of the training months.
model = keras.Sequential([
    keras.Input(shape=(WINDOW, 1)),
    keras.layers.LSTM(32),
    keras.layers.Dense(1),
])
model.compile(optimizer="adam", loss="mse",
              metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
model.fit(X_train, y_train, epochs=80, batch_size=16, validation_split=0.15,
          callbacks=[stop], verbose=2)

# 5. Present results: RMSE on the test months, and the forecast against what happened.
loss, rmse = model.evaluate(X_test, y_test, verbose=0)
print("Test RMSE: %.3f ppm (persistence %.3f)" % (rmse, persistence_rmse))

forecast = model.predict(X_test, verbose=0)[:, 0]
months = monthly.index[1 + WINDOW + split:]
plt.figure(figsize=(8, 3.5))
plt.plot(months, y_test, label="observed", color="black")
plt.plot(months, forecast, label="LSTM (RMSE %.2f)" % rmse)
plt.plot(months, X_test[:, -1, 0], label="persistence (RMSE %.2f)" % persistence_rmse,
         linestyle=":")
plt.title("Month-to-month change in CO2 on the test months")
plt.xlabel("month")
plt.ylabel("change in CO2 (ppm)")
plt.legend()
plt.show()
