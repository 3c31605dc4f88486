"""Barras de progreso que también se leen bien en un cuaderno guardado.

En Jupyter, ``tqdm.auto`` dibuja un widget; el cuaderno guarda además un texto (``text/plain``)
para quien lo abre sin widgets (GitHub, nbviewer). Ese texto es el de la barra recién creada
(«0/15 épocas | | [00:00<?]») salvo que se actualice: aquí la barra se muestra con un
``display_id`` y, al cerrarse, su texto pasa a ser el estado final (o nada si ``leave=False``).
Fuera de Jupyter (terminal, registro) es la barra de texto de siempre.

Ejemplo::

    from labkit.base import progress_bar
    for x in progress_bar(datos, desc="extrayendo"):
        ...
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

__all__ = ["progress_bar"]


def progress_bar(iterable: Iterable | None = None, **options: object) -> object:
    """Una barra de ``tqdm.auto`` cuyo texto guardado en un cuaderno es el estado final.

    Args:
        iterable: lo que se recorre (o ``None`` y ``total=`` para actualizarla a mano).
        **options: las opciones de ``tqdm`` (``total``, ``desc``, ``leave``, ``disable``…);
            ``unit`` es «paso» si no se da (en español, no el «it» de tqdm).

    Returns:
        La barra (un objeto ``tqdm``).
    """
    from tqdm.auto import tqdm

    options.setdefault("unit", "paso")  # nunca el «it/s» de tqdm
    if options.get("file") is None and _is_notebook_tqdm(tqdm) and not options.get("disable"):
        return _saved_text_bar()(iterable, **options)
    return tqdm(iterable, **options)


def _is_notebook_tqdm(cls: type) -> bool:
    """Si ``tqdm.auto`` eligió la barra de Jupyter (un widget) y no la de texto."""
    try:
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:  # sin ipywidgets
        return False
    return issubclass(cls, notebook_tqdm)


@functools.cache
def _saved_text_bar() -> type:
    """La clase de barra de Jupyter que actualiza su texto guardado al cerrarse."""
    from IPython.display import display
    from tqdm.auto import tqdm

    class SavedTextBar(tqdm):
        """``tqdm.auto`` en Jupyter, mostrada con ``display_id`` para actualizar su texto."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **{**kwargs, "display": False})
            self._handle = display(self.container, display_id=True)

        def close(self) -> None:
            super().close()
            handle, self._handle = getattr(self, "_handle", None), None
            if handle is None:
                return
            if self.leave:
                handle.update(self.container)
            else:  # la barra desaparece: que tampoco quede su texto inicial
                handle.update({"text/plain": ""}, raw=True)

    return SavedTextBar
