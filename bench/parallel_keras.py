"""
Digits: a small CNN, after a scikit-learn baseline cross-validated in parallel
==============================================================================

`make bench` times it on its own and under a build, side by side (bench/run_bench.py,
"Capture's overhead").
"""
import time

import keras
from keras import layers
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split

t0 = time.time()
X, y = load_digits(return_X_y=True)
X = X / 16.0
t1 = time.time()
baseline = cross_val_score(LogisticRegression(max_iter=2000), X, y, cv=5, n_jobs=-1)
print(f"Baseline accuracy: {baseline.mean():.3f} ({time.time() - t1:.1f} s)")
X_train, X_test, y_train, y_test = train_test_split(X.reshape(-1, 8, 8, 1), y, test_size=0.2,
                                                    random_state=0)
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((8, 8, 1)),
    layers.Conv2D(32, 3, activation="relu", padding="same"),
    layers.Conv2D(64, 3, activation="relu", padding="same"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
t2 = time.time()
model.fit(X_train, y_train, epochs=20, batch_size=32, validation_split=0.1, verbose=2)
print(f"fit took {time.time() - t2:.1f} s")
loss, acc = model.evaluate(X_test, y_test, verbose=0)
print(f"Test accuracy: {acc:.3f}")
print(f"Total time: {time.time() - t0:.1f} s")
