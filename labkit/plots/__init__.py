"""Las figuras: curvas, matrices de confusión, rejillas de imágenes, barridos, mapas de
características y Grad-CAM.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ..base._figures import PALETTE, format_lr, new_figure
from ._curveplots import plot_history, plot_lr_groups
from ._gradcam import (
    GradCam,
    border_fraction,
    border_mask,
    grad_cam,
    mass_fraction,
    outside_fraction,
    plot_grad_cam,
    spatial_groups,
)
from ._plots import plot_confusion, plot_image_grid, plot_misclassified, plot_predictions
from ._sweepplots import plot_accuracy_vs_samples, plot_sweep
from ._viz import (
    compare_first_layer_filters,
    feature_maps,
    plot_feature_maps,
    plot_first_layer_filters,
)

__all__ = [
    "plot_history", "plot_lr_groups", "GradCam", "grad_cam", "spatial_groups", "border_mask",
    "mass_fraction", "border_fraction", "outside_fraction", "plot_grad_cam", "PALETTE",
    "new_figure", "format_lr", "plot_image_grid", "plot_confusion", "plot_misclassified",
    "plot_predictions", "plot_accuracy_vs_samples", "plot_sweep", "plot_first_layer_filters",
    "compare_first_layer_filters", "feature_maps", "plot_feature_maps",
]
