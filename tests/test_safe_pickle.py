"""The restricted unpickler (mshot/safe_pickle.py): plain values, numpy arrays and joblib files load; crafted
pickles that would run code or build foreign objects are refused by name and nothing of theirs runs."""

from __future__ import annotations

import collections
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest

from mshot.errors import InvalidInput, NotFound
from mshot.safe_pickle import UndecodedTensor, load_restricted
from tests.pickle_payloads import RunsShell


class _Evals:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return eval, (self.code,)


class _Popens:
    def __init__(self, argv):
        self.argv = argv

    def __reduce__(self):
        return subprocess.Popen, (self.argv,)


class _GetattrTrick:
    """getattr(str, ...): getattr is a common way around naive allow-lists (str itself is allowed)."""

    def __reduce__(self):
        return getattr, (str, "join")


class _ObjectDtype:
    """numpy.dtype('object') spelled in lower case: an object dtype that a check on 'O' alone would miss."""

    def __reduce__(self):
        return np.dtype, ("object", False, True)


def _sample():
    return {
        "big_endian": np.arange(12, dtype=">f4").reshape(3, 4),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "scalar": np.float32(2.5), "int": np.int64(7), "text": np.array(["ab", "c"]), "empty": np.zeros((0, 3)),
        "plain": [1, (2, 3.5), {"x": None, "y": b"\x00\x01"}], "set": {1, 2}, "ordered": collections.OrderedDict(a=1),
        "bools": np.array([True, False]),
    }


def _assert_same(loaded, original):
    for key in ("big_endian", "fortran", "text", "empty", "bools"):
        assert loaded[key].dtype == original[key].dtype and np.array_equal(loaded[key], original[key]), key
    assert type(loaded["scalar"]) is np.float32 and loaded["scalar"] == 2.5 and loaded["int"] == 7
    assert loaded["plain"] == original["plain"] and loaded["set"] == {1, 2} and loaded["ordered"] == {"a": 1}


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)])
def test_joblib_files_load_with_their_arrays_plain_or_compressed(tmp_path, compress):
    data = _sample()
    data["shared"] = [data["fortran"], data["fortran"]]
    joblib.dump(data, tmp_path / "r.pkl", compress=compress)
    loaded = load_restricted(tmp_path / "r.pkl")
    _assert_same(loaded, data)
    assert np.array_equal(loaded["shared"][1], data["fortran"])


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_pickles_load_including_shared_array_references(tmp_path, protocol):
    data = _sample()
    data["shared"] = [data["big_endian"], data["big_endian"]]  # second one is a memo reference
    (tmp_path / "p.pkl").write_bytes(pickle.dumps(data, protocol=protocol))
    loaded = load_restricted(tmp_path / "p.pkl")
    _assert_same(loaded, data)
    assert isinstance(loaded["shared"][1], np.ndarray) and np.array_equal(loaded["shared"][1], data["big_endian"])


def test_torch_tensors_load_as_numpy_arrays_without_importing_torch(tmp_path):
    torch = pytest.importorskip("torch")
    tensors = {"embedding": torch.arange(12.0).reshape(3, 4).T[1:], "scalar": torch.tensor(2.5, dtype=torch.float64),
               "long": torch.arange(10)[::3], "bools": torch.tensor([True, False]), "empty": torch.zeros(0, 4)}
    joblib.dump({**tensors, "half": torch.ones(3, dtype=torch.bfloat16)}, tmp_path / "t.pkl", compress=3)
    code = ("import sys; from mshot.safe_pickle import load_restricted; "
            f"r = load_restricted({str(tmp_path / 't.pkl')!r}); "
            "print(r['embedding'].sum(), r['half'].shape, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(tensors["embedding"].sum().item()), "(3,)", "False"]
    loaded = load_restricted(tmp_path / "t.pkl")
    for key, tensor in tensors.items():
        assert loaded[key].dtype == tensor.numpy().dtype and np.array_equal(loaded[key], tensor.numpy()), key
    assert loaded["half"] == UndecodedTensor((3,))  # bfloat16 has no numpy dtype


class _StrideOutside:
    """A tensor whose stride reaches past its 3-element storage (a strided view would read foreign memory)."""

    def __reduce__(self):
        import collections

        import torch
        return torch._utils._rebuild_tensor_v2, (torch.zeros(3).storage(), 0, (5,), (100,), False,
                                                 collections.OrderedDict())


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
@pytest.mark.parametrize("payload, message", [
    ("_StrideOutside", "reaches outside its storage"),
    ("_HugeBroadcastTensor", "more elements than its storage"),  # refused before allocating 80 GB of index
])
def test_a_torch_tensor_reaching_outside_or_bigger_than_its_storage_is_refused(tmp_path, payload, message):
    pytest.importorskip("torch")
    (tmp_path / "t.pkl").write_bytes(pickle.dumps(globals()[payload]()))
    with pytest.raises(InvalidInput, match=message):
        load_restricted(tmp_path / "t.pkl")


@pytest.mark.parametrize("payload, named", [
    (lambda marker: RunsShell(f"touch {marker}"), "system"),
    (lambda marker: _Evals(f"open({str(marker)!r}, 'w')"), "builtins.eval"),
    (lambda marker: _Popens(["touch", str(marker)]), "subprocess.Popen"),
    (lambda marker: _GetattrTrick(), "builtins.getattr"),
    (lambda marker: collections.Counter("ab"), "collections.Counter"),
    (lambda marker: RunsShell, "pickle_payloads.RunsShell"),  # a foreign class itself
])
@pytest.mark.parametrize("container", ["pickle", "joblib"])
def test_crafted_pickles_are_refused_by_name_and_nothing_runs(tmp_path, payload, named, container):
    marker = tmp_path / "executed"
    data = {"frame": {"smpl": np.zeros(3), "evil": payload(marker)}}
    path = tmp_path / "evil.pkl"
    if container == "joblib":
        joblib.dump(data, path, compress=3)
    else:
        path.write_bytes(pickle.dumps(data, protocol=4))
    with pytest.raises(InvalidInput, match=named) as info:
        load_restricted(path, "PHALP results")
    assert "not allowed" in info.value.message and str(path) in info.value.message
    assert not marker.exists()


def test_protocol_0_inst_opcode_and_object_arrays_are_refused(tmp_path):
    marker = tmp_path / "executed"
    (tmp_path / "inst.pkl").write_bytes(b"\x80\x02(S'touch " + str(marker).encode() + b"'\nios\nsystem\n.")
    with pytest.raises(InvalidInput, match="INST"):
        load_restricted(tmp_path / "inst.pkl")
    assert not marker.exists()
    (tmp_path / "objects.pkl").write_bytes(pickle.dumps(np.array([{"a": 1}, None], dtype=object)))
    with pytest.raises(InvalidInput, match="dtype 'O8' is not a plain"):
        load_restricted(tmp_path / "objects.pkl")
    (tmp_path / "object_dtype.pkl").write_bytes(pickle.dumps(_ObjectDtype()))
    with pytest.raises(InvalidInput, match="dtype 'object' is not a plain"):
        load_restricted(tmp_path / "object_dtype.pkl")


def test_not_a_pickle_truncated_empty_and_missing_files_get_clear_errors(tmp_path):
    (tmp_path / "text.pkl").write_text("frame,person\n1,2\n")
    with pytest.raises(InvalidInput, match="is not a pickle"):
        load_restricted(tmp_path / "text.pkl")
    (tmp_path / "empty.pkl").write_bytes(b"")
    with pytest.raises(InvalidInput, match="is not a pickle"):
        load_restricted(tmp_path / "empty.pkl")
    joblib.dump({"a": np.arange(10000.0)}, tmp_path / "whole.pkl", compress=3)
    whole = (tmp_path / "whole.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InvalidInput, match="not a readable pickle|truncated"):
        load_restricted(tmp_path / "cut.pkl")
    with pytest.raises(NotFound):
        load_restricted(tmp_path / "missing.pkl")


class _HugeBroadcastTensor:
    """A 3-element storage read as 100000 x 100000 elements with stride 0 (80 GB of index at 1a9a3b8)."""

    def __reduce__(self):
        import collections

        import torch
        return torch._utils._rebuild_tensor_v2, (torch.zeros(3).storage(), 0, (100_000, 100_000), (0, 0), False,
                                                 collections.OrderedDict())


def _bytearray_of_length(length: int) -> bytes:
    """The 39-byte pickle `bytearray(length)`: a GLOBAL and an int argument, nothing else."""
    return (b"\x80\x04\x8c\x08builtins\x94\x8c\tbytearray\x94\x93\x94\x8a\x05" + length.to_bytes(5, "little")
            + b"\x85\x94R\x94.")


def _copies_of_one_block(copies: int, block: int) -> bytes:
    """A list holding `copies` bytearray copies of one memoized `block`-byte string: ~`block` bytes of pickle that
    decode to `copies * block` bytes."""
    out = bytearray(b"\x80\x04]\x94\x8c\x08builtins\x94\x8c\tbytearray\x94\x93\x940")  # [] memo0, bytearray memo3
    out += b"B" + block.to_bytes(4, "little") + b"x" * block + b"\x940"  # the block: memo 4
    out += b"(" + b"h\x03h\x04\x85R" * copies + b"e."  # MARK, copies x bytearray(block), APPENDS, STOP
    return bytes(out)


def test_bytearray_or_bytes_of_a_length_is_refused_without_allocating(tmp_path):
    path = tmp_path / "b.pkl"
    path.write_bytes(_bytearray_of_length(3_000_000_000))
    assert len(path.read_bytes()) == 39
    with pytest.raises(InvalidInput, match="bytearray of length 3000000000"):
        load_restricted(path)
    path.write_bytes(pickle.dumps(bytearray(b"kept"), protocol=2))  # a bytearray of bytes still loads
    assert load_restricted(path) == bytearray(b"kept")


def test_a_small_pickle_that_copies_one_block_many_times_is_refused_as_an_allocation_bomb(tmp_path):
    path = tmp_path / "bomb.pkl"
    path.write_bytes(_copies_of_one_block(copies=200, block=1 << 20))  # 1 MiB of pickle -> 200 MiB of objects
    with pytest.raises(InvalidInput, match="allocation bomb"):
        load_restricted(path)
    path.write_bytes(_copies_of_one_block(copies=3, block=1 << 20))
    assert [len(b) for b in load_restricted(path)] == [1 << 20] * 3

