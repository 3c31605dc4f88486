"""Herramientas docentes (ningún cuaderno las importa): leer/escribir/ejecutar cuadernos, la
versión del alumno, nbgrader, insignias y cifras del texto.

Los módulos ``_*.py`` son privados: se usa lo que lista ``__all__``.
"""

from ._course import (
    BADGES_END,
    BADGES_START,
    DEFAULT_REPO_URL,
    STUDENT_FOLDER,
    TEACHER_FOLDER,
    badges_markdown,
    binder_url,
    colab_url,
    repo_url,
    setup_cell_source,
    update_badges,
)
from ._exercises import (
    CODE_PLACEHOLDER,
    MANIFEST_NAME,
    MARKDOWN_PLACEHOLDER,
    has_solutions,
    strip_solutions,
    write_student_versions,
)
from ._grading import TEST_HEADER, mark_notebook, mark_notebooks
from ._notebooks import (
    NotebookChangedError,
    execute_notebook,
    file_sha256,
    list_notebooks,
    notebook_text,
    read_notebook,
    run_notebook,
    run_notebooks,
    validate,
    write_notebooks,
)
from ._prose import FIGURE, MARKERS, typed_figures

__all__ = [
    "DEFAULT_REPO_URL", "STUDENT_FOLDER", "TEACHER_FOLDER", "repo_url", "colab_url", "binder_url",
    "badges_markdown", "setup_cell_source", "update_badges", "BADGES_START", "BADGES_END",
    "CODE_PLACEHOLDER", "MARKDOWN_PLACEHOLDER", "MANIFEST_NAME", "has_solutions",
    "strip_solutions", "write_student_versions", "TEST_HEADER", "mark_notebook", "mark_notebooks",
    "NotebookChangedError", "list_notebooks", "read_notebook", "validate", "notebook_text",
    "file_sha256", "write_notebooks", "execute_notebook", "run_notebook", "run_notebooks",
    "FIGURE", "MARKERS", "typed_figures",
]
