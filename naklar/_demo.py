"""The documentation's example sweep: an SVC on iris, 12 settings, three dump formats.

``write_iris_sweep(out_dir)`` is the documentation's example script made into a
function: one directory per (kernel, C) condition holding ``conf.pkl``,
``conf.json``, ``conf.jbl`` and the trained model ``svc.skl``. Needs the
``demo`` extra (scikit-learn).
"""

from __future__ import annotations

import itertools
import json
import numbers
import os
import pickle
from typing import Any

__all__ = ["KERNELS", "CS", "write_iris_sweep"]

KERNELS = ["linear", "rbf", "poly"]
CS = [0.001, 0.1, 1, 2]


def write_iris_sweep(out_dir: str | os.PathLike[str], path_prefix: str | None = None) -> str:
    """Run the 12-condition sweep and dump each condition under ``out_dir/<i>``.

    ``path_prefix`` is what each run records as its ``path`` setting (the
    documentation records ``results/<i>``); by default the ``out_dir`` given.
    Returns ``out_dir``.
    """
    try:
        from functools import partial

        import joblib
        from sklearn import datasets, metrics, svm
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "the demo sweep needs scikit-learn: pip install 'naklar[demo]'"
        ) from error

    out = os.fspath(out_dir)
    prefix = out if path_prefix is None else path_prefix
    record_metrics = [
        ("precision", partial(metrics.precision_score, average="micro")),
        ("recall", partial(metrics.recall_score, average="micro")),
        ("f1", partial(metrics.f1_score, average="micro")),
        ("accuracy", metrics.accuracy_score),
    ]
    iris = datasets.load_iris()
    X, y = iris.data[:, :2], iris.target

    for i, (kernel, C) in enumerate(itertools.product(KERNELS, CS)):
        svc = svm.SVC(kernel=kernel, C=C).fit(X, y)
        prediction = svc.predict(X)
        conf: dict[str, Any] = {"kernel": kernel, "C": C, "i": i}
        for name, metric in record_metrics:
            conf[name] = metric(y, prediction)  # numpy.float64
        conf["results"] = prediction  # a numpy array, as in the documentation
        run_dir = os.path.join(out, str(i))
        os.makedirs(run_dir, exist_ok=True)
        conf["path"] = os.path.join(prefix, str(i))
        with open(os.path.join(run_dir, "conf.pkl"), "wb") as handle:
            pickle.dump(conf, handle)
        with open(os.path.join(run_dir, "conf.json"), "w") as handle:
            json.dump(
                {k: v for k, v in conf.items() if isinstance(v, (str, numbers.Number, list, set))},
                handle,
            )
        joblib.dump(conf, os.path.join(run_dir, "conf.jbl"))
        with open(os.path.join(run_dir, "svc.skl"), "wb") as handle:
            pickle.dump(svc, handle)
    return out
