"""validation.shared.encoder.EncoderLayer: the site fast path equals the full layer, the
attention weights are rows of a softmax, and bad settings are refused by name."""

import pytest
import torch

from theory.errors import InputError
from validation.shared.encoder import EncoderLayer


@pytest.mark.parametrize("norm_first, activation", [(False, "relu"), (True, "gelu")])
def test_sites_path_and_weights(norm_first, activation):
    torch.manual_seed(0)
    layer = EncoderLayer(8, 2, 16, norm_first=norm_first, activation=activation).double()
    x = torch.randn(5, 6, 8, dtype=torch.float64)
    sites = torch.tensor([0, 5, 2, 2, 3])
    full, att = layer(x, weights=True)
    assert att.shape == (5, 2, 6, 6)
    torch.testing.assert_close(att.sum(-1), torch.ones(5, 2, 6, dtype=torch.float64))
    torch.testing.assert_close(layer(x, sites), full[torch.arange(5), sites], rtol=0, atol=1e-13)


def test_bad_settings_name_the_argument():
    with pytest.raises(InputError, match="nhead"):
        EncoderLayer(8, 3, 16)
    with pytest.raises(InputError, match="activation"):
        EncoderLayer(8, 2, 16, activation="tanh")
