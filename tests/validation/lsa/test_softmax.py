"""The softmax transformer of Figs. 6-7 (lsa.md Part 2 §D, full profile): tokens, the model's
shapes and invariances, the group correlation, a tiny training run, bad input."""

import numpy as np
import pytest
import torch

from numerics.lsa.ceilings import sample_kernel_prompts
from theory.errors import InputError
from validation.lsa.softmax import (SoftmaxTransformer, accuracy_against_n,
                                    attention_group_correlation, chain_tokens, group_correlation,
                                    pearson_rows, sample_group_prompts, train_softmax)


def test_chain_tokens_encode_symbols_mask_and_flag():
    Z = np.array([[[0, 1, 1], [1, 1, 0], [1, 0, 1]]], dtype=float)   # d = 2, n = 2, label slot 1
    tok = chain_tokens(Z).numpy()
    assert tok.shape == (1, 3, 4)
    np.testing.assert_array_equal(tok[0, 0], [-1, 1, 1, 0])
    np.testing.assert_array_equal(tok[0, 1], [1, 1, -1, 0])
    np.testing.assert_array_equal(tok[0, 2], [1, -1, 0, 1])         # label masked, query flag


def test_forward_shapes_and_attention_rows_sum_to_one():
    model = SoftmaxTransformer(d=5, seed=1)
    pr = sample_kernel_prompts(2, 1.0, 5, 7, 4, 0)
    logits, atts = model(chain_tokens(pr.Z), attention=True)
    assert logits.shape == (4, 2) and len(atts) == 3
    for a in atts:
        assert a.shape == (4, 2, 8, 8) and torch.all(a >= 0)
        torch.testing.assert_close(a.sum(-1), torch.ones(4, 2, 8))


def test_output_invariant_to_permuting_the_context_but_not_the_query():
    model = SoftmaxTransformer(d=5, seed=2)
    with torch.no_grad():                  # larger weights so that the test can see a change
        for p in model.parameters():
            p.mul_(20.0)
    tok = chain_tokens(sample_kernel_prompts(2, 1.0, 5, 6, 3, 4).Z)
    perm = torch.tensor([3, 0, 5, 1, 4, 2, 6])
    out, out_perm = model(tok), model(tok[:, perm])
    torch.testing.assert_close(out, out_perm)
    swapped = model(tok[:, [6, 1, 2, 3, 4, 5, 0]])                   # query no longer last
    assert (swapped - out).abs().max() > 1e-6


def test_pearson_rows_known_value_and_degenerate_rows():
    a = np.array([[0.4, 0.2, 0.3, 0.1], [0.25] * 4, [1.0, 2.0, 3.0, 4.0]])
    b = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [2.0, 4.0, 6.0, 8.0]])
    r = pearson_rows(a, b)
    assert r[0] == pytest.approx(1 / np.sqrt(5), abs=1e-12)        # cov 0.1 / sqrt(0.05 * 1)
    assert np.isnan(r[1]) and r[2] == pytest.approx(1.0, abs=1e-12)


def test_group_correlation_on_a_constructed_attention_pattern():
    group = np.array([[0, 1, 0, 1, 0], [1, 1, 0, 0, 0]])             # the last token is the query
    att = np.zeros((2, 2, 5, 5))
    att[0, :, -1, :4] = [0.3, 0.1, 0.3, 0.1]                         # attention = a + b * same
    att[1, 0, -1, :4] = [0.1, 0.3, 0.4, 0.2]
    att[1, 1, -1, :4] = [0.1, 0.1, 0.2, 0.4]                         # head mean .1 .2 .3 .3
    att[..., -1, 4] = 1 - att[..., -1, :4].sum(-1)
    corr = group_correlation([att, att[:, ::-1]], group)
    assert corr.shape == (2, 2)
    np.testing.assert_allclose(corr[:, 0], 1.0, atol=1e-12)
    # prompt 1: same = (0, 0, 1, 1), mean attention (.1, .2, .3, .3): centred sums
    # cov 0.15, attention 0.0275, indicator 1
    np.testing.assert_allclose(corr[:, 1], 0.15 / np.sqrt(0.0275), atol=1e-12)


def test_group_prompts_law_and_query_group():
    pr = sample_group_prompts(3, 9, 500, groups=2, seed=0)
    assert pr.Z.shape == (500, 4, 10) and pr.group.shape == (500, 10)
    assert np.all(pr.group[:, -1] == 0) and set(np.unique(pr.group)) == {0, 1}
    assert np.all(pr.Z[:, 3, 9] == 0) and set(np.unique(pr.y)) == {0.0, 1.0}
    assert abs(pr.Z[:, 0].mean() - 0.5) < 0.03                     # uniform initial state


def test_tiny_training_beats_chance():
    r = train_softmax(d=5, n_max=10, steps=150, batch=64, lr=1e-2, width=16, layers=1, mlp=2,
                      seed=0)
    assert r.losses.shape == (18,) and r.losses[-1] < 0.69
    acc = accuracy_against_n(r.model, [10], prompts=2000, seed=1)
    assert acc.accuracy.shape == (6, 1) and acc.methods[0] == "transformer"
    assert acc.accuracy[0, 0] > 0.65                                # chance 0.5, Bayes about 0.76
    assert acc.diff_se[0, 0] == 0.0
    g = attention_group_correlation(r.model, n=6, prompts=50, seed=2)
    assert g.mean.shape == (1,) and g.prompts <= 50 and np.all(np.abs(g.mean) <= 1)


@pytest.mark.parametrize("call, name", [
    (lambda: SoftmaxTransformer(d=5, width=64, heads=3), "heads"),
    (lambda: SoftmaxTransformer(d=0), "d"),
    (lambda: SoftmaxTransformer(d=5, seed=-1), "seed"),
    (lambda: SoftmaxTransformer(d=5)(torch.zeros(2, 3, 6)), "tokens"),
    (lambda: chain_tokens(np.full((1, 3, 3), 2.0)), "Z"),
    (lambda: chain_tokens(np.zeros((3, 3))), "Z"),
    (lambda: sample_group_prompts(3, 0, 10), "n"),
    (lambda: sample_group_prompts(3, 5, 10, groups=0), "groups"),
    (lambda: train_softmax(steps=0), "steps"),
    (lambda: train_softmax(n_max=201), "n_max"),
    (lambda: train_softmax(lr=-1.0), "lr"),
    (lambda: accuracy_against_n("model", [1]), "model"),
    (lambda: accuracy_against_n(SoftmaxTransformer(), [1, 1]), "ns"),
    (lambda: accuracy_against_n(SoftmaxTransformer(), [1], prompts=1), "prompts"),
    (lambda: attention_group_correlation(SoftmaxTransformer(), groups=1), "groups"),
    (lambda: attention_group_correlation(SoftmaxTransformer(), n=1), "n"),
    (lambda: pearson_rows(np.zeros((2, 3)), np.zeros((2, 4))), "b"),
    (lambda: group_correlation([np.zeros((1, 1, 4, 4))], np.zeros((2, 4))), "attentions"),
    (lambda: group_correlation([], np.zeros((2, 4))), "attentions"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(InputError) as err:
        call()
    assert name in str(err.value)


def test_softmax_figure_panels_and_bad_shapes():
    from validation.lsa.plots import softmax_against_context

    out = softmax_against_context([1, 10], ["transformer", "3-NN", "Bayes"],
                                  [[0.7, 0.75], [0.6, 0.7], [0.72, 0.76]], np.full((3, 2), 0.01),
                                  [0.14, 0.0, -0.01], [0.01, 0.01, 0.01], loc="lower right")
    assert len(out.axes) == 2 and set(out.lines) == {"transformer", "3-NN", "Bayes", "correlation"}
    with pytest.raises(InputError, match="corr_se"):
        softmax_against_context([1], ["Bayes"], [[0.7]], [[0.01]], [0.1, 0.2], [0.1])
