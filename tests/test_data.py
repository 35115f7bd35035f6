"""tinygrad_edu.data: generators from a seed, the shipped digits, user files, split, scaling, batches."""
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import data
from tinygrad_edu.data import DataError, batches, get_dataset, load_file


# ----- synthetic sets: exact geometry at noise 0, determinism ------------------------------

@pytest.mark.parametrize("name", ["moons", "circles", "spiral", "xor", "blobs", "sine"])
def test_same_seed_same_bits_other_seed_other_data(name):
    a, b, c = (get_dataset(name, seed=s) for s in (3, 3, 4))
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)


def test_moons_lie_on_their_half_circles_without_noise():
    X, y = data.make_moons(n=200, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0) and (upper[:, 1] >= 0).all()
    assert np.allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0) and (lower[:, 1] <= 0.5).all()
    assert np.bincount(y).tolist() == [100, 100]


def test_moons_noise_is_gaussian_with_the_given_std():
    clean, _ = data.make_moons(n=20000, noise=0.0, seed=1)
    noisy, _ = data.make_moons(n=20000, noise=0.3, seed=1)   # same angles, then noise
    assert abs((noisy - clean).std() - 0.3) < 0.01


def test_circles_radii():
    X, y = data.make_circles(n=100, noise=0.0, seed=0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.3)


def test_spiral_arm_angle_grows_with_radius():
    k = 4
    X, y = data.make_spiral(n=400, noise=0.0, seed=0, classes=k)
    r = np.hypot(X[:, 0], X[:, 1])
    expected = 2 * np.pi * y / k + 4 * r        # angle of arm y at radius r
    assert np.allclose(np.cos(expected) * r, X[:, 0]) and np.allclose(np.sin(expected) * r, X[:, 1])
    assert sorted(set(y.tolist())) == list(range(k))


def test_xor_label_is_xor_of_signs():
    X, y = data.make_xor(n=300, noise=0.0, seed=0)
    assert np.array_equal(y, (np.sign(X[:, 0]) * np.sign(X[:, 1]) < 0).astype(int))
    assert 0.4 < y.mean() < 0.6


def test_blobs_centres_and_spread():
    X, y = data.make_blobs(n=3000, noise=0.5, seed=0, classes=3)
    for j in range(3):
        centre = 2.5 * np.array([np.cos(2 * np.pi * j / 3), np.sin(2 * np.pi * j / 3)])
        pts = X[y == j]
        assert np.allclose(pts.mean(axis=0), centre, atol=4 * 0.5 / np.sqrt(len(pts)))
        assert np.allclose(pts.std(axis=0), 0.5, atol=0.03)


def test_sine_is_a_regression_problem():
    X, y = data.make_sine(n=50, noise=0.0, seed=0)
    assert X.shape == (50, 1) and y.shape == (50, 1) and np.allclose(y, np.sin(X))
    d = get_dataset("sine", n=80, seed=0)
    assert d.task == "regression" and d.n_classes == 0 and d.n_outputs == 1 and d.y_train.dtype == np.float64


# ----- digits -----------------------------------------------------------------------------------

def test_digits_is_the_documented_file():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert data.digits_checksum(X, y) == data.DIGITS_SHA256
    readme = (Path(data.__file__).parent / "datasets" / "README.md").read_text()
    assert data.DIGITS_SHA256 in readme and "CC BY 4.0" in readme and "Alpaydin" in readme


def test_digits_dataset_split_and_subset():
    d = get_dataset("digits", seed=0)
    assert d.n_classes == 10 and d.n_features == 64 and len(d.X_train) + len(d.X_test) == 1797
    small = get_dataset("digits", n=200, seed=0)
    assert len(small.X_train) + len(small.X_test) == 200
    with pytest.raises(DataError, match="only 1797 images"):
        get_dataset("digits", n=5000)
    with pytest.raises(DataError, match="noise does not apply"):
        get_dataset("digits", noise=0.1)


# ----- by name ---------------------------------------------------------------------------------

def test_unknown_name_suggests_the_closest():
    with pytest.raises(DataError, match=r"unknown dataset 'moon'; did you mean 'moons'\?") as exc:
        get_dataset("moon")
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "moons", "n": 2}, "too few"),
    ({"name": "moons", "noise": -0.1}, "noise=-0.1 must be a finite number >= 0"),
    ({"name": "spiral", "classes": 1}, "classes=1 must be an integer >= 2"),
    ({"name": "moons", "classes": 3}, "the number of classes is fixed"),
])
def test_bad_arguments_are_one_line_errors(kwargs, message):
    with pytest.raises(DataError, match=message) as exc:
        get_dataset(**kwargs)
    assert "\n" not in str(exc.value)


def test_spiral_classes():
    d = get_dataset("spiral", classes=5, n=500, seed=0)
    assert d.n_classes == 5 and set(d.y_train.tolist()) == set(range(5))


# ----- split and standardisation -------------------------------------------------------------------

def test_split_is_a_partition():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.arange(20)
    Xtr, ytr, Xte, yte = data.train_test_split(X, y, 0.25, seed=0)
    assert len(Xte) == 5 and sorted(np.concatenate([ytr, yte]).tolist()) == list(range(20))
    assert np.array_equal(Xtr[:, 0], 2 * ytr)       # rows stay with their labels


def test_standardisation_uses_training_statistics_only():
    raw = get_dataset("blobs", seed=2, standardize=False)
    d = get_dataset("blobs", seed=2)
    assert np.allclose(d.X_train.mean(axis=0), 0) and np.allclose(d.X_train.std(axis=0), 1)
    mean, std = raw.X_train.mean(axis=0), raw.X_train.std(axis=0)
    assert np.allclose(d.X_test, (raw.X_test - mean) / std)
    assert not np.allclose(d.X_test.mean(axis=0), 0, atol=1e-12)   # the test set was not refitted


def test_constant_feature_is_centred_not_divided_by_zero():
    s = data.Standardizer().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    assert np.array_equal(s.transform(np.array([[2.0, 5.0]])), [[0.0, 0.0]])


# ----- minibatches ---------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), seed=st.integers(0, 2**32 - 1))
def test_batches_cover_every_sample_once_in_a_seeded_order(n, batch_size, seed):
    X = np.arange(n, dtype=float)[:, None]
    y = np.arange(n)
    got = list(batches(X, y, batch_size, seed=seed))
    assert len(got) == -(-n // batch_size)
    assert all(len(b[1]) == batch_size for b in got[:-1]) and 1 <= len(got[-1][1]) <= batch_size
    order = np.concatenate([b[1] for b in got])
    assert sorted(order.tolist()) == list(range(n))
    assert np.array_equal(np.concatenate([b[0][:, 0] for b in got]), order)       # X rows follow y
    assert np.array_equal(order, np.random.default_rng(seed).permutation(n))
    start = len(got) // 2
    rest = list(batches(X, y, batch_size, seed=seed, start=start))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(got[start:], rest)) and len(rest) == len(got) - start


def test_each_epoch_has_its_own_order_and_no_shuffle_keeps_order():
    X, y = np.zeros((50, 1)), np.arange(50)
    e0 = np.concatenate([b for _, b in batches(X, y, 8, seed=[7, 0])])
    e1 = np.concatenate([b for _, b in batches(X, y, 8, seed=[7, 1])])
    assert not np.array_equal(e0, e1)
    assert np.array_equal(np.concatenate([b for _, b in batches(X, y, 8, shuffle=False)]), y)
    with pytest.raises(DataError, match="batch_size=0: use an integer >= 1"):
        list(batches(X, y, 0))


# ----- the user's own files ---------------------------------------------------------------------------

def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_and_without_header(tmp_path):
    body = "0.5,1.0,3\n1.5,2.0,7\n-1,0,3\n2,2,7\n"
    for text in (body, "x1,x2,label\n" + body, "\n" + body + "\n\n"):
        X, y, task = load_file(write(tmp_path, "d.csv", text))
        assert task == "classification" and X.shape == (4, 2) and y.tolist() == [3, 7, 3, 7]
    d = data.load_dataset(write(tmp_path, "d.csv", body * 3), seed=0)
    assert d.n_classes == 2 and d.classes.tolist() == [3, 7] and set(d.y_train.tolist()) <= {0, 1}


def test_csv_float_target_is_regression(tmp_path):
    X, y, task = load_file(write(tmp_path, "r.csv", "1,0.25\n2,0.5\n3,0.75\n4,1.5\n"))
    assert task == "regression" and y.shape == (4, 1) and y[:, 0].tolist() == [0.25, 0.5, 0.75, 1.5]
    _, y, task = load_file(write(tmp_path, "r.csv", "1,1\n2,0\n3,1\n4,0\n"), task="regression")
    assert task == "regression" and y.shape == (4, 1)


@pytest.mark.parametrize("text, message", [
    ("a,b,c\n1,2,0\n3,4\n", r"bad\.csv, line 3: 2 values, but the first data row has 3; every row needs the same"),
    ("1,2,0\n3,x,1\n", r"bad\.csv, line 2, column 2: text 'x' where a number belongs"),
    ("1,2,0\n3,nan,1\n", r"bad\.csv, line 2, column 2: missing value \('nan'\); fill it in or drop the row"),
    ("1,2,0\n3,,1\n", r"bad\.csv, line 2, column 2: missing value \(''\)"),
    ("1,2,0\n3,inf,1\n", r"bad\.csv, line 2, column 2: 'inf' is not a finite number"),
    ("x,label\n", r"bad\.csv: no data rows"),
    ("1\n2\n", r"bad\.csv, line 1: 1 column; need at least one feature column and a label column"),
    ("1,0.5\n2,1.5\n", None),   # fine as regression, but not as classification:
])
def test_csv_faults_name_file_line_and_fix(tmp_path, text, message):
    path = write(tmp_path, "bad.csv", text)
    if message is None:
        with pytest.raises(DataError, match="classification labels must be one integer per row"):
            load_file(path, task="classification")
        return
    with pytest.raises(DataError, match=message) as exc:
        load_file(path)
    assert "\n" not in str(exc.value)


def test_missing_unreadable_and_wrong_kind_of_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: no such file; check the path"):
        load_file(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        load_file(tmp_path.joinpath("dir.csv").mkdir() or tmp_path / "dir.csv")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(DataError, match=r"bin\.csv: not a text file"):
        load_file(binary)
    with pytest.raises(DataError, match=r"unsupported file type '\.txt'"):
        load_file(write(tmp_path, "d.txt", "1,2\n"))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission(tmp_path):
    path = write(tmp_path, "secret.csv", "1,0\n")
    path.chmod(0)
    with pytest.raises(DataError, match=r"secret\.csv: cannot read it \(Permission denied\)"):
        load_file(path)


def test_npz_files(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), rng.integers(0, 3, 30)
    np.savez(tmp_path / "ok.npz", X=X, y=y)
    X2, y2, task = load_file(tmp_path / "ok.npz")
    assert task == "classification" and np.array_equal(X2, X) and np.array_equal(y2, y)
    np.savez(tmp_path / "noy.npz", X=X, labels=y)
    with pytest.raises(DataError, match=r"no array named y \(arrays found: X, labels\); save it with numpy.savez"):
        load_file(tmp_path / "noy.npz")
    np.savez(tmp_path / "short.npz", X=X, y=y[:-1])
    with pytest.raises(DataError, match="X has 30 rows but y has 29"):
        load_file(tmp_path / "short.npz")
    Xn = X.copy()
    Xn[4, 2] = np.nan
    np.savez(tmp_path / "nan.npz", X=Xn, y=y)
    with pytest.raises(DataError, match=r"X\[4, 2\] is nan"):
        load_file(tmp_path / "nan.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match=r"corrupt\.npz: not a readable \.npz file") as exc:
        load_file(tmp_path / "corrupt.npz")
    assert "\n" not in str(exc.value)
