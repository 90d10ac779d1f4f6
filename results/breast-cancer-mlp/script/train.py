"""Diagnose breast cancer from cell-nucleus measurements with a small neural network.

The five steps of a predictive-modelling project, on the UCI Wisconsin Diagnostic
Breast Cancer data (569 samples, 30 features, shipped with scikit-learn):

1. Define the problem: predict malignant or benign; judge by accuracy on held-out data.
2. Prepare the data: a stratified 80/20 split; features standardised on the training part only.
3. Evaluate algorithms: spot-check classic models with 10-fold cross-validation against
   the trivial majority-class baseline.
4. Improve results: compare a few network widths on a validation split.
5. Present results: train the chosen network, score it once on the test set, save it.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 42
keras.utils.set_random_seed(SEED)

# 1-2. Define the problem and prepare the data.
data = load_breast_cancer()
x_train, x_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.2, stratify=data.target, random_state=SEED)
scaler = StandardScaler().fit(x_train)
x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
print(f"train {x_train.shape}, test {x_test.shape}, benign share {y_train.mean():.3f}")

# 3. Spot-check algorithms against the majority class with 10-fold cross-validation.
candidates = {
    "majority class": DummyClassifier(strategy="most_frequent"),
    "logistic regression": LogisticRegression(max_iter=1000),
    "k-nearest neighbours": KNeighborsClassifier(),
}
for name, estimator in candidates.items():
    scores = cross_val_score(make_pipeline(StandardScaler(), estimator), x_train, y_train, cv=10)
    print(f"spot-check {name}: {scores.mean():.3f} ± {scores.std():.3f}")


def make_model(width: int) -> keras.Model:
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        keras.layers.Dense(width, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(width // 2, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ], name=f"mlp_{width}")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


# 4. Improve: choose the width on a validation split of the training data only.
x_fit, x_val, y_fit, y_val = train_test_split(
    x_train, y_train, test_size=0.2, stratify=y_train, random_state=SEED)
val_scores = {}
for width in (16, 32, 64):
    candidate = make_model(width)
    candidate.fit(x_fit, y_fit, epochs=30, batch_size=32, verbose=0)
    val_scores[width] = float(np.mean((candidate.predict(x_val, verbose=0)[:, 0] > 0.5) == y_val))
    print(f"width {width}: validation accuracy {val_scores[width]:.3f}")
best_width = max(val_scores, key=val_scores.get)
print(f"best width: {best_width}")

# 5. Train the chosen network on the whole training set and score it once on the test set.
model = make_model(best_width)
model.fit(x_train, y_train, epochs=30, batch_size=32, validation_split=0.15, verbose=2)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {accuracy:.4f}")

predicted = (model.predict(x_test, verbose=0)[:, 0] > 0.5).astype(int)
ConfusionMatrixDisplay.from_predictions(y_test, predicted, display_labels=data.target_names,
                                        cmap="Blues", colorbar=False)
plt.title("Confusion matrix on the test set")
plt.show()
