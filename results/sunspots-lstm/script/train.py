"""Forecast next year's sunspot number with an LSTM.

The five steps on the yearly sunspot series 1700–2008 shipped with statsmodels:

1. Define the problem: predict year t+1 from the previous 12 years; judge by RMSE in
   sunspot units on the last 20% of years, which the model never sees in training.
2. Prepare the data: a chronological split (no shuffling across time); sliding windows
   of 12 years; inputs and outputs rescaled inside the model so metrics stay in units.
3. Evaluate algorithms: the persistence forecast (next year = this year) is the
   baseline every forecast must beat; a linear autoregression is the classic rival.
4. Improve results: a single LSTM layer with early stopping on a validation tail.
5. Present results: RMSE on the test years against persistence; the forecast plotted.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from statsmodels.datasets import sunspots

SEED = 42
WINDOW = 12
SCALE = 200.0  # about the series' maximum: keeps the LSTM's inputs near [0, 1]
keras.utils.set_random_seed(SEED)

# 1-2. Define the problem and prepare the data.
series = sunspots.load_pandas().data
years, values = series["YEAR"].to_numpy(int), series["SUNACTIVITY"].to_numpy("float32")
windows = np.lib.stride_tricks.sliding_window_view(values[:-1], WINDOW)
targets = values[WINDOW:]
target_years = years[WINDOW:]
split = int(len(windows) * 0.8)
x_train, x_test = windows[:split], windows[split:]
y_train, y_test = targets[:split], targets[split:]
print(f"train {x_train.shape} ({target_years[0]}–{target_years[split - 1]}), "
      f"test {x_test.shape} ({target_years[split]}–{target_years[-1]})")

# 3. Baselines and a classic model on the same windows.
persistence_rmse = mean_squared_error(y_test, x_test[:, -1]) ** 0.5
linear = Ridge(alpha=1.0).fit(x_train, y_train)
linear_rmse = mean_squared_error(y_test, linear.predict(x_test)) ** 0.5
print(f"spot-check persistence: RMSE {persistence_rmse:.2f}")
print(f"spot-check linear autoregression (12 lags): RMSE {linear_rmse:.2f}")

# 4. The LSTM, with early stopping on the last 15% of the training years.
model = keras.Sequential([
    keras.Input(shape=(WINDOW, 1)),
    keras.layers.Rescaling(1 / SCALE),
    keras.layers.LSTM(32),
    keras.layers.Dense(1),
    keras.layers.Rescaling(SCALE),
], name="sunspots_lstm")
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse",
              metrics=[keras.metrics.RootMeanSquaredError(name="rmse"),
                       keras.metrics.MeanAbsoluteError(name="mae")])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=15, restore_best_weights=True)
model.fit(x_train[..., np.newaxis], y_train, epochs=150, batch_size=16, validation_split=0.15,
          shuffle=True, callbacks=[stop], verbose=2)

# 5. Score once on the test years and plot the forecast.
results = model.evaluate(x_test[..., np.newaxis], y_test, return_dict=True, verbose=0)
print(f"Test RMSE: {results['rmse']:.2f} (persistence {persistence_rmse:.2f})")

forecast = model.predict(x_test[..., np.newaxis], verbose=0)[:, 0]
plt.figure(figsize=(8, 3.5))
plt.plot(target_years[split:], y_test, label="observed", color="black")
plt.plot(target_years[split:], forecast, label=f"LSTM (RMSE {results['rmse']:.1f})")
plt.plot(target_years[split:], x_test[:, -1], label=f"persistence (RMSE {persistence_rmse:.1f})",
         linestyle=":")
plt.title("One-year-ahead forecast on the test years")
plt.xlabel("year")
plt.ylabel("sunspot number")
plt.legend()
plt.show()
