"""Recognise handwritten digits with a small convolutional network.

The five steps on the UCI optical-digits images shipped with scikit-learn (1,797
8×8 grey-level images, ten classes):

1. Define the problem: which digit is written; judge by accuracy on held-out images.
2. Prepare the data: a stratified 80/20 split; pixels scaled to [0, 1] and shaped as
   one-channel images for the convolutions.
3. Evaluate algorithms: spot-check classic models on flattened pixels with 5-fold
   cross-validation against the majority class.
4. Improve results: augment nothing, regularise with dropout, and stop when the
   validation loss stops improving.
5. Present results: score the network once on the test set; show its mistakes.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

SEED = 42
keras.utils.set_random_seed(SEED)

# 1-2. Define the problem and prepare the data.
digits = load_digits()
images = (digits.images / 16.0).astype("float32")[..., np.newaxis]
x_train, x_test, y_train, y_test = train_test_split(
    images, digits.target, test_size=0.2, stratify=digits.target, random_state=SEED)
print(f"train {x_train.shape}, test {x_test.shape}, classes {np.bincount(y_train).tolist()}")

# 3. Spot-check classic models on flattened pixels.
flat_train = x_train.reshape(len(x_train), -1)
for name, estimator in {
    "majority class": DummyClassifier(strategy="most_frequent"),
    "logistic regression": LogisticRegression(max_iter=2000),
    "k-nearest neighbours": KNeighborsClassifier(n_neighbors=3),
    "RBF support vector machine": SVC(gamma="scale"),
}.items():
    scores = cross_val_score(estimator, flat_train, y_train, cv=5)
    print(f"spot-check {name}: {scores.mean():.3f} ± {scores.std():.3f}")

# 4. The network: two convolution blocks, dropout, early stopping on validation loss.
model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
    keras.layers.GlobalAveragePooling2D(),
    keras.layers.Dropout(0.3),
    keras.layers.Dense(10, activation="softmax"),
], name="digits_cnn")
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
model.fit(x_train, y_train, epochs=40, batch_size=32, validation_split=0.15, callbacks=[stop],
          verbose=2)

# 5. Score once on the test set and look at the mistakes.
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {accuracy:.4f}")

predicted = model.predict(x_test, verbose=0).argmax(axis=1)
mistakes = np.flatnonzero(predicted != y_test)
fig, axes = plt.subplots(2, 6, figsize=(8, 3.2))
for ax in axes.flat:
    ax.axis("off")
for ax, index in zip(axes.flat, mistakes[:12], strict=False):
    ax.imshow(x_test[index, :, :, 0], cmap="gray_r")
    ax.set_title(f"true {y_test[index]}, said {predicted[index]}", fontsize=8)
fig.suptitle(f"Misclassified test digits ({len(mistakes)} of {len(y_test)})")
plt.show()
