"""tinygrad_edu.checkpoint: what goes in comes back, bit for bit; damage is a one-line error."""
import os
import threading
import zipfile

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.checkpoint import FORMAT, CheckpointError, load_checkpoint, save_checkpoint


def trained(seed=0, steps=5):
    """A model, Adam and a schedule after a few steps, so every state is non-trivial."""
    model = nn.MLP([3, 5, 2], seed=seed)
    opt = optim.Adam(model.parameters(), lr=0.05)
    sched = optim.CosineLR(opt, total_steps=20)
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((16, 3)), rng.integers(0, 2, 16)
    for _ in range(steps):
        opt.zero_grad()
        nn.cross_entropy(model(Tensor(X)), y).backward()
        opt.step()
        sched.step()
    return model, opt, sched, (X, y)


def test_round_trip_restores_every_state_and_training_continues_identically(tmp_path):
    model, opt, sched, (X, y) = trained()
    path = save_checkpoint(tmp_path / "model.npz", model, opt, sched, meta={"epoch": 3, "note": "hi"},
                           extra={"history.loss": np.array([1.0, 0.5])})
    ckpt = load_checkpoint(path)
    assert ckpt.meta == {"epoch": 3, "note": "hi"} and np.array_equal(ckpt.extra["history.loss"], [1.0, 0.5])
    assert ckpt.optimizer["step_count"] == 5 and type(ckpt.optimizer["step_count"]) is int
    assert type(ckpt.optimizer["hyper.amsgrad"]) is bool and type(ckpt.schedule["base_lr"]) is float

    model2 = nn.MLP([3, 5, 2], seed=99)
    opt2 = optim.Adam(model2.parameters(), lr=0.05)
    sched2 = optim.CosineLR(opt2, total_steps=20)
    ckpt.restore(model2, opt2, sched2)
    assert opt2.lr == opt.lr and sched2.t == sched.t
    for m, o, s in ((model, opt, sched), (model2, opt2, sched2)):
        for _ in range(3):
            o.zero_grad()
            nn.cross_entropy(m(Tensor(X)), y).backward()
            o.step()
            s.step()
    for k, v in model.state_dict().items():
        assert np.array_equal(v, model2.state_dict()[k])


def test_file_is_plain_arrays_without_pickle(tmp_path):
    model, opt, sched, _ = trained()
    path = save_checkpoint(tmp_path / "m.npz", model, opt, sched)
    with np.load(path, allow_pickle=False) as f:
        assert str(f["format"]) == FORMAT
        assert all(f[k].dtype != object for k in f.files)
        assert "model/layers.0.W" in f.files and "optimizer/state.0.exp_avg" in f.files


def test_a_folder_means_its_model_npz(tmp_path):
    model, *_ = trained()
    save_checkpoint(tmp_path / "model.npz", model)
    assert load_checkpoint(tmp_path).path == tmp_path / "model.npz"


def test_values_that_need_pickle_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="cannot be stored without pickle"):
        save_checkpoint(tmp_path / "m.npz", {"w": np.ones(2)}, {"bad": [np.ones(2), np.ones(3)]})
    with pytest.raises(CheckpointError, match="meta must hold only JSON values"):
        save_checkpoint(tmp_path / "m.npz", {"w": np.ones(2)}, meta={"x": object()})
    assert not (tmp_path / "m.npz").exists()


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    model, *_ = trained()
    path = save_checkpoint(tmp_path / "m.npz", model)
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(CheckpointError, match="cannot write the checkpoint"):
        save_checkpoint(path, trained(seed=1)[0])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]      # no temporary file left behind


def _one_line_error(path, match):
    with pytest.raises(CheckpointError, match=match) as exc:
        load_checkpoint(path)
    assert "\n" not in str(exc.value)


def test_damaged_files_are_clear_errors(tmp_path):
    model, opt, _, _ = trained()
    good = save_checkpoint(tmp_path / "good.npz", model, opt).read_bytes()
    (tmp_path / "garbage.npz").write_bytes(b"this is not a checkpoint")
    _one_line_error(tmp_path / "garbage.npz", "not an .npz archive")
    (tmp_path / "half.npz").write_bytes(good[:len(good) // 2])
    _one_line_error(tmp_path / "half.npz", r"half\.npz: not a readable \.npz file")
    _one_line_error(tmp_path / "missing.npz", "no such checkpoint")
    np.savez(tmp_path / "other.npz", a=np.ones(3))
    _one_line_error(tmp_path / "other.npz", "not a tinygrad_edu checkpoint")
    # flip one byte at a time through the file: every damage is caught, or the file still loads whole
    for i in range(0, len(good), max(1, len(good) // 300)):
        damaged = bytearray(good)
        damaged[i] ^= 0xFF
        (tmp_path / "flip.npz").write_bytes(bytes(damaged))
        try:
            ckpt = load_checkpoint(tmp_path / "flip.npz")
        except CheckpointError as exc:
            assert "\n" not in str(exc)
        else:
            for k, v in model.state_dict().items():
                assert np.array_equal(ckpt.model[k], v)


def test_damaged_meta_is_a_clear_error(tmp_path):
    model, *_ = trained()
    path = save_checkpoint(tmp_path / "m.npz", model)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["meta"] = np.array("{not json")
    np.savez(path, **arrays)
    _one_line_error(path, "meta data is damaged")


def test_checkpoint_of_another_model_or_optimizer(tmp_path):
    model, opt, *_ = trained()
    path = save_checkpoint(tmp_path / "m.npz", model, opt)
    ckpt = load_checkpoint(path)
    wider = nn.MLP([3, 6, 2], seed=0)
    with pytest.raises(CheckpointError, match=r"layers\.0\.W has shape \(3, 5\) in the checkpoint but \(3, 6\)"):
        ckpt.restore(wider)
    deeper = nn.MLP([3, 5, 5, 2], seed=0)
    with pytest.raises(CheckpointError, match=r"do not match this model \(missing layers\.4\.W, layers\.4\.b\)"):
        ckpt.restore(deeper)
    same = nn.MLP([3, 5, 2], seed=0)
    with pytest.raises(CheckpointError, match="its optimizer state does not fit this SGD"):
        ckpt.restore(same, optim.SGD(same.parameters(), lr=0.1, momentum=0.9))
    assert zipfile.is_zipfile(path)


def test_a_fifo_in_place_of_the_checkpoint_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    outcome = {}

    def load():
        try:
            load_checkpoint(tmp_path)
        except CheckpointError as exc:
            outcome["error"] = str(exc)
    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():                      # open() is waiting for a writer: unblock it, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("load_checkpoint waited on a FIFO")
    assert "FIFO" in outcome["error"] and "\n" not in outcome["error"]
