"""Comprobaciones de los ejercicios: un veredicto claro en español para quien aprende.

Cada comprobación muestra una vez su veredicto (✅ correcto, ❌ qué está mal, 💡 una pista) y
devuelve un :class:`CheckResult`, que no se vuelve a mostrar como salida de la celda. Un ejercicio
sin responder (``None`` o ``...``) dice «Ejercicio sin responder» y nunca lanza una excepción; un
error dentro del objeto del alumno se convierte también en un veredicto.

Uso en un cuaderno::

    respuesta = None
    ### BEGIN SOLUTION
    respuesta = "extracción de características"
    ### END SOLUTION
    labkit.checks.check_mode_choice(respuesta)
"""

from __future__ import annotations

from ._groupcheck import check_freeze, check_param_groups
from ._loopcheck import check_training_loop
from ._modecheck import check_mode_measurement
from ._numbercheck import check_accuracy_at_least, check_lr_ratio, check_value
from ._optioncheck import (
    MODE_OPTIONS,
    OVERFITTING_OPTIONS,
    check_mode_choice,
    check_overfitting_answer,
    show_options,
)
from ._practice import check_measured_conclusion, check_prediction_made
from ._readings import check_class_recall, check_fewer_errors, check_threshold_choice
from ._require import grading_mode, require
from ._sweepcheck import check_data_needed, check_depth_choice
from ._verdicts import CheckResult

__all__ = [
    "CheckResult", "MODE_OPTIONS", "OVERFITTING_OPTIONS", "show_options", "check_freeze",
    "check_param_groups", "check_mode_choice", "check_overfitting_answer", "check_value",
    "check_lr_ratio", "check_accuracy_at_least", "check_prediction_made",
    "check_measured_conclusion", "check_depth_choice", "check_data_needed", "check_class_recall",
    "check_threshold_choice", "check_fewer_errors", "check_training_loop", "check_mode_measurement",
    "require", "grading_mode",
]
