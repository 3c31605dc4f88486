"""Escritores que no pisan y archivos que no se creen a ciegas (issue 22, lado del modelo).

Checkpoints de ``fit``/``fine_tune`` que no reemplazan lo que no escribieron, ``export`` con
creación exclusiva (dos escritores: gana uno), suma de control y metadatos comprobados antes de
crear nada en ``load_model``, clases del modelo frente a las de los datos, mensajes en español
(carpeta, URL, sin permiso, ruta con un archivo en medio), callbacks sin lista y ``ejecutar``
que no pisa un cuaderno editado ni enseña un ``AssertionError`` con Ctrl+C.
"""

from __future__ import annotations

import contextlib
import threading
import warnings

import nbformat
import numpy as np
import pytest
import torch
from helpers import FAST, make_set

import labkit
import labkit.base._writers as writers
import labkit.models._checkpoints as checkpoints
from labkit.base import LabkitError, exclusive_write
from labkit.data import ImageSet
from labkit.models import (
    create_model,
    export,
    load_model,
    model_info,
    predict_image,
    read_checkpoint,
)
from labkit.models._checkpointmeta import checksum
from labkit.teacher import read_notebook, write_notebooks
from labkit.training import (
    BestTracker,
    Callback,
    ClassOrderWarning,
    evaluate,
    fine_tune,
    fit,
    predict,
)


def _model(k: int = 2, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model("cnn_pequena", num_classes=k, pretrained=False)


@pytest.fixture(scope="module")
def pets():
    """Entrenamiento y validación de dos clases, «gato» y «perro»."""
    sets = make_set(32, k=2), make_set(16, k=2, seed=1)
    for s in sets:
        s.classes = ["gato", "perro"]
    return sets


def _swapped(data: ImageSet) -> ImageSet:
    """Las mismas fotos cargadas con el orden de clases al revés (etiquetas coherentes)."""
    return ImageSet(data.images, 1 - data.labels, ["perro", "gato"])


# ------------------------------------------------------------ checkpoint= de fit y fine_tune
def test_fit_checkpoint_refuses_an_existing_export(pets, tmp_path):
    train, val = pets
    saved = export(_model(), tmp_path / "modelo.pt")
    before = saved.read_bytes()
    with pytest.raises(LabkitError, match=r"ya existe y no lo reemplazo.*modelo_2\.pt"):
        fit(_model(seed=1), train, val, epochs=1, checkpoint=saved, **FAST)
    assert saved.read_bytes() == before


def test_fit_and_fine_tune_checkpoint_refuse_a_notebook(pets, tmp_path):
    train, val = pets
    notebook = tmp_path / "03.ipynb"
    notebook.write_text('{"cells": []}', encoding="utf-8")
    with pytest.raises(LabkitError, match="03.ipynb.*ya existe"):
        fit(_model(), train, val, epochs=1, checkpoint=notebook, **FAST)
    with pytest.raises(LabkitError, match="03.ipynb.*ya existe"):
        fine_tune(_model(), train, val, head_epochs=1, epochs=1, checkpoint=notebook, **FAST)
    assert notebook.read_text(encoding="utf-8") == '{"cells": []}'


def test_fit_checkpoint_is_new_and_then_updated_within_the_run(pets, tmp_path):
    train, val = pets
    path = tmp_path / "mejor.pt"
    history = fit(_model(), train, val, epochs=3, checkpoint=path, **FAST)
    assert read_checkpoint(path)["meta"]["epoch"] == history.best_epoch
    with pytest.raises(LabkitError, match="ya existe"):  # la ejecución siguiente: otro nombre
        fit(_model(), train, val, epochs=1, checkpoint=path, **FAST)


def test_fit_checkpoint_in_an_unwritable_folder_is_refused_before_training(pets, tmp_path,
                                                                           monkeypatch):
    import labkit.training._trainargs as trainargs

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permiso denegado")

    train, val = pets
    monkeypatch.setattr(trainargs.tempfile, "mkstemp", denied)
    with pytest.raises(LabkitError, match="No tengo permiso para escribir el checkpoint"):
        fit(_model(), train, val, epochs=1, checkpoint=tmp_path / "m.pt", **FAST)


def test_checkpoint_changed_by_someone_else_mid_run_is_not_replaced(tmp_path):
    path = tmp_path / "mejor.pt"
    best = BestTracker(checkpoint=path, classes=["gato", "perro"])
    model = _model()
    assert best.update(model, 1, val_loss=1.0, val_acc=0.5)
    assert read_checkpoint(path)["meta"]["epoch"] == 1
    path.write_bytes(b"lo guardo otro proceso")
    with pytest.raises(LabkitError, match="cambió en el disco"):
        best.update(model, 2, val_loss=0.5, val_acc=0.7)
    assert path.read_bytes() == b"lo guardo otro proceso"


# ------------------------------------------------------------------- export exclusivo
def test_two_writers_exporting_to_the_same_new_path_one_wins(tmp_path):
    path = tmp_path / "modelo.pt"
    models = [_model(seed=0), _model(seed=1)]
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def writer(i: int) -> None:
        barrier.wait()
        try:
            results[i] = export(models[i], path)
        except LabkitError as err:
            results[i] = err

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, LabkitError)]
    assert len(errors) == 1 and "Ya existe" in str(errors[0])
    winner = results.index(path)
    loaded = load_model(path)  # completo, y del que ganó
    assert all(torch.equal(v, models[winner].state_dict()[k])
               for k, v in loaded.state_dict().items())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["modelo.pt"]


def test_exclusive_write_loses_to_a_file_created_while_writing(tmp_path):
    path = tmp_path / "modelo.pt"
    with pytest.raises(LabkitError, match="Ya existe"), exclusive_write(path, "el modelo") as fh:
        fh.write(b"el mio")
        path.write_bytes(b"el del otro")  # otro proceso llega entre comprobar y publicar
    assert path.read_bytes() == b"el del otro"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["modelo.pt"]  # sin temporales


def test_exclusive_write_without_hard_links_still_refuses_the_second(tmp_path, monkeypatch):
    import errno

    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "sin enlaces duros (FAT, algunos volúmenes de red)")

    monkeypatch.setattr(writers.os, "link", no_links)
    path = export(_model(), tmp_path / "m.pt")
    assert load_model(path) is not None
    with pytest.raises(LabkitError, match="Ya existe"), exclusive_write(path) as fh:
        fh.write(b"otro")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_export_overwrite_still_replaces_on_request(tmp_path):
    path = export(_model(seed=0), tmp_path / "m.pt")
    export(_model(seed=1), path, overwrite=True)
    loaded = load_model(path)
    assert torch.equal(loaded.state_dict()["classifier.1.weight"],
                       _model(seed=1).state_dict()["classifier.1.weight"])


def test_export_into_an_unwritable_folder_is_a_spanish_error(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permiso denegado")

    monkeypatch.setattr(writers.tempfile, "mkstemp", denied)  # como root no hay carpeta sin permiso
    with pytest.raises(LabkitError, match="No tengo permiso para escribir el modelo"):
        export(_model(), tmp_path / "solo_lectura" / "m.pt")


def test_export_under_a_path_whose_parent_is_a_file(tmp_path):
    blocker = tmp_path / "notas.txt"
    blocker.write_text("hola", encoding="utf-8")
    with pytest.raises(LabkitError, match=r"notas\.txt' es un archivo, no una carpeta"):
        export(_model(), blocker / "sub" / "m.pt")
    assert blocker.read_text(encoding="utf-8") == "hola"


def test_save_checkpoint_refuses_to_replace_a_file_that_is_not_a_checkpoint(tmp_path):
    notebook = tmp_path / "03.ipynb"
    notebook.write_text('{"cells": []}', encoding="utf-8")
    with pytest.raises(LabkitError, match="no es un checkpoint"):
        checkpoints.save_checkpoint(_model(), notebook)
    assert notebook.read_text(encoding="utf-8") == '{"cells": []}'
    path = checkpoints.save_checkpoint(_model(seed=0), tmp_path / "m.pt")
    checkpoints.save_checkpoint(_model(seed=1), path)  # un checkpoint sí se reemplaza
    assert torch.equal(read_checkpoint(path)["state_dict"]["classifier.1.bias"],
                       _model(seed=1).state_dict()["classifier.1.bias"])


# ------------------------------------------------------- suma de control y metadatos
def _flip_inside_a_tensor(path, tensor: torch.Tensor) -> None:
    raw = path.read_bytes()
    needle = tensor.detach().contiguous().numpy().tobytes()
    at = raw.find(needle)
    assert at > 0, "los bytes del tensor deben estar tal cual en el archivo"
    flipped = bytearray(raw)
    flipped[at + len(needle) // 2] ^= 0x55
    path.write_bytes(bytes(flipped))


def test_a_flipped_byte_inside_a_tensor_is_refused(tmp_path):
    model = _model()
    path = export(model, tmp_path / "m.pt")
    _flip_inside_a_tensor(path, model.state_dict()["classifier.1.weight"])
    with pytest.raises(LabkitError, match="suma de control no coincide"):
        load_model(path)


def _rewrite(path, change, consistent: bool = True):
    data = torch.load(path, weights_only=True)
    change(data)
    if consistent:  # un escritor que recalcula la suma: solo quedan los metadatos
        with contextlib.suppress(AttributeError):  # (si se puede calcular)
            data["checksum"] = checksum(data)
    torch.save(data, path)
    return path


def test_old_exports_without_checksum_still_load_new_ones_must_have_it(tmp_path):
    model = _model()

    def old(d):
        d.pop("checksum")
        d["version"] = 2

    path = _rewrite(export(model, tmp_path / "viejo.pt"), old, consistent=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # se acepta en silencio (documentado)
        loaded = load_model(path)
    assert torch.equal(loaded.state_dict()["classifier.1.weight"],
                       model.state_dict()["classifier.1.weight"])
    stripped = _rewrite(export(model, tmp_path / "nuevo.pt"), lambda d: d.pop("checksum"),
                        consistent=False)
    with pytest.raises(LabkitError, match="suma de control"):
        load_model(stripped)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(num_classes=10**7, classes=[]), "dice tener 10000000 clases"),
    (lambda d: d["preprocessing"].update(std=[1e-300, 0.5, 0.5]), "desviación"),
    (lambda d: d["preprocessing"].update(mean=[float("nan"), 0.5, 0.5]), "media"),
    (lambda d: d["preprocessing"].update(resize_size=10**6), "resize_size=1000000"),
    (lambda d: d["preprocessing"].update(input_size=True), "tamaños"),
    (lambda d: d.update(preprocessing="224"), "preprocesado"),
    (lambda d: d["state_dict"].update(extra=[1, 2]), "tensores con nombre"),
])
def test_metadata_is_checked_before_anything_is_built(tmp_path, monkeypatch, change, message):
    path = _rewrite(export(_model(), tmp_path / "m.pt"), change)

    def no_alloc(*args, **kwargs):
        raise AssertionError("no debe crear el modelo con metadatos alterados")

    monkeypatch.setattr(checkpoints, "create_model", no_alloc)
    with pytest.raises(LabkitError, match=message):
        load_model(path)
    monkeypatch.undo()
    with pytest.raises(LabkitError, match="alterado"):  # y sin recalcular la suma
        load_model(_rewrite(export(_model(), tmp_path / "otro.pt"), change, consistent=False))


def test_load_model_on_a_folder_or_url(tmp_path):
    with pytest.raises(LabkitError, match="es una carpeta, no un archivo de modelo"):
        load_model(tmp_path)
    url = "https://ejemplo.org/modelos/gatos.pt"
    for call in (load_model, read_checkpoint,
                 lambda u: checkpoints.load_checkpoint("cnn_pequena", u),
                 lambda u: export(_model(), u)):
        with pytest.raises(LabkitError, match="dirección de internet") as info:
            call(url)
        assert url in str(info.value)


# ----------------------------------------------------------------------- predict_image
def test_predict_image_on_a_folder_or_url(tmp_path):
    model = _model()
    with pytest.raises(LabkitError, match="es una carpeta, no una imagen"):
        predict_image(model, tmp_path)
    url = "https://ejemplo.org/fotos//gato.jpg?talla=2"
    with pytest.raises(LabkitError, match=r"(?s)dirección de internet.*urlretrieve") as info:
        predict_image(model, url)
    assert url in str(info.value)  # tal cual, sin «//» colapsado


# ------------------------------------------------------------------ clases del modelo
def test_evaluate_remaps_the_same_classes_in_another_order(pets):
    train, val = pets
    model = create_model("cnn_pequena", num_classes=labkit.data.DataSplits(train, val, val),
                         pretrained=False)
    fit(model, train, val, epochs=3, **FAST)
    right = evaluate(model, val)
    assert right["accuracy"] > 0.9  # si no, la prueba no distingue nada
    with pytest.warns(ClassOrderWarning, match="otro orden"):
        swapped = evaluate(model, _swapped(val))
    assert swapped["accuracy"] == pytest.approx(right["accuracy"])
    assert swapped["recall"] == pytest.approx(right["recall"])
    with pytest.warns(ClassOrderWarning):
        labels, probs = predict(model, _swapped(val))
    plain_labels, plain_probs = predict(model, val)
    assert torch.equal(labels, 1 - plain_labels)
    assert torch.allclose(probs, plain_probs.flip(1))


def test_other_class_names_are_refused(pets):
    train, val = pets
    model = _model()
    fit(model, train, val, epochs=1, **FAST)
    assert model_info(model).categories == ["gato", "perro"]  # fit le da sus nombres
    english = ImageSet(val.images, val.labels, ["cat", "dog"])
    with pytest.raises(LabkitError, match=r"(?s)\['gato', 'perro'\].*\['cat', 'dog'\]"):
        evaluate(model, english)
    with pytest.raises(LabkitError, match="replace_head"):
        predict(model, english)
    with pytest.raises(LabkitError, match="otro orden"):
        fit(model, _swapped(train), _swapped(val), epochs=1, **FAST)
    with pytest.raises(LabkitError, match="otro orden"):
        fine_tune(model, _swapped(train), _swapped(val), head_epochs=1, epochs=1, **FAST)


def test_models_without_names_keep_working(pets):
    train, val = pets
    model = _model()  # create_model(num_classes=2): sin nombres
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(model, _swapped(val))
        predict(model, val)
    assert model_info(model).categories == []
    labkit.replace_head(model, 2)
    fit(model, _swapped(train), _swapped(val), epochs=1, **FAST)
    assert model_info(model).categories == ["perro", "gato"]


def test_exported_names_travel_and_are_checked(pets, tmp_path):
    train, val = pets
    model = _model()
    fit(model, train, val, epochs=1, **FAST)
    loaded = load_model(export(model, tmp_path / "m.pt"))
    assert model_info(loaded).categories == ["gato", "perro"]
    with pytest.warns(ClassOrderWarning):
        evaluate(loaded, _swapped(val))


# -------------------------------------------------------------------------- callbacks
class _Count(Callback):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, state):
        self.epochs += 1


def test_a_single_callback_is_accepted_and_junk_is_a_spanish_error(pets):
    train, val = pets
    count = _Count()
    fit(_model(), train, val, epochs=2, callbacks=count, **FAST)
    assert count.epochs == 2
    for junk in (42, [count, "x"], print):
        with pytest.raises(LabkitError, match="callbacks: llegó"):
            fit(_model(), train, val, epochs=1, callbacks=junk, **FAST)


# --------------------------------------------------------------------------- ejecutar
class _FakeClient:
    """Un NotebookClient que no arranca núcleo: ejecuta ``action`` en lugar de las celdas."""

    action = staticmethod(lambda client: None)

    def __init__(self, nb, **kwargs):
        self.nb = nb

    def execute(self):
        type(self).action(self)
        self.nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(1)")]
    write_notebooks({path: nb})
    return path


def _outputs(path):
    return [o.text for o in read_notebook(path).cells[0].outputs]


def test_ejecutar_does_not_overwrite_a_notebook_edited_while_it_ran(tmp_path, monkeypatch):
    import nbclient

    from labkit.teacher import run_notebook

    path = _notebook(tmp_path / "03.ipynb")
    edited = path.read_text(encoding="utf-8").replace("print(1)", "print(2)  # mi cambio")

    def learner_saves(client):
        path.write_text(edited, encoding="utf-8")

    monkeypatch.setattr(_FakeClient, "action", staticmethod(learner_saves))
    monkeypatch.setattr(nbclient, "NotebookClient", _FakeClient)
    with pytest.raises(LabkitError, match=r"cambió en el disco.*03\.ejecutado\.ipynb"):
        run_notebook(path)
    assert path.read_text(encoding="utf-8") == edited  # el cambio sigue ahí
    copy = tmp_path / "03.ejecutado.ipynb"
    assert _outputs(copy) == ["1\n"]
    path.write_text(edited + " ", encoding="utf-8")
    with pytest.raises(LabkitError, match=r"03\.ejecutado-2\.ipynb"):  # nunca pisa la copia
        run_notebook(path)


def test_ejecutar_writes_back_an_unchanged_notebook(tmp_path, monkeypatch):
    import nbclient

    from labkit.teacher import run_notebook

    path = _notebook(tmp_path / "01.ipynb")
    monkeypatch.setattr(nbclient, "NotebookClient", _FakeClient)
    run_notebook(path)
    assert _outputs(path) == ["1\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01.ipynb"]


def test_ctrl_c_on_ejecutar_says_interrumpido(tmp_path, monkeypatch, capsys):
    import nbclient

    from labkit.__main__ import main

    path = _notebook(tmp_path / "02.ipynb")
    before = path.read_bytes()

    def ctrl_c_then_nbclient_cleanup_fails(client):
        client._async_cleanup_kernel_future = object()  # lo que deja nbclient al ver SIGINT
        raise AssertionError  # lo que nbclient lanzaba después

    monkeypatch.setattr(_FakeClient, "action", staticmethod(ctrl_c_then_nbclient_cleanup_fails))
    monkeypatch.setattr(nbclient, "NotebookClient", _FakeClient)
    assert main(["ejecutar", str(path)]) == 130
    err = capsys.readouterr().err
    assert "Interrumpido" in err and "AssertionError" not in err
    assert path.read_bytes() == before


def test_ordinary_errors_in_ejecutar_are_not_called_interruptions(tmp_path, monkeypatch):
    import nbclient

    from labkit.teacher import run_notebook

    def broken(client):
        raise RuntimeError("otra cosa")

    monkeypatch.setattr(_FakeClient, "action", staticmethod(broken))
    monkeypatch.setattr(nbclient, "NotebookClient", _FakeClient)
    with pytest.raises(RuntimeError, match="otra cosa"):
        run_notebook(_notebook(tmp_path / "04.ipynb"))


def test_photo_prediction_after_reload_is_unchanged(tmp_path):
    """Control: lo de arriba no cambia lo que un modelo exportado predice."""
    model = _model()
    photo = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    loaded = load_model(export(model, tmp_path / "m.pt"))
    assert [n for n, _ in predict_image(model, photo)] == [n for n, _ in predict_image(loaded,
                                                                                        photo)]


# ------------------------------------------------------------- imágenes demasiado pequeñas
def test_images_too_small_for_the_model_say_make_them_bigger():
    tiny = make_set(8, k=2, size=8)
    model = _model()
    for call in (lambda: evaluate(model, tiny), lambda: predict(model, tiny),
                 lambda: fit(model, tiny, tiny, epochs=1, **FAST)):
        # La CNN pequeña lo dice ella misma (gancho en su primer bloque); otros modelos, el bucle.
        with pytest.raises(LabkitError, match=r"8×8.*más grandes"):
            call()


def test_property_any_flipped_byte_is_an_error_or_changes_nothing(tmp_path):
    """Propiedad: un byte cambiado en cualquier sitio de un export da un LabkitError o un modelo
    idéntico (pesos, clases, preprocesado), nunca un modelo alterado en silencio ni otro error."""
    hypothesis = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    torch.manual_seed(0)
    model = create_model("cnn_pequena", num_classes=labkit.data.DataSplits(*[make_set(4, k=2)] * 3),
                         pretrained=False)
    original = export(model, tmp_path / "m.pt").read_bytes()
    info = model_info(model)
    target = tmp_path / "roto.pt"

    @hypothesis.settings(max_examples=120, deadline=None, database=None)
    @hypothesis.given(where=st.floats(0, 1, exclude_max=True), mask=st.integers(1, 255))
    def check(where, mask):
        raw = bytearray(original)
        raw[int(where * len(raw))] ^= mask
        target.write_bytes(bytes(raw))
        try:
            loaded = load_model(target)
        except LabkitError:
            return
        again = model_info(loaded)
        assert (again.categories, again.mean, again.std, again.input_size, again.resize_size) \
            == (info.categories, info.mean, info.std, info.input_size, info.resize_size)
        assert all(torch.equal(v, model.state_dict()[k]) for k, v in loaded.state_dict().items())

    check()
