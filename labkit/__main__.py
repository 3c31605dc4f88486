"""Línea de órdenes del curso: ``python -m labkit <orden>``.

Órdenes:
    descargar MODELO [MODELO ...]   descarga pesos preentrenados a la caché de torch
    ejercicios --sin-soluciones ORIGEN DESTINO
                                    escribe la versión del alumno (sin soluciones)
    ejecutar [CARPETA]              vuelve a ejecutar los cuadernos y guarda sus salidas
    insignias [CARPETA]             reescribe las insignias de Colab y Binder de los cuadernos
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m labkit",
                                     description="Laboratorio de Transfer Learning")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("descargar", help="descarga pesos preentrenados (necesita red)")
    p.add_argument("models", nargs="+", metavar="MODELO")
    p = sub.add_parser("ejercicios", help="versión del alumno de los cuadernos")
    p.add_argument("--sin-soluciones", action="store_true", dest="strip", required=True)
    p.add_argument("source", metavar="ORIGEN")
    p.add_argument("dest", metavar="DESTINO")
    p = sub.add_parser("ejecutar", help="ejecuta los cuadernos y guarda sus salidas")
    p.add_argument("folder", nargs="?", default="notebooks", metavar="CARPETA")
    p = sub.add_parser("insignias", help="reescribe las insignias de Colab y Binder")
    p.add_argument("folder", nargs="?", default="notebooks", metavar="CARPETA")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Punto de entrada de la línea de órdenes.

    Args:
        argv: argumentos (por defecto, los de la línea de órdenes).

    Returns:
        El código de salida: 0 si todo fue bien.
    """
    from .errors import LabkitError

    args = _build_parser().parse_args(argv)
    try:
        if args.command == "descargar":
            from .models import download_weights
            for name in args.models:
                print(download_weights(name))
        elif args.command == "ejercicios":
            from .exercises import write_student_versions
            for path in write_student_versions(args.source, args.dest):
                print(path)
        elif args.command == "ejecutar":
            from .notebook_runner import execute_notebooks
            execute_notebooks(args.folder)
        elif args.command == "insignias":
            from .course import update_badges
            for path in update_badges(args.folder):
                print(path)
    except LabkitError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
