"""Checks of fitted scikit-learn state read from an untrusted skops archive.

skops rebuilds trees, tree predictors and neighbour trees from arrays without checking how
their nodes link: a child index outside the node array reads foreign memory (a crash) and a
child that points back up loops forever at ``predict``. Every estimator reachable from a
loaded regressor must be of a type :mod:`~tsattn.models.baselines.sklearn_io` allows, and
every such structure is checked here: children strictly after their parent (so no cycle) and
inside the array, split features below the fitted feature count, leaf values of the right
shape, no categorical splits (lag features are numbers).

>>> import numpy as np
>>> from sklearn.tree import DecisionTreeRegressor
>>> check_fitted_structure(DecisionTreeRegressor().fit(np.eye(3), [0, 1, 2.0]), 3, ())
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

#: how deep the attributes of a loaded regressor are followed (a forest: 3 levels)
MAX_DEPTH = 8


def check_fitted_structure(regressor: Any, n_features: int, allowed: tuple[type, ...]) -> None:
    """``ValueError`` unless every estimator in ``regressor`` is of an ``allowed`` type (none
    checked when empty) and every tree in it is well formed for ``n_features`` features."""
    from sklearn.base import BaseEstimator

    checkers = _structure_checkers()
    for obj in _reachable(regressor):
        if allowed and isinstance(obj, BaseEstimator) and type(obj) not in allowed:
            raise ValueError(f"it holds a {type(obj).__name__}, which model files do not hold")
        for kind, check in checkers:
            if isinstance(obj, kind):
                check(obj, n_features)


def _reachable(root: Any) -> Iterator[Any]:
    """Every object reachable from ``root`` through attributes, lists, tuples, dicts and
    object arrays, each once, at most :data:`MAX_DEPTH` levels deep."""
    seen: set[int] = set()
    stack = [(root, 0)]
    while stack:
        obj, depth = stack.pop()
        if id(obj) in seen or depth > MAX_DEPTH:
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, dict):
            children = list(obj.values())
        elif isinstance(obj, list | tuple):
            children = list(obj)
        elif isinstance(obj, np.ndarray):
            children = list(obj.ravel()) if obj.dtype == object else []
        elif isinstance(obj, str | bytes | int | float | complex | bool | type(None)):
            children = []
        else:
            children = list(getattr(obj, "__dict__", {}).values())
        stack.extend((child, depth + 1) for child in children)


def _structure_checkers() -> list[tuple[type, Callable[[Any, int], None]]]:
    from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.neighbors import BallTree, KDTree
    from sklearn.tree._tree import Tree

    return [
        (Tree, check_tree),
        (TreePredictor, check_tree_predictor),
        (KDTree, check_neighbour_tree),
        (BallTree, check_neighbour_tree),
        (_BinMapper, _check_bin_mapper),
    ]


def _check_links(left: np.ndarray, right: np.ndarray, inner: np.ndarray, what: str) -> None:
    """Children of inner nodes strictly after their parent and inside the node array."""
    n = len(inner)
    index = np.arange(n)[inner]
    for child in (left[inner].astype(np.int64), right[inner].astype(np.int64)):
        if np.any(child <= index) or np.any(child >= n):
            raise ValueError(f"a {what} has a child outside its nodes or before its parent")


def _check_features(feature: np.ndarray, n_features: int, what: str) -> None:
    if np.any(feature < 0) or np.any(feature >= n_features):
        raise ValueError(f"a {what} splits on a feature beyond its {n_features} features")


def check_tree(tree: Any, n_features: int) -> None:
    """A fitted ``sklearn.tree._tree.Tree`` of a single-output regressor."""
    n = int(tree.node_count)
    left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
    feature, value = np.asarray(tree.feature), np.asarray(tree.value)
    if n < 1 or len(left) != n or len(right) != n or len(feature) != n:
        raise ValueError("a fitted tree's node arrays do not match its node count")
    if tree.n_features != n_features or tree.n_outputs != 1 or value.shape != (n, 1, 1):
        raise ValueError("a fitted tree has the wrong number of features, outputs or values")
    leaf = left == -1
    if not np.array_equal(leaf, right == -1):
        raise ValueError("a fitted tree has a node with a single child")
    _check_links(left, right, ~leaf, "fitted tree")
    _check_features(feature[~leaf], n_features, "fitted tree")
    if not np.isfinite(value).all() or not np.isfinite(np.asarray(tree.threshold)).all():
        raise ValueError("a fitted tree holds NaN or infinite values")


def check_tree_predictor(predictor: Any, n_features: int) -> None:
    """A ``HistGradientBoostingRegressor`` tree (its ``nodes`` record array)."""
    nodes = predictor.nodes
    if nodes.ndim != 1 or len(nodes) < 1:
        raise ValueError("a boosting tree has no nodes")
    inner = nodes["is_leaf"] == 0
    _check_links(nodes["left"], nodes["right"], inner, "boosting tree")
    _check_features(nodes["feature_idx"][inner], n_features, "boosting tree")
    if np.any(nodes["is_categorical"] != 0):
        raise ValueError("a boosting tree has categorical splits (lag features are numbers)")
    if not np.isfinite(nodes["value"]).all():
        raise ValueError("a boosting tree holds NaN or infinite values")


def _check_bin_mapper(mapper: Any, n_features: int) -> None:
    categorical = getattr(mapper, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        raise ValueError("a boosting model bins categorical features (lag features are numbers)")


def check_neighbour_tree(tree: Any, n_features: int) -> None:
    """A ``KDTree`` / ``BallTree``: an implicit binary tree over an index permutation."""
    data, idx, node_data, node_bounds, _, n_levels, n_nodes, *_, weights = tree.__getstate__()
    n = data.shape[0] if data.ndim == 2 else 0
    if n < 1 or data.shape[1] != n_features or not np.isfinite(data).all():
        raise ValueError("a neighbour tree's data do not match the fitted features")
    if idx.shape != (n,) or not np.array_equal(np.sort(idx), np.arange(n)):
        raise ValueError("a neighbour tree's index is not a permutation of its points")
    if not 1 <= n_levels <= 64 or n_nodes != 2**n_levels - 1 or len(node_data) != n_nodes:
        raise ValueError("a neighbour tree's node count does not match its levels")
    if node_bounds.ndim != 3 or node_bounds.shape[1:] != (n_nodes, n_features):
        raise ValueError("a neighbour tree's node bounds do not match its nodes")
    start, end = node_data["idx_start"], node_data["idx_end"]
    if np.any(start < 0) or np.any(end < start) or np.any(end > n):
        raise ValueError("a neighbour tree's nodes index outside its points")
    if not np.all(node_data["is_leaf"][n_nodes // 2 :]):
        raise ValueError("a neighbour tree's last level is not all leaves")
    if weights is not None and np.shape(weights) != (n,):
        raise ValueError("a neighbour tree's sample weights do not match its points")
