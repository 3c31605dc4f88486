"""labkit.base: channels-last y el prefijo compilado dan los mismos resultados que NCHW."""

from __future__ import annotations

import pytest
import torch

import labkit
import labkit.base._speed as speed
from labkit.models import layer_groups
from labkit.training import extract_features


def _images(n: int, size: int = 40, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)


@pytest.fixture
def compile_always(monkeypatch):
    """Compila aunque haya pocas imágenes (el umbral real es para no perder tiempo)."""
    monkeypatch.setattr(speed, "MIN_COMPILE_IMAGES", 1)


@pytest.mark.parametrize("name", sorted(labkit.models.MODELS))
def test_every_family_matches_nchw(name, compile_always):
    """Extracción (NCHW, channels-last y compilada) y evaluación coinciden a tolerancia de float."""
    torch.manual_seed(0)
    model = labkit.create_model(name, num_classes=3, pretrained=False)
    depth = len(layer_groups(model)) - 1
    x = _images(5, 48 if name != "cnn_pequena" else 32)
    with speed.override(channels_last=False, compile=False):
        ref = extract_features(model, x, depth)
        ref_logits = labkit.predict(model, x)[1]
    assert not any(p.is_contiguous(memory_format=torch.channels_last) and p.ndim == 4
                   and not p.is_contiguous() for p in model.parameters())
    with speed.override(channels_last=True, compile=False):
        fast = extract_features(model, x, depth)
        fast_logits = labkit.predict(model, x)[1]
    assert any(p.ndim == 4 for p in model.parameters())
    assert all(p.is_contiguous(memory_format=torch.channels_last)
               for p in model.parameters() if p.ndim == 4)
    with speed.override(channels_last=True, compile=True):
        compiled = extract_features(model, x, depth)
    assert fast.is_contiguous() and compiled.is_contiguous()
    scale = ref.abs().max().item() + 1e-6
    assert (fast - ref).abs().max().item() <= 1e-4 * scale
    assert (compiled - ref).abs().max().item() <= 1e-3 * scale
    torch.testing.assert_close(fast_logits, ref_logits, atol=1e-5, rtol=1e-4)


def test_training_step_matches_nchw():
    """Un entrenamiento corto da la misma historia con y sin channels-last."""
    data = labkit.surface_dataset(n_train=24, n_val=12, n_test=12, image_size=32, seed=0)
    histories = []
    for cl in (False, True):
        with speed.override(channels_last=cl, compile=False):
            labkit.seed_everything(0)
            model = labkit.create_model("cnn_pequena", num_classes=data.train.num_classes,
                                        pretrained=False)
            h = labkit.fit(model, data.train, data.val, epochs=2, lr=1e-3, seed=0,
                           progress=False, cache=False)
            histories.append(h)
    a, b = histories
    assert a.epochs == b.epochs == 2
    # Dos épocas acumulan el redondeo de convoluciones distintas: misma historia a 1 %.
    for x, y in zip(a.train_loss + a.val_loss, b.train_loss + b.val_loss, strict=True):
        assert abs(x - y) <= 1e-2 * max(1.0, abs(x))


def test_fit_layout_follows_depthwise():
    """fit entrena en channels-last solo los modelos con convoluciones depthwise (ver
    labkit.base.place): Lite0 preentrenado o desde cero sí; ResNet-18 no. Después, la
    evaluación va en channels-last."""
    data = labkit.surface_dataset(n_train=24, n_val=12, n_test=12, image_size=32, seed=0)
    cases = (("efficientnet_lite0", True, None, True),
             ("efficientnet_lite0", True, True, True),
             ("efficientnet_lite0", False, None, True),
             ("resnet18", False, False, False))
    for name, pretrained, update_bn, expected in cases:
        model = labkit.create_model(name, num_classes=data.train.num_classes,
                                    pretrained=pretrained)
        seen = []

        class Spy(labkit.training.Callback):
            def on_epoch_end(self, state):
                seen.append(speed.uses_channels_last(model))  # noqa: B023

        with speed.override(channels_last=True, compile=False):
            labkit.freeze_to(model, len(layer_groups(model)) - 3)  # cola con BatchNorm
            labkit.fit(model, data.train, data.val, epochs=1, lr=1e-3, seed=0, progress=False,
                       callbacks=[Spy()], update_bn=update_bn)
            assert seen == [expected], (name, pretrained, update_bn)
            labkit.evaluate(model, data.test)
            assert speed.uses_channels_last(model)


def test_channels_last_training_with_fixed_batchnorm_has_float_precision():
    """Con BatchNorm en evaluación (ajuste fino de un preentrenado), el gradiente en
    channels-last coincide con float64 tan bien como en NCHW (la razón de usarlo al entrenar)."""
    import copy

    torch.manual_seed(0)
    model = labkit.create_model("efficientnet_lite0", num_classes=3)
    x = labkit.normalize(_images(4, 48), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    y = torch.tensor([0, 1, 2, 0])
    grads = []
    for dtype, fmt in ((torch.float64, torch.contiguous_format),
                       (torch.float32, torch.contiguous_format),
                       (torch.float32, torch.channels_last)):
        m = copy.deepcopy(model).to(dtype=dtype, memory_format=fmt)
        labkit.train_mode(m, update_bn=False)
        torch.nn.functional.cross_entropy(m(x.to(dtype).contiguous(memory_format=fmt)), y).backward()
        grads.append(torch.cat([p.grad.double().flatten() for p in m.parameters()]))
    ref, nchw, cl = grads
    err = lambda g: float((g - ref).norm() / ref.norm())  # noqa: E731
    assert err(nchw) < 1e-3
    assert err(cl) < 1e-3


def _grad_error(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, cl: bool) -> float:
    """Error relativo del gradiente de la primera capa en float32 frente a float64 (NCHW)."""
    import copy

    grads = []
    for dtype, fmt in ((torch.float64, torch.contiguous_format),
                       (torch.float32, torch.channels_last if cl else torch.contiguous_format)):
        m = copy.deepcopy(model).to(dtype=dtype, memory_format=fmt).train()
        torch.manual_seed(1)
        loss = torch.nn.functional.cross_entropy(m(x.to(dtype).contiguous(memory_format=fmt)), y)
        loss.backward()
        grads.append(next(m.parameters()).grad.double().contiguous())
    ref, got = grads
    return ((got - ref).abs().max() / ref.abs().max()).item()


def test_training_in_nchw_has_float_precision():
    """La razón de entrenar en NCHW: su gradiente coincide con float64 a ~1e-5 (se comprueba
    aquí) y el de channels-last con BatchNorm entrenando, con un hilo, no siempre (se imprime)."""
    torch.manual_seed(0)
    model = labkit.create_model("resnet18", num_classes=3, pretrained=False)
    x = labkit.normalize(_images(4, 48), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    y = torch.tensor([0, 1, 2, 0])
    nchw = _grad_error(model, x, y, cl=False)
    cl = _grad_error(model, x, y, cl=True)
    print(f"error relativo del gradiente frente a float64: NCHW {nchw:.1e}, channels-last {cl:.1e}"
          f" ({torch.get_num_threads()} hilos)")
    assert nchw < 1e-4


def test_cache_with_channels_last_matches_uncached_on_pretrained_weights():
    """Con pesos preentrenados, entrenar sobre características extraídas en channels-last da
    la misma historia que sin caché (medido: ~2.5e-5 tras 3 épocas)."""
    from helpers import FAST, make_set

    train, val = make_set(48), make_set(24, seed=1)
    runs = {}
    for cache in (True, False):
        torch.manual_seed(0)
        model = labkit.create_model("efficientnet_lite0", num_classes=3)
        labkit.freeze_to(model, 6)
        with speed.override(channels_last=True):
            h = labkit.fit(model, train, val, epochs=3, lr=3e-3, cache=cache, seed=4, **FAST)
        assert h.cached is cache
        runs[cache] = h.train_loss + h.val_loss
    assert runs[True] == pytest.approx(runs[False], abs=1e-4)


def test_compiled_prefix_is_cached_and_tracks_weights(compile_always):
    """Una compilación por pesos y forma: se reutiliza, y al cambiar los pesos se rehace."""
    model = labkit.create_model("cnn_pequena", num_classes=2, pretrained=False)
    depth = len(layer_groups(model)) - 1
    x = _images(6, 32)
    before = speed.compile_stats()
    with speed.override(channels_last=True, compile=True):
        first = extract_features(model, x, depth)
        extract_features(model, x, depth)
        mid = speed.compile_stats()
        with torch.no_grad():
            next(model.parameters()).mul_(2.0)
        changed = extract_features(model, x, depth)
    after = speed.compile_stats()
    assert mid["compiled"] - before["compiled"] == 1
    assert mid["reused"] - before["reused"] == 1
    assert after["compiled"] - mid["compiled"] == 1  # pesos nuevos: no se sirve el grafo viejo
    assert not torch.allclose(first, changed)
    with speed.override(channels_last=True, compile=False):
        assert torch.allclose(changed, extract_features(model, x, depth), atol=1e-4, rtol=1e-4)


def test_compile_failure_falls_back_silently(compile_always, monkeypatch, recwarn):
    """Si compilar falla, se usa el prefijo normal sin avisar y con el mismo resultado."""
    def boom(*_args, **_kwargs):
        raise RuntimeError("sin compilador")

    monkeypatch.setattr(speed, "_trace", boom)
    model = labkit.create_model("cnn_pequena", num_classes=2, pretrained=False)
    depth = len(layer_groups(model)) - 1
    x = _images(4, 32)
    before = speed.compile_stats()["failed"]
    with speed.override(compile=True):
        out = extract_features(model, x, depth)
    with speed.override(compile=False):
        ref = extract_features(model, x, depth)
    assert speed.compile_stats()["failed"] == before + 1
    torch.testing.assert_close(out, ref)
    assert not [w for w in recwarn if "labkit" in str(w.filename)]


def test_a_compiled_graph_serves_small_sets_too(monkeypatch):
    """Pagada la compilación con el entrenamiento, validación y prueba (pocas) la reutilizan."""
    model = labkit.create_model("cnn_pequena", num_classes=2, pretrained=False)
    depth = len(layer_groups(model)) - 1
    monkeypatch.setattr(speed, "MIN_COMPILE_IMAGES", 8)
    with speed.override(compile=True):
        extract_features(model, _images(8, 32), depth)
        before = speed.compile_stats()
        extract_features(model, _images(3, 32, seed=1), depth)
    after = speed.compile_stats()
    assert after["reused"] == before["reused"] + 1
    assert after["compiled"] == before["compiled"]


def test_few_images_are_not_compiled():
    """Por debajo del umbral no se compila (no compensaría)."""
    model = labkit.create_model("cnn_pequena", num_classes=2, pretrained=False)
    depth = len(layer_groups(model)) - 1
    before = speed.compile_stats()
    with speed.override(compile=True):
        extract_features(model, _images(3, 32), depth)
    assert speed.compile_stats()["compiled"] == before["compiled"]
    assert speed.MIN_COMPILE_IMAGES > 3


@pytest.mark.parametrize("value, expected", [("0", False), ("off", False), ("FALSE", False),
                                             ("1", True), ("", True)])
def test_environment_switches(monkeypatch, value, expected):
    """LABKIT_CHANNELS_LAST=0 y LABKIT_COMPILE=0 apagan cada camino; en MPS nunca se activan."""
    monkeypatch.setenv("LABKIT_CHANNELS_LAST", value)
    monkeypatch.setenv("LABKIT_COMPILE", value)
    assert speed.channels_last_enabled("cpu") is expected
    assert speed.compile_enabled("cpu") is expected
    assert speed.channels_last_enabled("meta") is False
    assert speed.compile_enabled("cuda") is False


def test_place_undoes_channels_last():
    """Sin channels-last, place devuelve los pesos al orden por defecto."""
    model = labkit.create_model("cnn_pequena", num_classes=2, pretrained=False)
    with speed.override(channels_last=True):
        speed.place(model, "cpu")
    with speed.override(channels_last=False):
        speed.place(model, "cpu")
    assert all(p.is_contiguous() for p in model.parameters())
    x = torch.zeros(2, 3, 8, 8)
    with speed.override(channels_last=True):
        assert speed.layout(x, "cpu").is_contiguous(memory_format=torch.channels_last)
    assert speed.layout(torch.zeros(2, 5), "cpu").shape == (2, 5)
