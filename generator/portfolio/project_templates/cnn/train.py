"""Recognise handwritten digits with a small convolutional network.

The five steps on the 8×8 digit images shipped with scikit-learn (1,797 images, ten classes):

1. Define the problem: which digit is written; judged by accuracy on held-out images.
2. Prepare the data: a stratified 80/20 split; pixels scaled to [0, 1], shaped as images.
3. Evaluate algorithms: spot-check classic models on flattened pixels (5-fold CV).
4. Improve results: a CNN with dropout and early stopping on a validation split.
5. Present results: test accuracy, and the test digits the network got wrong.
"""

import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

SEED = 42
keras.utils.set_random_seed(SEED)

# 1-2. Define the problem and prepare the data.
digits = load_digits()
images = (digits.images / 16.0).astype("float32")[..., np.newaxis]  # (n, 8, 8, 1)
X_train, X_test, y_train, y_test = train_test_split(
    images, digits.target, test_size=0.2, stratify=digits.target, random_state=SEED)
print("train", X_train.shape, "test", X_test.shape)

# 3. Spot-check classic models on the flattened pixels.
flat_train = X_train.reshape(len(X_train), -1)
models = [
    ("Majority", DummyClassifier(strategy="most_frequent")),
    ("KNN", KNeighborsClassifier(n_neighbors=3)),
    ("SVM", SVC()),
]
for name, model in models:
    scores = cross_val_score(model, flat_train, y_train, cv=5)
    print("%s: %.3f (%.3f)" % (name, scores.mean(), scores.std()))

# 4. Improve: a small CNN, with early stopping on the validation loss.
model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
    keras.layers.Flatten(),
    keras.layers.Dropout(0.3),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
model.fit(X_train, y_train, epochs=25, batch_size=32, validation_split=0.15, callbacks=[stop],
          verbose=2)

# 5. Present results: score once on the test set and look at the mistakes.
loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
print("Test accuracy: %.4f" % accuracy)

predicted = model.predict(X_test, verbose=0).argmax(axis=1)
mistakes = np.flatnonzero(predicted != y_test)
fig, axes = plt.subplots(2, 6, figsize=(8, 3.2))
for ax in axes.flat:
    ax.axis("off")
for ax, index in zip(axes.flat, mistakes[:12]):
    ax.imshow(X_test[index, :, :, 0], cmap="gray_r")
    ax.set_title("true %d, said %d" % (y_test[index], predicted[index]), fontsize=8)
fig.suptitle("Misclassified test digits (%d of %d)" % (len(mistakes), len(y_test)))
plt.show()
