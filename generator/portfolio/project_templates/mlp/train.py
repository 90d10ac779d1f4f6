"""Classify wines by cultivar with a small neural network (multilayer perceptron).

The five steps of a predictive-modelling project, on the UCI wine data shipped with
scikit-learn (178 wines, 13 chemical measurements, three cultivars):

1. Define the problem: which cultivar a wine comes from; judged by test accuracy.
2. Prepare the data: a stratified 80/20 split; features standardised on the training part.
3. Evaluate algorithms: spot-check classic models with 10-fold cross-validation.
4. Improve results: a small network trained with a validation split.
5. Present results: accuracy on the test set and the confusion matrix.
"""

import keras
import matplotlib.pyplot as plt
from sklearn.datasets import load_wine
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 7
keras.utils.set_random_seed(SEED)

# 1-2. Define the problem and prepare the data.
data = load_wine()
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.2, stratify=data.target, random_state=SEED)
scaler = StandardScaler().fit(X_train)  # fitted on the training part only
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
print("train", X_train.shape, "test", X_test.shape)

# 3. Spot-check a few algorithms with 10-fold cross-validation.
models = [
    ("Majority", DummyClassifier(strategy="most_frequent")),
    ("LR", LogisticRegression(max_iter=1000)),
    ("KNN", KNeighborsClassifier()),
]
for name, model in models:
    scores = cross_val_score(model, X_train, y_train, cv=10)
    print("%s: %.3f (%.3f)" % (name, scores.mean(), scores.std()))

# 4. Improve: a small network, watching a validation split for overfitting.
model = keras.Sequential([
    keras.Input(shape=(X_train.shape[1],)),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(3, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=60, batch_size=16, validation_split=0.15, verbose=2)

# 5. Present results: score once on the test set.
loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
print("Test accuracy: %.4f" % accuracy)

predicted = model.predict(X_test, verbose=0).argmax(axis=1)
ConfusionMatrixDisplay.from_predictions(y_test, predicted, display_labels=data.target_names,
                                        cmap="Blues", colorbar=False)
plt.title("Confusion matrix on the test set")
plt.show()
