"""tinygrad_edu.data: generators from a seed, the shipped digits, user files, split, scaling, batches."""
import io
import os
import threading
import tracemalloc
import zipfile
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
    with pytest.raises(DataError, match="is a folder, not a file"):
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


# ----- the task: auto rule at its edge, and both overrides -----------------------------------------

def _labels_csv(tmp_path, k: int) -> Path:
    """Two rows per class 0..k-1: an integer label column with exactly k distinct values."""
    rows = [f"{i},{i % k}" for i in range(2 * k)]
    return write(tmp_path, f"k{k}.csv", "\n".join(rows) + "\n")


def test_auto_task_is_classification_up_to_20_integer_classes_and_regression_from_21(tmp_path):
    assert data.MAX_AUTO_CLASSES == 20
    X, y, task = load_file(_labels_csv(tmp_path, 20))
    assert task == "classification" and y.shape == (40,) and len(np.unique(y)) == 20
    X, y, task = load_file(_labels_csv(tmp_path, 21))
    assert task == "regression" and y.shape == (42, 1)
    _, _, task = load_file(write(tmp_path, "f.csv", "1,0.5\n2,1.0\n3,0.5\n"))   # not whole numbers
    assert task == "regression"


def test_the_task_can_be_set_either_way(tmp_path):
    X, y, task = load_file(_labels_csv(tmp_path, 21), task="classification")
    assert task == "classification" and y.shape == (42,)
    d = data.load_dataset(_labels_csv(tmp_path, 21), task="classification", seed=0)
    assert d.task == "classification" and d.n_classes == 21 and d.n_outputs == 21
    X, y, task = load_file(_labels_csv(tmp_path, 3), task="regression")
    assert task == "regression" and y.dtype == np.float64 and y[:, 0].tolist() == [0, 1, 2, 0, 1, 2]
    with pytest.raises(DataError, match="task='cls': use 'classification', 'regression' or None"):
        load_file(_labels_csv(tmp_path, 3), task="cls")


def test_the_auto_rule_is_one_sentence_stated_with_its_number():
    rule = data.AUTO_TASK_RULE
    assert rule.count(".") == 0 and "\n" not in rule and f"at most {data.MAX_AUTO_CLASSES} distinct" in rule
    assert "AUTO_TASK_RULE" in load_file.__doc__ and f"at most {data.MAX_AUTO_CLASSES} distinct" in load_file.__doc__


# ----- messages that say what is wrong (data side) -------------------------------------------------

def test_a_csv_with_a_byte_order_mark_and_no_header(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("1.5,2,0\n3,4,1\n5,6,0\n".encode("utf-8-sig"))
    X, y, task = load_file(path)
    assert X.tolist() == [[1.5, 2.0], [3.0, 4.0], [5.0, 6.0]] and y.tolist() == [0, 1, 0]
    path.write_bytes("a,b,label\n1.5,2,0\n3,4,1\n".encode("utf-8-sig"))   # and with a header
    X, y, _ = load_file(path)
    assert X.tolist() == [[1.5, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize("X, y, message", [
    (np.zeros((0, 3)), np.zeros(0), r"X and y have 0 rows \(shapes \(0, 3\) and \(0,\)\); the file needs at least one"),
    (np.zeros((5, 0)), np.arange(5), r"X has 0 features \(shape \(5, 0\)\); it needs at least one column"),
    (np.zeros((5, 2)), np.zeros((5, 0)), r"y has 0 targets \(shape \(5, 0\)\); it needs at least one column"),
    (np.array([[1.0, {}]] * 4, dtype=object), np.arange(4),
     r"array X holds Python objects \(dtype object\), which only pickle could read, and pickle is never used"),
    (np.zeros((4, 2)), np.array(["a", "b", "c", "d"]), r"array y has dtype <U1; it must be numeric"),
])
def test_empty_and_object_npz_arrays_are_named_in_one_line(tmp_path, X, y, message):
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=y)
    with pytest.raises(DataError, match=message) as info:
        load_file(path)
    assert "\n" not in str(info.value) and "corrupt" not in str(info.value) and "reshape" not in str(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_a_device_is_refused_before_it_is_opened(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(error=pytest.raises(DataError, load_file, fifo)),
                              daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():                      # it opened the FIFO: let it go, and fail
        with open(fifo, "w"):
            pass
        thread.join(5)
        pytest.fail("load_file blocked on a FIFO")
    assert "is a FIFO (named pipe), not a regular file" in str(outcome["error"].value)
    if os.path.exists("/dev/zero"):            # a device that never ends
        (tmp_path / "zero.csv").symlink_to("/dev/zero")
        with pytest.raises(DataError, match=r"zero\.csv: is a character device, not a regular file"):
            load_file(tmp_path / "zero.csv")


def test_a_300_character_file_name_is_one_line(tmp_path):
    path = tmp_path / ("d" * 296 + ".csv")
    with pytest.raises(DataError) as info:
        load_file(path)
    assert str(info.value).endswith("a name in the path is 300 bytes long, more than the 255 most file systems "
                                    "allow; use a shorter name")
    assert "\n" not in str(info.value) and "d" * 41 not in str(info.value)


# ----- memory: sizes are checked before anything is made or loaded ---------------------------------

@pytest.fixture
def default_limit(monkeypatch):
    monkeypatch.delenv("TINYGRAD_EDU_MAX_BYTES", raising=False)


@pytest.mark.parametrize("name, columns", [("moons", 3), ("circles", 3), ("spiral", 3), ("xor", 3), ("blobs", 3),
                                           ("sine", 2)])
def test_a_billion_samples_are_refused_with_the_memory_they_would_need(name, columns, default_limit):
    with pytest.raises(data.DataSizeError) as info:
        get_dataset(name, n=10 ** 9)
    exc = info.value
    assert exc.needed == data.WORKING_COPIES * 8 * columns * 10 ** 9 and exc.param == "n"
    assert isinstance(exc, DataError) and isinstance(exc, ValueError)
    message = str(exc)
    assert message.startswith(f"{name} with n=1000000000 samples ({columns * 10 ** 9:,} numbers, ")
    assert "more than the memory limit of 2 GiB; use a smaller n (--samples), or raise the limit: " \
           "TINYGRAD_EDU_MAX_BYTES=" in message and "\n" not in message
    with pytest.raises(data.DataSizeError):
        data._MAKERS[name](n=10 ** 9)                                 # the generators check it too


def test_the_limit_is_exact_and_can_be_raised(monkeypatch):
    need = data.WORKING_COPIES * 8 * 3 * 1000                          # moons, n = 1000
    assert len(data.make_moons(n=1000, max_bytes=need)[0]) == 1000
    with pytest.raises(data.DataSizeError):
        data.make_moons(n=1000, max_bytes=need - 1)
    monkeypatch.setenv("TINYGRAD_EDU_MAX_BYTES", str(need - 1))
    with pytest.raises(data.DataSizeError):
        get_dataset("moons", n=1000)
    assert get_dataset("moons", n=1000, max_bytes=need).X_train.shape == (750, 2)


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_preparing_a_data_set_takes_at_most_the_working_copies_the_check_counts(tmp_path):
    n = 20000
    X, y = np.random.default_rng(0).standard_normal((n, 4)), np.arange(n) % 3
    np.savez(tmp_path / "d.npz", X=X, y=y)
    np.savetxt(tmp_path / "d.csv", np.column_stack([X, y]), delimiter=",")
    makers = [(lambda name=name: get_dataset(name, n=n, seed=0), columns) for name, columns in (("moons", 3), ("sine", 2))]
    loaders = [(lambda path=path: data.load_dataset(path, seed=0), 5) for path in (tmp_path / "d.npz", tmp_path / "d.csv")]
    get_dataset("moons", n=100), data.load_dataset(tmp_path / "d.npz")   # one-time costs (imports, caches) first
    for make, columns in makers + loaders:
        assert _peak(make) <= data.WORKING_COPIES * 8 * columns * n


def test_an_npz_declaring_750000_by_1000_zeros_is_refused_from_its_headers(tmp_path, monkeypatch, default_limit):
    path = tmp_path / "zeros.npz"
    with zipfile.ZipFile(path, "w") as archive:            # headers only: what a 5.8 MB file of zeros declares
        for key, shape in (("X", (750000, 1000)), ("y", (750000,))):
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
            archive.writestr(f"{key}.npy", header.getvalue())
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load was called"))
    with pytest.raises(data.DataSizeError) as info:
        load_file(path)
    values = 750000 * 1000 + 750000
    assert info.value.needed == data.WORKING_COPIES * 8 * values
    assert f"zeros.npz: X (750000, 1000) and y (750000,) ({values:,} numbers, 5.59 GiB as float64, up to 4 " \
           f"copies while it is prepared) would need 22.4 GiB, more than the memory limit of 2 GiB" in str(info.value)


def test_a_csv_is_bounded_by_its_file_size_and_then_line_by_line(tmp_path):
    body = "".join(f"{i},{i + 1},{i % 2}\n" for i in range(100))     # 300 numbers
    path = write(tmp_path, "d.csv", body)
    need = data.WORKING_COPIES * 8 * 300
    assert load_file(path, max_bytes=need)[0].shape == (100, 2)
    with pytest.raises(data.DataSizeError, match=r"d\.csv up to line 100 \(300 numbers, .*would need 9.38 KiB"):
        load_file(path, max_bytes=need - 1)
    small = path.stat().st_size - 1
    with pytest.raises(data.DataSizeError, match=r"d\.csv: loading this CSV file \(at least its own size: 32 bytes "
                                                 r"per number while it is prepared\) would need"):
        load_file(path, max_bytes=small)


def test_a_number_written_by_python_or_numpy_takes_fewer_bytes_than_loading_it_does():
    extremes = [-1.2345678901234567e-300, -np.finfo(float).max, -np.finfo(float).tiny, -5e-324, -0.1 - 0.2]
    longest = max(max(len(repr(float(x))), len("%.18e" % x)) for x in extremes)
    assert longest == 26 and longest + 1 < data._CSV_BYTES_PER_NUMBER == data.WORKING_COPIES * 8 == 32
