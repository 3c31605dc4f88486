"""Pruebas de labkit.models sin red: catálogo, cabezas, caché de pesos de torchvision y CLI.

Los modelos se crean con ``pretrained=False`` (pesos aleatorios) salvo donde el objeto de la
prueba son los pesos. Las pruebas de la caché apuntan ``TORCH_HOME`` a una carpeta temporal y
dirigen las descargas a 127.0.0.1 (un puerto cerrado, o un servidor de la prueba que calla o
envía a cuentagotas): ninguna puede colgarse ni tocar la red.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import socket
import threading
import time

import numpy as np
import pytest
import torch
from helpers import make_set
from torch import nn

import labkit
import labkit.models
from labkit.__main__ import main
from labkit.base import LabkitError, WeightsUnavailableError
from labkit.models import MODELS, create_model, model_info, model_table, replace_head, weights_file
from labkit.models._models import MAX_CLASSES

ALL_MODELS = list(MODELS)
SIZE = 64  # lado de las imágenes de prueba (VGG necesita 32 o más)

# Dónde está la última capa lineal de cada familia.
HEADS = {
    "resnet": lambda m: m.fc,
    "vgg": lambda m: m.classifier[6],
    "mobilenet_v2": lambda m: m.classifier[1],
    "mobilenet_v3": lambda m: m.classifier[3],
    "efficientnet": lambda m: m.classifier[1],
    "efficientnet_lite": lambda m: m.classifier,
    "small_cnn": lambda m: m.classifier[1],
}


@pytest.fixture(scope="module")
def models3() -> dict[str, nn.Module]:
    """Cada modelo del catálogo con pesos aleatorios y 3 clases (VGG-16 se crea una vez)."""
    torch.manual_seed(0)
    return {name: create_model(name, num_classes=3, pretrained=False) for name in ALL_MODELS}


def _output(model: nn.Module, size: int = SIZE) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(torch.randn(2, 3, size, size))


# ----------------------------------------------------------------------------------- catálogo
@pytest.mark.parametrize("name", ALL_MODELS)
def test_every_model_builds_offline_with_new_head(models3, name):
    model = models3[name]
    assert _output(model).shape == (2, 3)
    info = model_info(model)
    assert info.name == name and info.family == MODELS[name].family
    assert info.num_classes == 3 and not info.pretrained
    assert not model.training  # create_model devuelve el modelo en evaluación


@pytest.mark.parametrize("name", ALL_MODELS)
def test_the_right_final_layer_is_replaced(models3, name):
    model = models3[name]
    head = HEADS[MODELS[name].family](model)
    assert isinstance(head, nn.Linear) and head.out_features == 3
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert linears[-1] is head  # la cabeza es la última capa lineal del modelo
    assert all(m.out_features != 3 for m in linears[:-1])


@pytest.mark.parametrize("name", [n for n in ALL_MODELS if n not in ("vgg16", "cnn_pequena")])
def test_imagenet_head_is_kept_without_num_classes(name):
    model = create_model(name, pretrained=False)
    assert _output(model, 32).shape == (2, 1000)
    info = model_info(model)
    assert info.num_classes == 1000 and len(info.categories) == 1000


def test_vgg_hidden_layers_untouched_by_new_head(models3):
    classifier = models3["vgg16"].classifier
    assert classifier[0].out_features == 4096 and classifier[3].out_features == 4096


def test_model_info_preprocessing():
    lite0 = model_info(create_model("efficientnet_lite0", pretrained=False))
    assert lite0.mean == (0.5, 0.5, 0.5) and lite0.std == (0.5, 0.5, 0.5)
    assert lite0.input_size == 224
    resnet = model_info(create_model("resnet18", pretrained=False))
    assert resnet.mean == pytest.approx((0.485, 0.456, 0.406))
    assert resnet.input_size == 224 and resnet.resize_size >= 224


def test_imagenet_categories():
    cats = labkit.imagenet_categories()
    assert len(cats) == 1000 and "espresso" in cats and cats[0] == "tench"


def test_model_table_has_metadata():
    rows = {r["modelo"]: r for r in model_table()}
    assert set(rows) == set(MODELS)
    assert rows["resnet50"]["top1_imagenet"] == pytest.approx(80.858)
    assert rows["efficientnet_lite0"]["top1_imagenet"] is None
    assert rows["efficientnet_lite0"]["disponible_sin_red"] is True
    assert rows["cnn_pequena"]["disponible_sin_red"] is False


# ----------------------------------------------------------------------------------- errores
def test_unknown_model_lists_names():
    with pytest.raises(LabkitError, match="No conozco el modelo 'resnet1000'") as info:
        create_model("resnet1000")
    for name in MODELS:
        assert name in str(info.value)


@pytest.mark.parametrize("k", [1, 0, -3])
def test_num_classes_below_two(k):
    with pytest.raises(LabkitError, match="al menos 2 clases"):
        create_model("cnn_pequena", num_classes=k, pretrained=False)


def test_small_cnn_has_no_pretrained_weights():
    with pytest.raises(LabkitError, match="desde cero"):
        create_model("cnn_pequena", num_classes=4)


def test_small_cnn_defaults_to_two_classes():
    model = create_model("cnn_pequena", pretrained=False)
    assert _output(model).shape == (2, 2) and model_info(model).num_classes == 2


def test_model_info_of_foreign_model():
    with pytest.raises(LabkitError, match="no se creó con labkit.create_model"):
        model_info(nn.Linear(2, 2))


# ----------------------------------------------------------------------------------- replace_head
def test_replace_head_single_logit():
    model = create_model("resnet18", num_classes=5, pretrained=False)
    before = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("fc.")}
    assert replace_head(model, 1) is model
    assert _output(model).shape == (2, 1)
    info = model_info(model)
    assert info.num_classes == 1 and info.categories == []
    after = model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())


def test_replace_head_rejects_zero_outputs():
    model = create_model("cnn_pequena", pretrained=False)
    with pytest.raises(LabkitError, match="al menos una salida"):
        replace_head(model, 0)


def test_a_huge_head_is_a_clear_error_not_gigabytes():
    model = create_model("cnn_pequena", num_classes=3, pretrained=False)
    too_many = MAX_CLASSES + 1
    with pytest.raises(LabkitError, match="hasta 100000 clases"):
        replace_head(model, too_many)
    with pytest.raises(LabkitError, match="num_classes"):
        create_model("cnn_pequena", num_classes=too_many, pretrained=False)
    assert model_info(model).num_classes == 3


# ----------------------------------------------------------------------------------- caché de torch
def _closed_port() -> int:
    """Un puerto de 127.0.0.1 en el que no escucha nadie (conectar falla al instante)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """TORCH_HOME en una carpeta temporal y descargas dirigidas a un puerto local cerrado."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # que get_dir() lea TORCH_HOME
    port = _closed_port()
    monkeypatch.setattr(labkit.models._weights, "_weights_url",
                        lambda name: f"http://127.0.0.1:{port}/{name}.pth")
    path = weights_file("resnet18")
    assert path == tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert not path.exists()
    return path


@pytest.fixture(scope="module")
def resnet18_state():
    """Unos pesos de ResNet-18 (aleatorios) con la cabeza original de 1000 clases."""
    torch.manual_seed(1)
    return create_model("resnet18", pretrained=False).state_dict()


def test_weights_loaded_from_cache_without_network(offline_hub, resnet18_state):
    offline_hub.parent.mkdir(parents=True)
    torch.save(resnet18_state, offline_hub)
    assert "resnet18" in labkit.available_models()
    assert "resnet50" not in labkit.available_models()
    model = create_model("resnet18")
    assert model_info(model).pretrained
    loaded = model.state_dict()
    assert loaded.keys() == resnet18_state.keys()
    assert all(torch.equal(loaded[k], v) for k, v in resnet18_state.items())
    # Con cabeza nueva, el resto de los pesos sigue siendo el del archivo.
    model = create_model("resnet18", num_classes=2)
    assert torch.equal(model.layer4[1].conv2.weight, resnet18_state["layer4.1.conv2.weight"])
    assert model.fc.out_features == 2


def test_missing_weights_message(offline_hub):
    assert "resnet18" not in labkit.available_models()
    assert "efficientnet_lite0" in labkit.available_models()
    with pytest.raises(WeightsUnavailableError) as info:
        create_model("resnet18")
    message = str(info.value)
    assert "no están en la caché" in message
    assert "resnet18-f37072fd.pth" in message
    assert str(offline_hub.parent) in message
    assert "python -m labkit descargar resnet18" in message
    assert isinstance(info.value, LabkitError)
    assert not offline_hub.exists()


@pytest.mark.parametrize("garbage", [b"", b"esto no son pesos" * 50])
def test_corrupted_cache_file(offline_hub, garbage):
    offline_hub.parent.mkdir(parents=True)
    offline_hub.write_bytes(garbage)
    with pytest.raises(WeightsUnavailableError, match="dañado") as info:
        create_model("resnet18")
    assert "resnet18-f37072fd.pth" in str(info.value)


def test_truncated_cache_file(offline_hub, resnet18_state, tmp_path):
    whole = tmp_path / "entero.pth"
    torch.save(resnet18_state, whole)
    offline_hub.parent.mkdir(parents=True)
    offline_hub.write_bytes(whole.read_bytes()[:100_000])
    with pytest.raises(WeightsUnavailableError, match="dañado"):
        create_model("resnet18")


def test_cache_file_of_another_architecture(offline_hub):
    offline_hub.parent.mkdir(parents=True)
    torch.save(create_model("cnn_pequena", pretrained=False).state_dict(), offline_hub)
    with pytest.raises(WeightsUnavailableError, match="no corresponde a este modelo"):
        create_model("resnet18")


def test_cli_download_without_network(offline_hub, capsys):
    assert main(["descargar", "resnet18"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ")
    assert "python -m labkit descargar resnet18" in err
    assert "no hay conexión" in err


def test_download_small_cnn_is_a_spanish_error():
    with pytest.raises(LabkitError, match="no tiene pesos preentrenados"):
        labkit.models.download_weights("cnn_pequena")


def test_weights_file_per_source():
    assert weights_file("cnn_pequena") is None
    assert weights_file("efficientnet_lite0").name.endswith(".pth")
    assert weights_file("efficientnet_lite0").exists()


# ----------------------------------------------------------------------------------- descargas con plazo
@contextlib.contextmanager
def _silent_server():
    """Un servidor en 127.0.0.1 que acepta conexiones y nunca responde."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)  # el núcleo acepta la conexión; nadie lee ni contesta
        yield sock.getsockname()[1]


@contextlib.contextmanager
def _http_server(handler):
    """Un servidor HTTP de la prueba en 127.0.0.1, en un hilo que se cierra al salir."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _handler(body: bytes, delay: float = 0.0, declared: int | None = None):
    """Un manejador que envía ``body`` (byte a byte con ``delay`` si se pide) y anuncia
    ``declared`` bytes (por defecto, los de verdad; 0, sin anunciar)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (nombre que exige http.server)
            self.send_response(200)
            if declared != 0:  # 0: sin Content-Length (el cuerpo acaba al cerrar)
                self.send_header("Content-Length", str(declared or len(body)))
            self.end_headers()
            try:
                if not delay:
                    self.wfile.write(body)
                for byte in body if delay else b"":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(delay)
            except OSError:  # el cliente colgó: es lo esperado
                pass

        def log_message(self, *args):
            pass

    return Handler


def _point_downloads_at(monkeypatch, port: int) -> None:
    monkeypatch.setattr(labkit.models._weights, "_weights_url",
                        lambda name: f"http://127.0.0.1:{port}/{name}.pth")


def test_silent_server_does_not_hang_create_model(offline_hub, monkeypatch):
    monkeypatch.setenv("LABKIT_READ_TIMEOUT", "0.5")
    with _silent_server() as port:
        _point_downloads_at(monkeypatch, port)
        start = time.monotonic()
        with pytest.raises(WeightsUnavailableError) as info:
            create_model("resnet18")
        elapsed = time.monotonic() - start
    assert elapsed < 5
    message = str(info.value)
    assert "no respondió en 0.5 s" in message
    assert "resnet18-f37072fd.pth" in message and str(offline_hub.parent) in message
    assert not offline_hub.exists() and not list(offline_hub.parent.glob("*.part"))


def test_silent_server_does_not_hang_the_cli(offline_hub, monkeypatch, capsys):
    monkeypatch.setenv("LABKIT_READ_TIMEOUT", "0.5")
    with _silent_server() as port:
        _point_downloads_at(monkeypatch, port)
        start = time.monotonic()
        assert main(["descargar", "resnet18"]) == 1
        assert time.monotonic() - start < 5
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "no respondió" in err


def test_trickling_server_hits_the_overall_deadline(offline_hub, monkeypatch):
    monkeypatch.setenv("LABKIT_READ_TIMEOUT", "5")
    with _http_server(_handler(b"x" * 1000, delay=0.05)) as port:
        _point_downloads_at(monkeypatch, port)
        start = time.monotonic()
        with pytest.raises(WeightsUnavailableError, match="tiempo máximo de la descarga"):
            labkit.models.download_weights("resnet18", timeout=1)
        assert time.monotonic() - start < 4
    assert not offline_hub.exists() and not list(offline_hub.parent.glob("*.part"))


def test_oversized_download_is_cut(offline_hub, monkeypatch):
    monkeypatch.setattr(labkit.models._weights, "_max_bytes", lambda name: 10_000)
    with _http_server(_handler(b"y" * 200_000, declared=0)) as port:
        _point_downloads_at(monkeypatch, port)
        with pytest.raises(WeightsUnavailableError, match="envía más de"):
            labkit.models.download_weights("resnet18")
    assert not offline_hub.exists() and not list(offline_hub.parent.glob("*.part"))


def test_oversized_announcement_is_refused_before_reading(offline_hub, monkeypatch):
    monkeypatch.setattr(labkit.models._weights, "_max_bytes", lambda name: 10 * 2**20)
    with _http_server(_handler(b"z" * 100, declared=300 * 2**20)) as port:
        _point_downloads_at(monkeypatch, port)
        with pytest.raises(WeightsUnavailableError, match="anuncia 300 MiB"):
            labkit.models.download_weights("resnet18")
    assert not offline_hub.exists() and not list(offline_hub.parent.glob("*.part"))


def test_download_with_wrong_hash_is_not_kept(offline_hub, monkeypatch):
    with _http_server(_handler(b"no son los pesos de verdad")) as port:
        _point_downloads_at(monkeypatch, port)
        with pytest.raises(WeightsUnavailableError, match="f37072fd"):
            labkit.models.download_weights("resnet18")
    assert not offline_hub.exists() and not list(offline_hub.parent.glob("*.part"))


def test_download_verifies_hash_and_loads(offline_hub, monkeypatch, resnet18_state, tmp_path):
    buffer = io.BytesIO()
    torch.save(resnet18_state, buffer)
    body = buffer.getvalue()
    named = offline_hub.with_name(f"resnet18-{hashlib.sha256(body).hexdigest()[:8]}.pth")
    monkeypatch.setattr(labkit.models._weights, "tv_weights_file", lambda name: named)
    with _http_server(_handler(body)) as port:
        _point_downloads_at(monkeypatch, port)
        model = create_model("resnet18", num_classes=2)
    assert named.read_bytes() == body
    assert torch.equal(model.layer1[0].conv1.weight, resnet18_state["layer1.0.conv1.weight"])
    assert model_info(model).pretrained


@pytest.mark.parametrize("value", ["abc", "-1", "0", "inf"])
def test_bad_timeout_env_is_a_spanish_error(offline_hub, monkeypatch, value):
    monkeypatch.setenv("LABKIT_DOWNLOAD_TIMEOUT", value)
    with pytest.raises(LabkitError, match="LABKIT_DOWNLOAD_TIMEOUT"):
        labkit.models.download_weights("resnet18")


# ----------------------------------------------------------------------------------- argumentos (issue 12)
@pytest.mark.parametrize("kwargs, argument", [
    ({"name": ["resnet18"]}, "name"),
    ({"name": None}, "name"),
    ({"name": "cnn_pequena", "num_classes": "3", "pretrained": False}, "num_classes"),
    ({"name": "cnn_pequena", "num_classes": 2.5, "pretrained": False}, "num_classes"),
    ({"name": "cnn_pequena", "num_classes": True, "pretrained": False}, "num_classes"),
    ({"name": "efficientnet_lite0", "pretrained": "no"}, "pretrained"),
    ({"name": "efficientnet_lite0", "pretrained": 0}, "pretrained"),
])
def test_create_model_bad_arguments(kwargs, argument):
    with pytest.raises(LabkitError, match=argument):
        create_model(**kwargs)


@pytest.mark.parametrize("value", [None, "3", 2.5, [3]])
def test_replace_head_bad_outputs(value):
    model = create_model("cnn_pequena", pretrained=False)
    with pytest.raises(LabkitError, match="num_outputs"):
        replace_head(model, value)


def test_numpy_integers_accepted():
    model = create_model("cnn_pequena", num_classes=np.int64(3), pretrained=False)
    assert model_info(model).num_classes == 3
    replace_head(model, np.int32(4))
    assert _output(model).shape == (2, 4)


def test_num_classes_from_data_keeps_names_and_size():
    sets = [make_set(6, k=3, size=40, seed=s) for s in range(3)]
    for part in sets:
        part.classes = ["gato", "perro", "pez"]
    splits = labkit.data.DataSplits(*sets)
    model = create_model("cnn_pequena", num_classes=splits, pretrained=False)
    info = model_info(model)
    assert info.num_classes == 3 and info.categories == ["gato", "perro", "pez"]
    assert info.input_size == 40 and info.resize_size == 40
    lite = create_model("efficientnet_lite0", num_classes=splits.train, pretrained=False)
    assert model_info(lite).categories == ["gato", "perro", "pez"]
    assert lite.classifier.out_features == 3


@pytest.mark.parametrize("name, attr", [("resnet18", "fc"), ("efficientnet_lite0", "classifier")])
def test_num_classes_read_from_a_hand_swapped_head(name, attr):
    model = create_model(name, pretrained=False)
    assert len(model_info(model).categories) == 1000
    in_features = getattr(model, attr).in_features
    setattr(model, attr, nn.Sequential(nn.Dropout(0.1), nn.Linear(in_features, 7)))
    info = model_info(model)
    assert info.num_classes == 7 and info.categories == []  # los 1000 nombres ya no valen
    replace_head(model, 5)
    assert _output(model).shape == (2, 5) and model_info(model).num_classes == 5


def test_head_removed_by_hand_is_a_spanish_error():
    model = create_model("resnet18", pretrained=False)
    model.fc = nn.Identity()
    with pytest.raises(LabkitError, match="No encuentro la cabeza"):
        model_info(model)


def _odd_values():
    """Valores raros para los argumentos (Hypothesis): de todo menos lo esperado, y algo de eso."""
    st = pytest.importorskip("hypothesis.strategies")
    return st.one_of(st.none(), st.booleans(), st.integers(-3, 6), st.floats(allow_nan=True),
                     st.text(max_size=4), st.lists(st.integers(0, 3), max_size=2),
                     st.sampled_from([np.int64(3), np.int32(2), np.float64(2.0), np.bool_(True)]))


def test_model_arguments_give_labkit_error_or_a_valid_model():
    """Propiedad: create_model, replace_head y split_at dan un modelo válido o LabkitError."""
    hypothesis = pytest.importorskip("hypothesis")

    @hypothesis.settings(max_examples=80, deadline=None, database=None)
    @hypothesis.given(name=_odd_values() | hypothesis.strategies.just("cnn_pequena"),
                      n=_odd_values(), pretrained=_odd_values(), outputs=_odd_values(),
                      depth=_odd_values())
    def check(name, n, pretrained, outputs, depth):
        try:
            model = create_model(name, num_classes=n, pretrained=pretrained)
        except LabkitError:
            return
        assert model_info(model).num_classes >= 2
        for call in (lambda: replace_head(model, outputs), lambda: labkit.models.split_at(model, depth)):
            try:
                call()
            except LabkitError:
                pass
        assert _output(model).shape[1] == model_info(model).num_classes

    check()
