"""Línea de órdenes del curso: ``python -m labkit <orden>``.

Órdenes:
    descargar MODELO [MODELO ...]   descarga pesos preentrenados a la caché de torch
    ejercicios --sin-soluciones ORIGEN DESTINO
                                    escribe la versión del alumno (sin soluciones)
    ejecutar [CARPETA|CUADERNO]     vuelve a ejecutar los cuadernos y guarda sus salidas
    insignias [CARPETA]             reescribe las insignias de Colab y Binder de los cuadernos
    nbgrader [CARPETA]              pone al día los metadatos de nbgrader de los ejercicios
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """``argparse`` con los errores de uso en español (código de salida 2, como argparse)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"Error: la orden no es válida ({message}). "
                     f"Prueba «{self.prog} --help».\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m labkit", description="Laboratorio de Transfer Learning")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("descargar", help="descarga pesos preentrenados (necesita red)")
    p.add_argument("models", nargs="+", metavar="MODELO")
    p = sub.add_parser("ejercicios", help="versión del alumno de los cuadernos")
    p.add_argument("--sin-soluciones", action="store_true", dest="strip", required=True)
    p.add_argument("source", metavar="ORIGEN")
    p.add_argument("dest", metavar="DESTINO")
    p = sub.add_parser("ejecutar", help="ejecuta los cuadernos y guarda sus salidas")
    p.add_argument("folder", nargs="?", default="notebooks", metavar="CARPETA|CUADERNO")
    p = sub.add_parser("insignias", help="reescribe las insignias de Colab y Binder")
    p.add_argument("folder", nargs="?", default="notebooks", metavar="CARPETA")
    p = sub.add_parser("nbgrader", help="pone al día los metadatos de nbgrader de los ejercicios")
    p.add_argument("folder", nargs="?", default="notebooks", metavar="CARPETA")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Punto de entrada de la línea de órdenes.

    Args:
        argv: argumentos (por defecto, los de la línea de órdenes).

    Returns:
        El código de salida: 0 si todo fue bien.
    """
    from .base._errors import LabkitError

    args = _build_parser().parse_args(argv)
    try:
        _run(args)
    except LabkitError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        where = f" «{err.filename}»" if err.filename else ""
        print(f"Error: no se pudo leer o escribir{where}: {err.strerror or err}.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrumpido (Ctrl+C): lo ya escrito está completo; lo demás, sin tocar.",
              file=sys.stderr)
        return 130
    return 0


def _run(args: argparse.Namespace) -> None:
    """Ejecuta la orden ya analizada (los errores los traduce :func:`main`)."""
    if args.command == "descargar":
        from .models._models import download_weights
        for name in args.models:
            print(download_weights(name))
    elif args.command == "ejercicios":
        from .teacher._exercises import write_student_versions
        for path in write_student_versions(args.source, args.dest):
            print(path)
    elif args.command == "ejecutar":
        from .teacher._notebooks import run_notebooks
        run_notebooks(args.folder)
    elif args.command == "insignias":
        from .teacher._course import update_badges
        for path in update_badges(args.folder):
            print(path)
    elif args.command == "nbgrader":
        from .teacher._grading import mark_notebooks
        changed = mark_notebooks(args.folder)
        for path in changed:
            print(path)
        print(f"{len(changed)} cuaderno(s) actualizado(s).")


if __name__ == "__main__":
    sys.exit(main())
