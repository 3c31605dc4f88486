"""Herramientas docentes (ningún cuaderno las importa): leer/escribir/ejecutar cuadernos, la
versión del alumno, nbgrader, insignias y cifras del texto.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._course import badges_markdown, binder_url, colab_url, repo_url, update_badges
from ._exercises import has_solutions, strip_solutions, write_student_versions
from ._grading import mark_notebook, mark_notebooks
from ._notebooks import (
    NotebookChangedError,
    execute_notebook,
    list_notebooks,
    read_notebook,
    run_notebook,
    run_notebooks,
    validate,
    write_notebooks,
)
from ._prose import typed_figures

__all__ = [
    "repo_url", "colab_url", "binder_url", "badges_markdown", "update_badges", "has_solutions",
    "strip_solutions", "write_student_versions", "mark_notebook", "mark_notebooks",
    "NotebookChangedError", "list_notebooks", "read_notebook", "validate", "write_notebooks",
    "execute_notebook", "run_notebook", "run_notebooks", "typed_figures",
]
