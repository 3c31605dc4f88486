"""Pruebas de labkit.models: exportar, cargar y predecir una foto nueva (sin red)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import make_set
from PIL import Image

import labkit
from labkit.base import LabkitError
from labkit.models import (
    create_model,
    export,
    load_model,
    model_info,
    predict_image,
    prepare_image,
    read_checkpoint,
)
from labkit.models._checkpointmeta import checksum
from labkit.training import predict

CLASSES = ["gato", "perro", "pez"]


def _splits(size: int = 40) -> labkit.data.DataSplits:
    sets = [make_set(6, k=3, size=size, seed=s) for s in range(3)]
    for part in sets:
        part.classes = list(CLASSES)
    return labkit.data.DataSplits(*sets)


def _model(seed: int = 0, size: int = 40) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model("cnn_pequena", num_classes=_splits(size), pretrained=False)


def _photo(seed: int = 0, shape=(50, 70, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# ----------------------------------------------------------------------------------- exportar
def test_export_load_gives_the_same_predictions(tmp_path):
    model = _model()
    path = export(model, tmp_path / "sub" / "mi_modelo.pt")
    assert [p.name for p in path.parent.iterdir()] == ["mi_modelo.pt"]
    loaded = load_model(path)
    info, again = model_info(model), model_info(loaded)
    assert again.name == "cnn_pequena" and again.categories == CLASSES
    assert (again.mean, again.std) == (info.mean, info.std)
    assert again.input_size == info.input_size == 40
    for seed in range(3):
        photo = _photo(seed)
        first, second = predict_image(model, photo), predict_image(loaded, photo)
        assert [name for name, _ in first] == [name for name, _ in second]
        assert [p for _, p in first] == pytest.approx([p for _, p in second], abs=1e-6)
    data = read_checkpoint(path)
    assert data["family"] == "small_cnn" and data["preprocessing"]["input_size"] == 40


def test_export_of_pretrained_lite0_with_new_head(tmp_path):
    torch.manual_seed(0)
    model = create_model("efficientnet_lite0", num_classes=_splits(64))
    loaded = load_model(export(model, tmp_path / "lite.pt"))
    assert model_info(loaded).pretrained and model_info(loaded).input_size == 64
    x = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    assert torch.allclose(predict(model, x)[1], predict(loaded, x)[1], atol=1e-6)


def test_export_never_overwrites_by_surprise(tmp_path):
    target = tmp_path / "mi_modelo.pt"
    target.write_bytes(b"el trabajo de otra persona")
    with pytest.raises(LabkitError, match="overwrite=True"):
        export(_model(), target)
    assert target.read_bytes() == b"el trabajo de otra persona"
    export(_model(), target, overwrite=True)
    assert model_info(load_model(target)).categories == CLASSES
    with pytest.raises(LabkitError, match="carpeta"):
        export(_model(), tmp_path)
    with pytest.raises(LabkitError, match="overwrite"):
        export(_model(), tmp_path / "otro.pt", overwrite="sí")


def test_export_refuses_nan_weights(tmp_path):
    model = _model()
    with torch.no_grad():
        model.classifier[1].weight[0, 0] = float("nan")
    with pytest.raises(LabkitError, match="NaN"):
        export(model, tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []


def test_export_needs_a_labkit_model(tmp_path):
    with pytest.raises(LabkitError, match="create_model"):
        export(torch.nn.Linear(2, 2), tmp_path / "m.pt")


# ----------------------------------------------------------------------------------- cargar
def _tampered(tmp_path, change) -> str:
    path = export(_model(), tmp_path / "bueno.pt")
    data = torch.load(path, weights_only=True)
    change(data)
    if isinstance(data.get("state_dict"), dict):  # un escritor coherente: suma recalculada
        data["checksum"] = checksum(data)
    bad = tmp_path / "alterado.pt"
    torch.save(data, bad)
    return bad


def _nan_head(data):
    data["state_dict"]["classifier.1.weight"][0, 0] = float("nan")


def _inf_bn(data):
    data["state_dict"]["features.0.1.running_var"][0] = float("inf")


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(classes=["a"]), "1 nombres de clase"),
    (lambda d: d.update(classes="abc"), "lista de nombres"),
    (_nan_head, "NaN o infinitos"),
    (_inf_bn, "NaN o infinitos"),
    (lambda d: d.update(model_name="resnet9000"), "no conoce"),
    (lambda d: d.update(model_name=["cnn_pequena"]), "alterado"),
    (lambda d: d.update(num_classes=2.5), "alterado"),
    (lambda d: d.update(num_classes=4, classes=[]), "ninguna capa lineal"),
    (lambda d: d["preprocessing"].update(std=[0, 1, 1]), "preprocesado"),
    (lambda d: d.update(format="otra cosa"), "no es un checkpoint"),
])
def test_load_model_refuses_bad_files(tmp_path, change, message):
    with pytest.raises(LabkitError, match=message):
        load_model(_tampered(tmp_path, change))


def test_load_model_missing_or_broken_file(tmp_path):
    with pytest.raises(LabkitError, match="No existe"):
        load_model(tmp_path / "nada.pt")
    (tmp_path / "roto.pt").write_bytes(b"no es un modelo")
    with pytest.raises(LabkitError, match="dañado"):
        load_model(tmp_path / "roto.pt")
    with pytest.raises(LabkitError, match="path"):
        load_model(3)


# ----------------------------------------------------------------------------------- predecir
def test_predict_image_names_classes_and_sorts(tmp_path):
    model = _model()
    result = predict_image(model, _photo(), top_k=3)
    assert sorted(name for name, _ in result) == sorted(CLASSES)
    probs = [p for _, p in result]
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1, abs=1e-5)
    assert len(predict_image(model, _photo(), top_k=1)) == 1
    assert len(predict_image(model, _photo(), top_k=50)) == 3  # como mucho, las del modelo


def test_predict_image_matches_the_training_pipeline(tmp_path):
    """Una foto de la carpeta da lo mismo que esa imagen tal como la cargó image_folder."""
    for name in CLASSES[:2]:
        (tmp_path / "fotos" / name).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(_photo(hash((name, i)) % 1000, (60, 90, 3))).save(
                tmp_path / "fotos" / name / f"{i}.png")
    datos = labkit.image_folder(tmp_path / "fotos", image_size=32, val_fraction=0.25,
                                test_fraction=0.25)
    model = create_model("cnn_pequena", num_classes=datos, pretrained=False)
    assert model_info(model).input_size == 32
    photo = tmp_path / "fotos" / "perro" / "2.png"
    x = prepare_image(photo, model_info(model))
    every = torch.cat([datos.train.images, datos.val.images, datos.test.images])
    assert any(torch.equal(x[0], img) for img in every)
    probs = predict(model, x)[1][0]
    result = dict(predict_image(model, photo, top_k=2))
    assert result[datos.classes[0]] == pytest.approx(float(probs[0]), abs=1e-6)


def test_grey_rgba_16bit_and_float_images(tmp_path):
    model = _model()
    grey = _photo(1, (50, 70))
    as_rgb = predict_image(model, np.stack([grey] * 3, axis=-1))
    for variant in [grey, grey[:, :, None], grey.astype(np.uint16) * 257,
                    grey.astype(np.float32) / 255, Image.fromarray(grey),
                    np.dstack([np.stack([grey] * 3, -1), np.full_like(grey, 255)])]:
        got = predict_image(model, variant)
        assert [n for n, _ in got] == [n for n, _ in as_rgb]
        assert [p for _, p in got] == pytest.approx([p for _, p in as_rgb], abs=1e-3)
    path16 = tmp_path / "gris16.png"
    Image.fromarray(grey.astype(np.uint16) * 257).save(path16)
    assert predict_image(model, path16)[0][0] == as_rgb[0][0]
    rgba = tmp_path / "transparente.png"
    Image.fromarray(np.zeros((40, 40, 4), np.uint8)).save(rgba)  # todo transparente → blanco
    white = predict_image(model, np.full((40, 40, 3), 255, np.uint8))
    got = predict_image(model, rgba)
    assert [n for n, _ in got] == [n for n, _ in white]
    assert [p for _, p in got] == pytest.approx([p for _, p in white], abs=1e-6)
    chw = torch.from_numpy(_photo(2)).permute(2, 0, 1)
    assert predict_image(model, chw) == predict_image(model, _photo(2))


@pytest.mark.parametrize("bad, message", [
    (3, "ruta de una foto"),
    (None, "ruta de una foto"),
    (np.zeros((5, 5, 2), np.uint8), "forma"),
    (np.zeros((0, 5, 3), np.uint8), "forma"),
    (np.array([["a"]]), "forma"),
    (np.full((5, 5), np.nan), "NaN"),
])
def test_predict_image_bad_images(bad, message):
    with pytest.raises(LabkitError, match=message):
        predict_image(_model(), bad)


def test_predict_image_unreadable_files(tmp_path):
    fake = tmp_path / "foto.jpg"
    fake.write_text("esto no es una foto")
    with pytest.raises(LabkitError, match="no se puede leer como imagen"):
        predict_image(_model(), fake)
    real = tmp_path / "cortada.png"
    Image.fromarray(_photo()).save(real)
    real.write_bytes(real.read_bytes()[:200])
    with pytest.raises(LabkitError, match="dañada o incompleta"):
        predict_image(_model(), real)
    with pytest.raises(LabkitError, match="No encuentro la imagen"):
        predict_image(_model(), tmp_path / "no_existe.jpg")
    with pytest.raises(LabkitError, match="es una carpeta, no una imagen"):
        predict_image(_model(), tmp_path)


@pytest.mark.parametrize("top_k", [0, -1, "3", 2.5, None])
def test_predict_image_bad_top_k(top_k):
    with pytest.raises(LabkitError, match="top_k"):
        predict_image(_model(), _photo(), top_k=top_k)


def test_predict_image_keeps_the_modes_of_the_model():
    model = _model()
    labkit.freeze_to(model, 2)
    labkit.train_mode(model)
    before = [m.training for m in model.modules()]
    predict_image(model, _photo())
    assert [m.training for m in model.modules()] == before


def test_predict_image_without_class_names():
    model = create_model("cnn_pequena", num_classes=np.int64(4), pretrained=False)
    assert {n for n, _ in predict_image(model, _photo(), top_k=4)} == {
        "clase 0", "clase 1", "clase 2", "clase 3"}


def test_real_photo_with_real_weights():
    """Con los pesos de ImageNet, la taza de café de scikit-image es un espresso."""
    skimage_data = pytest.importorskip("skimage.data")
    model = create_model("efficientnet_lite0")
    (name, prob), *_ = predict_image(model, skimage_data.coffee())
    assert name == "espresso" and prob > 0.5


def test_readme_example_uses_real_functions():
    """Las líneas de «Usa tu modelo» del README llaman a funciones que existen."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Usa tu modelo", 1)[1].split("\n## ", 1)[0]
    called = set(re.findall(r"labkit\.(\w+)\(", section))
    assert {"image_folder", "create_model", "fine_tune", "predict_image", "export",
            "load_model"} <= called
    assert all(callable(getattr(labkit, name)) for name in called)


def test_predict_image_property_labkit_error_or_ranked_classes():
    """Propiedad: con cualquier arreglo y top_k, predict_image da clases ordenadas o LabkitError."""
    hypothesis = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    hnp = pytest.importorskip("hypothesis.extra.numpy")
    model = _model()
    shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6)
    dtypes = st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.float64, np.bool_])
    tops = st.one_of(st.integers(-2, 5), st.none(), st.floats(), st.text(max_size=2))

    @hypothesis.settings(max_examples=80, deadline=None, database=None)
    @hypothesis.given(array=hnp.arrays(dtypes, shapes), top_k=tops)
    def check(array, top_k):
        try:
            result = predict_image(model, array, top_k=top_k)
        except LabkitError:
            return
        probs = [p for _, p in result]
        assert 1 <= len(result) <= 3 and probs == sorted(probs, reverse=True)
        assert all(0 <= p <= 1 for p in probs) and {n for n, _ in result} <= set(CLASSES)

    check()


def test_readme_example_runs_as_written(tmp_path, monkeypatch):
    """Las líneas de «Usa tu modelo» se ejecutan tal cual sobre una carpeta de fotos de verdad
    (tres fotos de scikit-image recortadas al azar, una clase por foto), con los pesos sin red."""
    import re
    from pathlib import Path

    import skimage.data
    from PIL import Image

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Usa tu modelo", 1)[1].split("\n## ", 1)[0]
    code = "\n".join(re.findall(r"```python\n(.*?)```", section, re.DOTALL))
    rng = np.random.default_rng(0)
    for name in ("coffee", "chelsea", "astronaut"):
        photo = getattr(skimage.data, name)()
        (tmp_path / "mis_fotos" / name).mkdir(parents=True)
        for i in range(10):
            top, left = rng.integers(0, 150, size=2)
            crop = photo[top:top + 300, left:left + 300]
            Image.fromarray(crop).save(tmp_path / "mis_fotos" / name / f"{i}.jpg")
    Image.fromarray(skimage.data.coffee()).save(tmp_path / "nueva.jpg")
    monkeypatch.chdir(tmp_path)
    scope = {"labkit": labkit}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 — el código del README, tal cual
    ranking = labkit.predict_image(scope["modelo"], "nueva.jpg")
    assert (tmp_path / "mi_modelo.pt").is_file()
    assert [c for c, _ in ranking][:1] == ["coffee"] and abs(sum(p for _, p in ranking) - 1) < 1e-4
