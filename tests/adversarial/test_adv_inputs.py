"""Entradas equivocadas en las funciones públicas: un ``LabkitError`` en español, nunca una traza.

La primera parte cubre los módulos de este bloque (datos, configuración, comprobaciones). La
segunda repasa los casos del issue 12 que corrigen otros módulos (modelos, carpetas,
entrenamiento); los que aún no han llegado están marcados ``xfail(strict=False)``.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import labkit.checks as checks
from labkit.base import LabkitError, data_dir, seed_everything
from labkit.data import ImageSet, normalize, resize_images


def _images(n: int = 4) -> torch.Tensor:
    return torch.zeros(n, 3, 8, 8, dtype=torch.uint8)


# ------------------------------------------------------------------------- ImageSet y datos
def test_imageset_accepts_list_and_numpy_labels():
    assert ImageSet(_images(), [0, 1, 0, 1], ["a", "b"]).labels.dtype == torch.int64
    assert ImageSet(_images(), np.array([0, 1, 1, 0]), ["a", "b"]).class_counts() == {"a": 2, "b": 2}


@pytest.mark.parametrize("labels, match", [
    ([0.5, 1, 0, 1], "enteros"), ([True, False, True, False], "enteros"),
    ([[0], [1], [0], [1]], "una sola dimensión"), ([0, 1, 2, 1], "de 0 a 1"),
    ([-1, 0, 1, 0], "de 0 a 1"), ("0101", "enteros"), (None, "enteros|etiquetas"),
    ([0, 1], "4 imágenes pero 2 etiquetas"), ([0, 1, "a", 0], "enteros"),
])
def test_imageset_rejects_bad_labels(labels, match):
    with pytest.raises(LabkitError, match=match):
        ImageSet(_images(), labels, ["a", "b"])


@pytest.mark.parametrize("images", [np.zeros((4, 3, 8, 8), np.uint8), [[0]], None,
                                    torch.zeros(4, 3, 8, 8), torch.zeros(4, 1, 8, 8, dtype=torch.uint8)])
def test_imageset_rejects_bad_images(images):
    with pytest.raises(LabkitError, match="uint8"):
        ImageSet(images, [0, 1, 0, 1], ["a", "b"])


@pytest.mark.parametrize("classes", ["ab", [], [1, 2], None, ("a", None)])
def test_imageset_rejects_bad_classes(classes):
    with pytest.raises(LabkitError, match="classes"):
        ImageSet(_images(), [0, 1, 0, 1], classes)


@pytest.mark.parametrize("call, match", [
    (lambda s: s.take("2"), "n:"), (lambda s: s.take(2.0), "n:"), (lambda s: s.take(0), "n:"),
    (lambda s: s.take(2, seed=-1), "seed"), (lambda s: s.take(2, seed=1.5), "seed"),
    (lambda s: s.take(np.int64(2), seed=np.int32(3)), None),
    (lambda s: s.subset([0, 9]), "fuera"), (lambda s: s.subset([0.5]), "enteros"),
    (lambda s: s.subset("ab"), "enteros|indices"), (lambda s: s.subset([[0, 1]]), "enteros"),
])
def test_imageset_methods_check_their_arguments(call, match):
    data = ImageSet(_images(), [0, 1, 0, 1], ["a", "b"])
    if match is None:
        assert len(call(data)) == 2
        return
    with pytest.raises(LabkitError, match=match):
        call(data)


@pytest.mark.parametrize("size", [0, -3, 2.5, "8", (8,), (8, 0), None, 10**6])
def test_resize_images_checks_size(size):
    with pytest.raises(LabkitError, match="size"):
        resize_images(_images(), size)


@pytest.mark.parametrize("mean, std", [((0.5,), (0.5, 0.5, 0.5)), ((0.5,) * 3, (0, 1, 1)),
                                       ("abc", (1, 1, 1)), ((0.5,) * 3, (float("nan"),) * 3)])
def test_normalize_checks_mean_and_std(mean, std):
    with pytest.raises(LabkitError, match="normalize"):
        normalize(_images(), mean, std)


# ------------------------------------------------------------------------- configuración
def test_labkit_data_pointing_at_a_file(tmp_path, monkeypatch):
    (tmp_path / "archivo").write_text("x", encoding="utf-8")
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "archivo"))
    with pytest.raises(LabkitError, match="LABKIT_DATA apunta a .* es un archivo"):
        data_dir()
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "archivo" / "dentro"))
    with pytest.raises(LabkitError, match="No se pudo crear LABKIT_DATA"):
        data_dir()


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_seed_everything_checks_the_seed(seed):
    with pytest.raises(LabkitError, match="seed"):
        seed_everything(seed)


def _draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), torch.rand(1).item()


@pytest.mark.parametrize("seed, as_int", [(2**40, 2**40), (np.int64(7), 7)])
def test_seed_everything_accepts_big_and_numpy_seeds(seed, as_int):
    seed_everything(seed)
    assert torch.initial_seed() == as_int
    first = _draws()
    seed_everything(seed)
    assert _draws() == first                      # la misma semilla repite las tres fuentes
    np.random.seed(as_int % 2**32)                # NumPy, con la semilla reducida a 32 bits
    assert float(np.random.rand()) == first[1]
    seed_everything(as_int + 1)
    assert _draws() != first                      # y otra semilla no


# ------------------------------------------------------------------------- comprobaciones
@pytest.mark.parametrize("call", [
    lambda: checks.check_value(1.0, expected="uno"),
    lambda: checks.check_value(1.0, expected=float("nan")),
    lambda: checks.check_value(1.0, expected=None),
    lambda: checks.check_value(1.0, expected=1.0, tol=-1),
    lambda: checks.check_value(1.0, expected=1.0, hint=None),
    lambda: checks.check_lr_ratio(1e-6, head_lr=0),
    lambda: checks.check_lr_ratio(1e-6, ratio=0),
    lambda: checks.check_lr_ratio(1e-6, ratio="10"),
    lambda: checks.check_lr_ratio(1e-6, n_groups=0),
    lambda: checks.check_lr_ratio([1e-6], n_groups=2.5),
    lambda: checks.check_accuracy_at_least(0.9, threshold="80"),
    lambda: checks.check_accuracy_at_least(0.9, threshold=150),
    lambda: checks.check_accuracy_at_least(0.9, threshold=-1),
    lambda: checks.check_accuracy_at_least(0.9, threshold=float("inf")),
    lambda: checks.check_mode_choice("a", n_images=0),
    lambda: checks.check_mode_choice("a", n_images="50"),
    lambda: checks.check_freeze(torch.nn.Linear(2, 2), depth=1.5, groups=[]),
])
def test_a_teachers_bad_setting_never_blames_the_student(call, capsys):
    result = call()
    assert result.passed is None, result.message
    assert "No se pudo comprobar" in result.message and "enunciado" in result.message
    assert "❌" not in capsys.readouterr().out


def test_numpy_settings_are_fine(capsys):
    assert checks.check_mode_choice("a", n_images=np.int64(50)).passed is True
    assert checks.check_lr_ratio(1e-6, n_groups=np.int32(3)).passed is True
    assert checks.check_value(np.float32(0.5), expected=np.float64(0.5), tol=1e-6).passed is True


# ------------------------------------------------------------------------- módulos de otros
def _small_model():
    from labkit.models import create_model
    return create_model("cnn_pequena", num_classes=3, pretrained=False)


def _tiny_set():
    images = torch.randint(0, 255, (6, 3, 16, 16), dtype=torch.uint8)
    return ImageSet(images, [0, 1, 2, 0, 1, 2], ["a", "b", "c"])


def _others():
    from labkit.data import image_folder
    from labkit.models import create_model, freeze_to, replace_head, split_at
    from labkit.training import fit

    fast = {"progress": False, "batch_size": 4}
    return [
        ("models", "create_model(['resnet18'])", lambda tmp: create_model(["resnet18"])),
        ("models", "create_model(num_classes='3')",
         lambda tmp: create_model("cnn_pequena", num_classes="3", pretrained=False)),
        ("models", "create_model(num_classes=2.5)",
         lambda tmp: create_model("cnn_pequena", num_classes=2.5, pretrained=False)),
        ("models", "create_model(pretrained='no')",
         lambda tmp: create_model("efficientnet_lite0", pretrained="no")),
        ("models", "replace_head(m, None)", lambda tmp: replace_head(_small_model(), None)),
        ("models", "replace_head(m, '3')", lambda tmp: replace_head(_small_model(), "3")),
        ("groups", "split_at(m, 1.5)", lambda tmp: split_at(_small_model(), 1.5)),
        ("freezing", "freeze_to(m, '1')", lambda tmp: freeze_to(_small_model(), "1")),
        ("folders", "image_folder(val_fraction='0.1')",
         lambda tmp: image_folder(tmp, val_fraction="0.1")),
        ("folders", "image_folder(seed=-1)", lambda tmp: image_folder(tmp, seed=-1)),
        ("folders", "image_folder(max_per_class=2.5)",
         lambda tmp: image_folder(tmp, max_per_class=2.5)),
        ("folders", "image_folder(image_size='big')",
         lambda tmp: image_folder(tmp, image_size="big")),
        ("training", "fit(seed=1.5)",
         lambda tmp: fit(_small_model(), _tiny_set(), _tiny_set(), epochs=1, seed=1.5, **fast)),
        ("training", "fit(epochs='2')",
         lambda tmp: fit(_small_model(), _tiny_set(), _tiny_set(), epochs="2", **fast)),
        ("training", "fit(lr=-1)",
         lambda tmp: fit(_small_model(), _tiny_set(), _tiny_set(), epochs=1, lr=-1, **fast)),
        ("training", "fit(device='cuda') sin CUDA",
         lambda tmp: fit(_small_model(), _tiny_set(), _tiny_set(), epochs=1, device="cuda",
                         **fast) if not torch.cuda.is_available() else _raise()),
        ("training", "fit(train=lista)",
         lambda tmp: fit(_small_model(), [1, 2], _tiny_set(), epochs=1, **fast)),
    ]


def _raise():
    raise LabkitError("hay CUDA: el caso no aplica")


# Casos que, al escribir esta prueba, aún daban otra excepción: su módulo es de otro bloque.
PENDING: set[str] = set()  # casos que otro bloque aún no corrige (hoy, ninguno)


def _params():
    out = []
    for owner, label, call in _others():
        marks = [pytest.mark.xfail(strict=False, reason=f"labkit.{owner}: lo corrige otro "
                                                         "bloque del issue 12")] \
            if label in PENDING else []
        out.append(pytest.param(call, id=label, marks=marks))
    return out


@pytest.mark.parametrize("call", _params())
def test_other_entry_points_give_a_spanish_error(call, tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(LabkitError):
        call(tmp_path)
