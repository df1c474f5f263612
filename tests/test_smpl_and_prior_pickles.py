"""Official-style SMPL and SMPLify files through the one restricted loader (mshot/safe_pickle.py): Python 2 pickles
with chumpy arrays and a sparse J_regressor load to the model's arrays; crafted ones that would run code are refused
naming their file kind, and nothing of theirs runs."""

from __future__ import annotations

import io
import pickle
import struct

import numpy as np
import pytest
import scipy.sparse
import torch

from mshot.body.generate import make_generated_smpl_arrays
from mshot.body.model import BodyModel
from mshot.body.smpl_file import load_smpl_arrays
from mshot.errors import InvalidInput
from mshot.safe_pickle import load_restricted
from services.multishot.pose_prior import fallback_prior_as_gmm, load_gmm_pose_prior
from tests.pickle_payloads import RunsShell


class _Ch:  # written under the name chumpy.ch.Ch, with the state a chumpy Ch pickles (its __dict__)
    def __init__(self, x):
        self.__dict__ = {"x": x, "_dirty_vars": {"x"}, "_itr": None, "_make_dense": False, "_make_sparse": False,
                         "_depends_on_deps": {}}


class _RenamingPickler(pickle._Pickler):
    """Writes the classes in `renamed` under the module and name they have in real files; with protocols 0-2 as
    Python 2's cPickle did: str and bytes as 8-bit strings, Python 2 module names (copy_reg, __builtin__)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol: int, renamed: dict[type, str]):
        super().__init__(file, protocol, fix_imports=True)
        self.renamed = renamed

    def save_8bit(self, obj):
        if self.proto >= 3:
            return (pickle._Pickler.save_str if isinstance(obj, str) else pickle._Pickler.save_bytes)(self, obj)
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        short = len(data) < 256
        self.write((pickle.SHORT_BINSTRING + bytes([len(data)]) if short else
                    pickle.BINSTRING + struct.pack("<i", len(data))) + data)

    def save_global(self, obj, name=None):
        if obj not in self.renamed:
            return super().save_global(obj, name)
        module, name = self.renamed[obj].rsplit(".", 1)
        return self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())

    dispatch[str] = save_8bit
    dispatch[bytes] = save_8bit


def _renamed_pickle(obj, protocol: int) -> bytes:
    """`obj` pickled as a Python 2 program wrote it (protocols 1 and 2) or a Python 3 one (3 and later)."""
    buffer = io.BytesIO()
    renamed = {_Ch: "chumpy.ch.Ch", scipy.sparse.csc_matrix: "scipy.sparse.csc.csc_matrix"}
    _RenamingPickler(buffer, protocol, renamed).dump(obj)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def generated():
    return make_generated_smpl_arrays()


def _official_style(arrays: dict) -> dict:
    """The SMPL .pkl layout: chumpy arrays, a scipy.sparse csc J_regressor, plain arrays and strings."""
    chumpy = ("v_template", "shapedirs", "posedirs", "weights", "J")
    return {key: _Ch(value) if key in chumpy else value for key, value in arrays.items()}


@pytest.mark.parametrize("protocol", [1, 2])  # 1: copy_reg._reconstructor, no header; 2: NEWOBJ
def test_python2_smpl_pickle_with_chumpy_arrays_and_sparse_regressor_loads_to_the_model_arrays(
        tmp_path, generated, protocol):
    path = tmp_path / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"
    path.write_bytes(_renamed_pickle(_official_style(generated), protocol))
    assert (b"copy_reg\n_reconstructor" in path.read_bytes()) == (protocol == 1)
    loaded = load_smpl_arrays(path)
    assert set(loaded) == set(generated)
    for key, value in generated.items():
        if scipy.sparse.issparse(value):
            assert scipy.sparse.isspmatrix_csc(loaded[key]) and loaded[key].shape == value.shape
            np.testing.assert_array_equal(loaded[key].toarray(), value.toarray())
        elif isinstance(value, np.ndarray):
            assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value), key
        else:
            assert loaded[key] == value, key
    model, reference = BodyModel(loaded), BodyModel(generated)
    pose = 0.3 * torch.randn(2, 69, generator=torch.Generator().manual_seed(0))
    zeros = torch.zeros(2, 3)
    torch.testing.assert_close(model(zeros, pose, torch.ones(1, 10), zeros).vertices,
                               reference(zeros, pose, torch.ones(1, 10), zeros).vertices)


def test_sparse_regressor_reaching_outside_its_shape_is_refused(tmp_path, generated):
    arrays = dict(generated)
    bad = arrays["J_regressor"].copy()
    bad.indices[0] = 10**6  # a row index far past the 24 rows
    arrays["J_regressor"] = bad
    path = tmp_path / "model.pkl"
    path.write_bytes(_renamed_pickle(arrays, 2))
    with pytest.raises(InvalidInput, match="body model file .*csc_matrix is inconsistent"):
        load_smpl_arrays(path)


def _sparse_holding(payload) -> scipy.sparse.csc_matrix:
    matrix = scipy.sparse.csc_matrix(np.eye(3))
    matrix.data = payload
    return matrix


@pytest.mark.parametrize("payload", [
    lambda command: RunsShell(command),
    lambda command: _Ch(RunsShell(command)),  # inside a chumpy object's state
    lambda command: _sparse_holding(RunsShell(command)),  # inside a sparse matrix's state
])
@pytest.mark.parametrize("protocol", [1, 2, 4])
def test_crafted_smpl_named_pickle_is_refused_and_nothing_runs(tmp_path, generated, payload, protocol):
    marker = tmp_path / "executed"
    arrays = _official_style(generated)
    arrays["shapedirs"] = payload(f"touch {marker}")
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(_renamed_pickle(arrays, protocol))
    with pytest.raises(InvalidInput, match=r"body model file .*SMPL_NEUTRAL.pkl refers to the forbidden object "
                                           r"'posix.system', which is not allowed") as info:
        load_smpl_arrays(path)
    assert "chumpy arrays" in info.value.message and "nothing was executed" in info.value.message
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [1, 2])
def test_python2_gmm_file_reads_back_as_written(tmp_path, protocol):
    gmm = fallback_prior_as_gmm(8)
    path = tmp_path / "gmm_08.pkl"
    path.write_bytes(_renamed_pickle(gmm, protocol))
    prior = load_gmm_pose_prior(path)
    np.testing.assert_allclose(prior.means.numpy(), gmm["means"])
    np.testing.assert_allclose(prior.offset.numpy(), -np.log(gmm["weights"]), rtol=1e-6)


@pytest.mark.parametrize("protocol", [1, 2, 4])
def test_crafted_gmm_pickle_is_refused_and_nothing_runs(tmp_path, protocol):
    marker = tmp_path / "executed"
    gmm = {**fallback_prior_as_gmm(8), "covars": RunsShell(f"touch {marker}")}
    path = tmp_path / "gmm_08.pkl"
    path.write_bytes(_renamed_pickle(gmm, protocol))
    with pytest.raises(InvalidInput, match=r"pose prior file .*gmm_08.pkl refers to the forbidden object "
                                           r"'posix.system', which is not allowed"):
        load_gmm_pose_prior(path)
    assert not marker.exists()
    chumpy_gmm = {**fallback_prior_as_gmm(8), "means": _Ch(np.zeros((8, 69)))}  # chumpy is for body models only
    path.write_bytes(_renamed_pickle(chumpy_gmm, 2))
    with pytest.raises(InvalidInput, match="forbidden object 'chumpy.ch.Ch'"):
        load_gmm_pose_prior(path)


def test_the_plain_loader_admits_neither_chumpy_nor_python2_pickles(tmp_path):
    path = tmp_path / "results.pkl"
    path.write_bytes(_renamed_pickle({"v": _Ch(np.zeros(3))}, 2))
    with pytest.raises(InvalidInput, match=r"PHALP results .* forbidden object 'chumpy.ch.Ch'.*numpy arrays are read"):
        load_restricted(path, "PHALP results")
    path.write_bytes(_renamed_pickle({"v": np.zeros(3)}, 1))  # protocol 1: no header
    with pytest.raises(InvalidInput, match="is not a pickle"):
        load_restricted(path, "PHALP results")
    path.write_bytes(b"\x80\x02" + _renamed_pickle({"v": _Ch(np.zeros(3))}, 1))  # copy_reg._reconstructor
    with pytest.raises(InvalidInput, match="forbidden object 'copyreg._reconstructor'"):
        load_restricted(path, "PHALP results")
