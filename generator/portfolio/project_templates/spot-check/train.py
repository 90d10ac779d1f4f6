"""Spot-check algorithms on the breast cancer data, tune the best, then try a network.

The five steps on the UCI Wisconsin Diagnostic Breast Cancer data shipped with
scikit-learn (569 samples, 30 features, malignant or benign):

1. Define the problem: malignant or benign; judged by accuracy on held-out data.
2. Prepare the data: a stratified 80/20 split; the test part is not touched until step 5.
3. Evaluate algorithms: six classic algorithms, each in a pipeline with a scaler,
   compared with 10-fold cross-validation.
4. Improve results: tune the support vector machine with a grid search; train a small
   Keras network on the same training data.
5. Present results: accuracy of both on the test set; the network is the headline.
"""

import keras
import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

SEED = 42
keras.utils.set_random_seed(SEED)

# 1-2. Define the problem and prepare the data.
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, stratify=y, random_state=SEED)
print("train", X_train.shape, "test", X_test.shape)

# 3. Spot-check algorithms with 10-fold cross-validation.
models = [
    ("LR", LogisticRegression(max_iter=1000)),
    ("LDA", LinearDiscriminantAnalysis()),
    ("KNN", KNeighborsClassifier()),
    ("CART", DecisionTreeClassifier(random_state=SEED)),
    ("NB", GaussianNB()),
    ("SVM", SVC()),
]
kfold = StratifiedKFold(n_splits=10, shuffle=True, random_state=SEED)
results, names = [], []
for name, model in models:
    pipeline = Pipeline([("scale", StandardScaler()), ("model", model)])
    scores = cross_val_score(pipeline, X_train, y_train, cv=kfold, scoring="accuracy")
    results.append(scores)
    names.append(name)
    print("%s: %.3f (%.3f)" % (name, scores.mean(), scores.std()))

plt.boxplot(results)
plt.xticks(range(1, len(names) + 1), names)
plt.title("Algorithm comparison (10-fold cross-validation)")
plt.ylabel("accuracy")
plt.show()

# 4. Improve: tune the SVM's C and gamma with a grid search on the training data.
pipeline = Pipeline([("scale", StandardScaler()), ("model", SVC())])
grid = GridSearchCV(pipeline, {"model__C": [0.1, 1, 10, 100],
                               "model__gamma": ["scale", 0.001, 0.01, 0.1]},
                    cv=kfold, scoring="accuracy")
grid.fit(X_train, y_train)
print("Best: %.3f using %s" % (grid.best_score_, grid.best_params_))
svm_accuracy = accuracy_score(y_test, grid.predict(X_test))
print("Tuned SVM test accuracy: %.4f" % svm_accuracy)

# ... and a small Keras network on the same training data.
scaler = StandardScaler().fit(X_train)
model = keras.Sequential([
    keras.Input(shape=(X_train.shape[1],)),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(scaler.transform(X_train), y_train, epochs=100, batch_size=16, validation_split=0.15,
          verbose=2)

# 5. Present results: the network, scored once on the test set.
loss, accuracy = model.evaluate(scaler.transform(X_test), y_test, verbose=0)
print("Test accuracy: %.4f (tuned SVM %.4f)" % (accuracy, svm_accuracy))
