"""Issue 11 for the Potts paper: every bad or extreme input gives one `error:` line (exit 2, or exit
1 `error: numerical failure:` where the input is valid but the computation fails), within 10 s
under a 2 GiB address-space cap; options of another mode are refused by name."""

import json

import numpy as np
import pytest

from numerics.potts import population
from validation.cli import main

ANCHOR = {"J": [[0.0, 1.0, 0.5], [1.0, 0.0, -0.3], [0.5, -0.3, 0.0]],
          "U": [[1.0, -1.0], [-1.0, 1.0]], "beta": 1.0}


def one_error(code, out, err, seconds, expected_code=2):
    lines = err.strip().splitlines()
    assert code == expected_code and out == "" and len(lines) == 1, (code, out, err)
    assert lines[0].startswith("error: numerical failure:" if expected_code == 1 else "error:")
    assert seconds < 10
    return lines[0]


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_a_folder_given_as_the_model_file(run_capped, tmp_path):
    line = one_error(*run_capped("potts", "exact", "--model", str(tmp_path)))
    assert "--model" in line and "IsADirectory" not in line


def test_overflowing_couplings_are_a_numerical_failure_not_marginals_summing_to_two(run_capped,
                                                                                      tmp_path):
    model = dict(ANCHOR, J=[[0.0, 1e300, 0.0], [1e300, 0.0, 0.0], [0.0, 0.0, 0.0]])
    line = one_error(*run_capped("potts", "exact", "--model", write(tmp_path, "m.json", model)),
                     expected_code=1)
    assert "log-weights" in line


def test_too_many_samples_refused_before_allocating(run_capped, tmp_path):
    line = one_error(*run_capped("potts", "sample", "--model", write(tmp_path, "m.json", ANCHOR),
                                 "--samples", "100000000", "--out", str(tmp_path / "s.npz")))
    assert "n_samples=100000000" in line and "GiB" in line


def test_too_many_sweeps_refused(run_capped, tmp_path):
    line = one_error(*run_capped("potts", "sample", "--model", write(tmp_path, "m.json", ANCHOR),
                                 "--samples", "10000", "--burn-in", "1000000", "--thin", "1000000",
                                 "--out", str(tmp_path / "s.npz")))
    assert "operations" in line


def test_represent_on_half_a_million_states_refused(run_capped, tmp_path):
    model = population.default_model(19, 2, seed=0).to_dict()
    line = one_error(*run_capped("potts", "represent", "--model", write(tmp_path, "m.json", model),
                                 "--attention", "free"))
    assert "restarts=2" in line


def test_options_of_another_mode_are_refused_by_name(capsys, tmp_path):
    samples = tmp_path / "s.npz"
    np.savez(samples, samples=np.random.default_rng(0).integers(0, 2, (30, 3)), C=np.int64(2))
    cases = [
        (["potts", "replica", "--scenario", "logistic", "--alpha", "1", "--lam", "0.1",
          "--delta", "0.3"], "--delta"),
        (["potts", "replica", "--scenario", "ridge", "--alpha", "1", "--lam", "0.1",
          "--quadrature", "31"], "--quadrature"),
        (["potts", "fit", "--samples", str(samples), "--method", "factored", "--symmetric"],
         "--symmetric"),
        (["potts", "fit", "--samples", str(samples), "--method", "plm", "--restarts", "3"],
         "--restarts"),
        (["potts", "fit", "--samples", str(samples), "--method", "plm", "--seed", "3"], "--seed"),
    ]
    for argv, flag in cases:
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith(f"error: {flag}")


@pytest.mark.parametrize("content, name", [
    ({"J": [["0", "1"], ["1", "0"]], "U": ANCHOR["U"]}, "J="),         # strings are not numbers
    ({"J": [[0, True], [True, 0]], "U": ANCHOR["U"]}, "J="),           # nor are bools
    ({"J": [[0, [1]], [1, 0]], "U": ANCHOR["U"]}, "J="),               # deeper nesting
    ({"J": [[0, 1], [1, 0]], "U": "[[1, 0], [0, 1]]"}, "U="),
    ({"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "beta": "1"}, "beta="),
    ({"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "beta": True}, "beta="),
    ({"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "beta": 1e400}, "beta="),
    ({"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "h": [[0, 0, 0], [0, 0, 0]]}, "h="),
    ({"J": [[0, 10**400], [10**400, 0]], "U": [[1, 0], [0, 1]]}, "J="),
    ({"J": [[0, 1], [1, 0]], "U": [[1, 0], [0, 1]], "extra": 1}, "model="),
    ([[0, 1], [1, 0]], "model="),
])
def test_every_model_field_is_checked_strictly(capsys, tmp_path, content, name):
    text = json.dumps(content).replace("1e+400", "1e400")
    assert main(["potts", "exact", "--model", write(tmp_path, "m.json", text)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and name in err


def test_binary_and_non_utf8_model_files_are_refused(capsys, tmp_path):
    for name, data in (("bin.json", bytes(range(256))), ("latin.json", '{"J": "é"}'.encode("latin-1"))):
        path = tmp_path / name
        path.write_bytes(data)
        assert main(["potts", "exact", "--model", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and "--model" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("arrays, what", [
    ({"samples": np.zeros((5, 3))}, "samples"),                         # float, not int
    ({"samples": np.zeros((5, 3, 2), dtype=np.int64)}, "samples"),      # wrong dimension
    ({"samples": np.zeros((5, 3), dtype=np.int64), "C": np.float64(2)}, "C"),
    ({"samples": np.zeros((5, 3), dtype=np.int64), "junk": np.zeros(2)}, "junk"),
    ({"samples": np.array([[0, 1, 5]]), "C": np.int64(2)}, "samples"),   # colour out of range
    ({"other": np.zeros((5, 3), dtype=np.int64)}, "other"),
])
def test_sample_files_are_read_strictly(capsys, tmp_path, arrays, what):
    path = tmp_path / "s.npz"
    np.savez(path, **arrays)
    assert main(["potts", "fit", "--samples", str(path), "--method", "plm"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and what in err


def test_a_text_file_named_npz_and_an_object_array_are_refused(capsys, tmp_path):
    text = tmp_path / "t.npz"
    text.write_text("not a zip")
    objects = tmp_path / "o.npz"
    np.savez(objects, samples=np.array([[0, 1], [1, None]], dtype=object))
    for path in (text, objects):
        assert main(["potts", "fit", "--samples", str(path), "--method", "factored"]) == 2
        out, err = capsys.readouterr()
        assert out == "" and "--samples" in err and len(err.strip().splitlines()) == 1


def test_the_default_contact_map_path_is_validated(capsys, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    samples = folder / "s.npz"
    np.savez(samples, samples=np.random.default_rng(0).integers(0, 2, (30, 3)), C=np.int64(2))
    (folder / "s_plm_contacts.npz").mkdir()  # the default output is a folder: refused
    assert main(["potts", "fit", "--samples", str(samples), "--method", "plm"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--contact-map" in err


def test_valid_replica_lists_still_parse(run_json):
    r = run_json("potts", "replica", "--scenario", "ridge", "--alpha", "1/2,2", "--lam", "3/10")
    assert r["alpha"] == [0.5, 2.0] and r["bayes_floor"] == 0.5


def test_a_list_longer_than_the_limit_is_refused(capsys):
    assert main(["potts", "replica", "--scenario", "ridge", "--alpha", ",".join(["1"] * 1001),
                 "--lam", "0.1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--alpha" in err and len(err.strip().splitlines()) == 1
