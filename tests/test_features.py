"""Características en caché: mismos números que sin caché, y piezas para barridos."""

import pytest
import torch
from helpers import FAST, make_set

import labkit.base._speed as speed
from labkit import LabkitError, create_model, freeze_to, layer_groups
from labkit.data import normalize
from labkit.models import split_at
from labkit.training import (
    FeatureCache,
    FeatureSet,
    evaluate,
    extract_features,
    fit,
    prefix_fingerprint,
)


def frozen_model(name: str = "cnn_pequena", depth: int | None = None, seed: int = 0):
    torch.manual_seed(seed)
    model = create_model(name, num_classes=3, pretrained=False)
    freeze_to(model, len(layer_groups(model)) - 1 if depth is None else depth)
    return model



@pytest.fixture(scope="module")
def data():
    return make_set(48), make_set(24, seed=1)


def numbers(h):
    return h.train_loss + h.train_acc + h.val_loss + h.val_acc


@pytest.mark.parametrize("name,depth", [("cnn_pequena", None), ("cnn_pequena", 2),
                                        ("efficientnet_lite0", None), ("efficientnet_lite0", 6)])
def test_cached_and_uncached_give_the_same_history(data, name, depth):
    train, val = data
    runs = {}
    for cache in (True, False):
        # Lo que se prueba es la caché: extracción y entrenamiento en el mismo formato. Con pesos
        # aleatorios, el redondeo distinto de channels-last (~1e-6) se amplifica en 3 épocas
        # hasta ~3e-2; con pesos preentrenados no (test_speed.py lo comprueba).
        with speed.override(channels_last=False):
            h = fit(frozen_model(name, depth), train, val, epochs=3, lr=3e-3, cache=cache,
                    seed=4, **FAST)
        assert h.cached is cache
        runs[cache] = numbers(h)
    assert runs[True] == pytest.approx(runs[False], abs=1e-4)


def test_augmentation_turns_the_cache_off(data):
    train, val = data
    assert not fit(frozen_model(), train, val, epochs=1, augment=True, cache=True, **FAST).cached
    assert fit(frozen_model(), train, val, epochs=1, cache="auto", **FAST).cached
    assert not fit(frozen_model(depth=0), train, val, epochs=1, **FAST).cached


def test_extract_features_are_usable_for_training_and_restore_modes(data):
    train, _ = data
    model = frozen_model()
    model.train()
    feats = extract_features(model, train, 3)
    assert model.training and all(m.training for m in model.modules())
    assert not feats.requires_grad and not feats.is_inference() and feats.dtype == torch.float32
    prefix, _ = split_at(model, 3)
    with torch.no_grad():
        model.eval()
        expected = prefix(normalize(train.images, (0.5,) * 3, (0.25,) * 3))
    assert torch.allclose(feats, expected, atol=1e-5)
    head = torch.nn.Conv2d(feats.shape[1], 3, 1)
    loss = head(feats).mean(dim=(2, 3)).logsumexp(1).mean()
    loss.backward()
    assert head.weight.grad is not None


def test_float_inputs_are_taken_as_normalised(data):
    train, _ = data
    model = frozen_model()
    x = normalize(train.images, (0.5,) * 3, (0.25,) * 3)
    assert torch.allclose(extract_features(model, x, 4), extract_features(model, train, 4),
                          atol=1e-6)


def test_feature_set_take_matches_image_set_take(data):
    train, _ = data
    model = frozen_model()
    feats = FeatureSet.extract(model, train)
    assert feats.depth == len(layer_groups(model)) - 1 and len(feats) == len(train)
    small = feats.take(9, seed=3)
    images = train.take(9, seed=3)
    assert torch.equal(small.labels, images.labels)
    assert torch.allclose(small.features, extract_features(model, images, feats.depth),
                          atol=1e-5)
    assert small.class_counts() == images.class_counts()


def test_fit_on_feature_sets_matches_fit_on_images(data):
    train, val = data
    model = frozen_model()
    tr, va = FeatureSet.extract(model, train), FeatureSet.extract(model, val)
    h_feats = fit(model, tr, va, epochs=3, seed=2, **FAST)
    h_images = fit(frozen_model(), train, val, epochs=3, seed=2, cache=False, **FAST)
    assert h_feats.cached
    assert numbers(h_feats) == pytest.approx(numbers(h_images), abs=1e-4)
    assert evaluate(model, va)["loss"] == pytest.approx(evaluate(model, val)["loss"], abs=1e-5)


def test_feature_sets_refuse_mismatched_models(data):
    train, val = data
    model = frozen_model()
    tr, va = FeatureSet.extract(model, train), FeatureSet.extract(model, val)
    with pytest.raises(LabkitError, match="aumento"):
        fit(model, tr, va, augment=True, **FAST)
    with pytest.raises(LabkitError, match="freeze_to"):
        fit(frozen_model(depth=1), tr, va, **FAST)
    other = frozen_model(seed=9)
    with pytest.raises(LabkitError, match="otros pesos"):
        fit(other, tr, va, **FAST)
    assert fit(frozen_model(seed=0), tr, va, epochs=1, **FAST).cached  # mismos pesos: vale


def test_fingerprint_follows_the_weights(data):
    model = frozen_model()
    fp = prefix_fingerprint(model, 2)
    assert prefix_fingerprint(frozen_model(), 2) == fp
    with torch.no_grad():
        model.features[0][0].weight[0, 0, 0, 0] += 1e-3
    assert prefix_fingerprint(model, 2) != fp
    model.features[1][1].running_mean += 1e-3
    assert prefix_fingerprint(model, 2) != prefix_fingerprint(frozen_model(), 2)


def test_feature_cache_reuses_and_invalidates(data):
    train, val = data
    model = frozen_model()
    cache = FeatureCache()
    fit(model, train, val, epochs=1, cache=cache, **FAST)
    assert (cache.hits, cache.misses, len(cache)) == (0, 2, 2)
    fit(model, train, val, epochs=1, cache=cache, **FAST)  # solo cambia la cabeza
    assert (cache.hits, cache.misses) == (2, 2)
    with torch.no_grad():
        model.features[0][0].weight.mul_(1.01)
    cache.get(model, train, len(layer_groups(model)) - 1)
    assert cache.misses == 3
    tiny = FeatureCache(max_bytes=cache.nbytes // 2)
    tiny.get(model, train, 4)
    tiny.get(model, val, 4)
    assert len(tiny) == 1 and tiny.nbytes <= tiny.max_bytes
