"""Pruebas del panel de capas (labkit.summary) con el ejemplo de la guía: ResNet-50."""

from __future__ import annotations

import pytest

from labkit.models import create_model, format_count, freeze_to, layer_groups, replace_head, summary
from labkit.models._summary import GroupRow


@pytest.fixture(scope="module")
def resnet50():
    """ResNet-50 con una cabeza de 1 salida y conv1, layer1 y layer2 congelados."""
    model = create_model("resnet50", pretrained=False)
    replace_head(model, 1)
    freeze_to(model, 3)
    return model


def test_guide_panel_totals(resnet50):
    panel = summary(resnet50)
    assert panel.total == sum(p.numel() for p in resnet50.parameters()) == 23_510_081
    assert panel.frozen == sum(p.numel() for p in resnet50.parameters() if not p.requires_grad)
    assert panel.trainable == sum(p.numel() for p in resnet50.parameters() if p.requires_grad)
    assert format_count(panel.total) == "23.51M"
    assert format_count(panel.frozen) == "1.44M"
    assert format_count(panel.trainable) == "22.07M"
    assert panel.model_name == "resnet50"


def test_imagenet_head_total_is_the_guides_25_6m():
    panel = summary(create_model("resnet50", pretrained=False))
    assert panel.total == sum(p.numel() for p in create_model("resnet50",
                                                               pretrained=False).parameters())
    assert format_count(panel.total) == "25.56M"
    assert panel.frozen == 0


def test_rows_are_consistent(resnet50):
    panel = summary(resnet50)
    groups = layer_groups(resnet50)
    assert [r.name for r in panel.rows] == [g.name for g in groups]
    for row, group in zip(panel.rows, groups):
        assert row.params == group.num_params
        assert row.trainable == group.num_trainable
        assert row.trainable + row.frozen == row.params
    assert [r.state for r in panel.rows] == ["congelado"] * 3 + ["entrena"] * 3
    assert sum(r.params for r in panel.rows) == panel.total
    assert sum(r.frozen for r in panel.rows) == panel.frozen
    assert panel.rows[-1].params == 2049  # 2048 pesos + 1 sesgo


def test_text_and_html_contain_every_group(resnet50):
    panel = summary(resnet50)
    text, page = str(panel), panel._repr_html_()
    for name in ("conv1", "layer1", "layer2", "layer3", "layer4", "fc"):
        assert name in text and f"<td>{name}</td>" in page
    for figure in ("23.51M", "1.44M", "22.07M"):
        assert figure in text and figure in page
    assert text.splitlines()[0].split() == ["grupo", "parámetros", "entrenables", "congelados",
                                            "estado"]
    assert text.splitlines()[-1].split() == ["TOTAL", "23.51M", "22.07M", "1.44M"]
    assert repr(panel) == text
    assert "<caption>resnet50</caption>" in page


def test_text_rows_match_numbers(resnet50):
    panel = summary(resnet50)
    lines = str(panel).splitlines()[1:-1]
    for line, row in zip(lines, panel.rows, strict=True):
        name, params, trainable, frozen, state = line.split()
        assert (name, params, trainable, frozen, state) == (
            row.name, format_count(row.params), format_count(row.trainable),
            format_count(row.frozen), row.state)


def test_mixed_group_state():
    model = create_model("cnn_pequena", pretrained=False)
    model.features[0][0].weight.requires_grad_(False)  # solo la conv del primer bloque
    assert summary(model).rows[0].state == "mixto"
    assert "#fff3cd" in summary(model)._repr_html_()


@pytest.mark.parametrize("n, text", [(0, "0"), (640, "640"), (9_200, "9.2K"), (999_949, "999.9K"), (999_999, "1.00M"),
                                     (1_000_000, "1.00M"), (23_510_081, "23.51M")])
def test_format_count(n, text):
    assert format_count(n) == text


def test_group_row_properties():
    assert GroupRow("x", 10, 4).frozen == 6
    assert GroupRow("x", 10, 0).state == "congelado"
    assert GroupRow("x", 10, 10).state == "entrena"


def test_summary_of_model_without_info():
    import torchvision

    panel = summary(torchvision.models.resnet18(weights=None))
    assert panel.model_name == "ResNet"
    assert panel.total == sum(p.numel() for p in torchvision.models.resnet18().parameters())
