"""tinygrad_edu.limits: the memory budget, its setting, and the model-size check."""
import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import limits, nn
from tinygrad_edu.limits import (DEFAULT_MAX_BYTES, MAX_BYTES_ENV, SizeLimitError, check_bytes, check_model_size,
                                 format_bytes, memory_limit, parameter_count, parse_bytes)

GiB = 1024 ** 3


def test_the_limit_is_the_argument_else_the_environment_else_2_gib(monkeypatch):
    monkeypatch.delenv(MAX_BYTES_ENV, raising=False)
    assert memory_limit() == DEFAULT_MAX_BYTES == 2 * GiB
    monkeypatch.setenv(MAX_BYTES_ENV, "8G")
    assert memory_limit() == 8 * GiB
    assert memory_limit(1000) == 1000                       # the argument wins over the environment
    monkeypatch.setenv(MAX_BYTES_ENV, "  ")
    assert memory_limit() == DEFAULT_MAX_BYTES             # blank: not set


@pytest.mark.parametrize("text, value", [("2147483648", 2 * GiB), ("512M", 512 * 1024 ** 2), ("8g", 8 * GiB),
                                         ("1.5T", int(1.5 * 1024 ** 4)), ("4GiB", 4 * GiB), ("64 KB", 64 * 1024),
                                         ("1", 1)])
def test_parse_bytes_reads_binary_suffixes(text, value):
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "abc", "-5", "0", "8X", "inf", "1e9", "0.5"])
def test_a_malformed_setting_is_one_line_with_examples(text, monkeypatch):
    monkeypatch.setenv(MAX_BYTES_ENV, text)
    with pytest.raises(SizeLimitError, match=rf"{MAX_BYTES_ENV}=.* is not a size; write a number of bytes, e\.g\. "):
        parse_bytes(text)
    if text.strip():
        with pytest.raises(SizeLimitError, match="is not a size"):
            memory_limit()
    with pytest.raises(SizeLimitError, match=r"max_bytes=-1 must be a whole number of bytes >= 1"):
        memory_limit(-1)


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 1023, 1024, 1536, 6e9, 2 * GiB, 146 * 1024 ** 4)] == \
        ["0 bytes", "1023 bytes", "1 KiB", "1.5 KiB", "5.59 GiB", "2 GiB", "146 TiB"]


def test_check_bytes_passes_at_the_limit_and_refuses_one_byte_more():
    assert check_bytes(1000, "x", "fix it", max_bytes=1000) == 1000
    with pytest.raises(SizeLimitError) as info:
        check_bytes(1001, "a thing", "make it smaller", max_bytes=1000)
    assert str(info.value) == ("a thing would need 1001 bytes, more than the memory limit of 1000 bytes; make it "
                               f"smaller, or raise the limit: {MAX_BYTES_ENV}=1G")
    assert (info.value.needed, info.value.limit) == (1001, 1000)
    assert isinstance(info.value, ValueError)


def test_the_suggested_setting_lets_the_request_through(monkeypatch):
    needed = 5 * 10 ** 12
    with pytest.raises(SizeLimitError) as info:
        check_bytes(needed, "x", "fix")
    suggestion = str(info.value).rsplit(f"{MAX_BYTES_ENV}=", 1)[1]
    monkeypatch.setenv(MAX_BYTES_ENV, suggestion)
    assert check_bytes(needed, "x", "fix") == needed


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=2, max_size=5))
def test_parameter_count_is_what_an_mlp_holds(sizes):
    model = nn.MLP(sizes, seed=0)
    assert parameter_count(sizes) == sum(p.size for p in model.parameters()) == check_model_size(sizes)


def test_a_huge_hidden_layer_is_refused_with_its_size_before_anything_is_allocated():
    sizes = [2, 10 ** 12, 2]
    count = 2 * 10 ** 12 + 10 ** 12 + 10 ** 12 * 2 + 2
    assert parameter_count(sizes) == count                  # exact: Python integers, no int64 overflow
    with pytest.raises(SizeLimitError) as info:
        check_model_size(sizes)
    message = str(info.value)
    assert info.value.needed == limits.TRAINING_COPIES * 8 * count
    assert format_bytes(info.value.needed) == "146 TiB"
    assert f"{count:,} parameters" in message and "would need 146 TiB, more than the memory limit of 2 GiB" in message
    assert "use smaller layers" in message and f"{MAX_BYTES_ENV}=" in message and "\n" not in message


def test_check_model_size_at_its_edge_and_bad_sizes():
    sizes = [64, 128, 10]
    need = limits.TRAINING_COPIES * 8 * parameter_count(sizes)
    assert check_model_size(sizes, max_bytes=need) == parameter_count(sizes)
    with pytest.raises(SizeLimitError):
        check_model_size(sizes, max_bytes=need - 1)
    assert check_model_size(np.array([2, 3, 1])) == 13      # NumPy integers are whole numbers too
    for bad in ([2], [2, 0, 1], [2, 1.5, 1], [True, 2]):
        with pytest.raises(ValueError, match="must be at least two whole numbers >= 1"):
            check_model_size(bad)


def test_the_module_examples_hold():
    assert doctest.testmod(limits).failed == 0 and doctest.testmod(limits).attempted == 2
