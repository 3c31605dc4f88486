# Laboratorio de Transfer Learning — dos órdenes hacen toda la preparación:
#   make lab    instala lo que necesita quien aprende (.venv) y abre el curso (versión del alumno)
#   make test   instala además las herramientas de desarrollo y ejecuta todas las pruebas
#   make profe  instala además nbgrader y abre los cuadernos con soluciones (docentes)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
# Tres marcas en el mismo .venv, cada una sobre la anterior: lab (lo de quien aprende), y encima
# dev (pruebas) o profe (nbgrader). Así `make lab` y luego `make test` (o al revés) reutilizan el
# entorno y solo instalan lo que falta.
LAB_STAMP   := $(VENV)/.lab
STAMP       := $(VENV)/.instalado
PROFE_STAMP := $(VENV)/.profe
# Opciones de `jupyter lab` para `make lab` y `make profe`: como root (contenedores, máquinas en la
# nube) hace falta --allow-root, y en un Linux sin pantalla (ni DISPLAY, ni WAYLAND_DISPLAY, ni
# BROWSER) no se intenta abrir un navegador: Jupyter escribe la URL con su token. En macOS el
# navegador se abre siempre. LAB_ARGS añade opciones: `make lab LAB_ARGS=--port=9999`.
LAB_ARGS ?=
LAB_OPTS = $$(test "$$(id -u)" = 0 && echo --allow-root) \
	$$(test "$$(uname)" = Linux && test -z "$$DISPLAY$$WAYLAND_DISPLAY$$BROWSER" && \
	echo --no-browser) $(LAB_ARGS)
# Quien aprende no ve nbgrader aunque esté instalado (tras `make test`): sus extensiones de
# servidor quedan apagadas en `make lab` (y no avisan «No nbgrader_config.py file found»).
NO_NBGRADER := $(foreach e,formgrader assignment_list course_list validate_assignment,\
	--ServerApp.jpserver_extensions=nbgrader.server_extensions.$(e)=False)
W7     := .ipywidgets7
# Python 3.12 (el de Colab) para un subconjunto rápido de las pruebas: python3.12 o el de pyenv
# (el primero que de verdad arranque: un «shim» de pyenv sin versión activa no vale).
PY312  ?= $(shell for p in $$(command -v python3.12) $(HOME)/.pyenv/versions/3.12*/bin/python; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && echo "$$p" && break; done)
VENV312 := .venv312
# Pruebas que corren también en 3.12: todo labkit se importa y se ejercita sin modelos grandes
# (unos 20 s; la suite rápida entera también pasa en 3.12, pero tarda ~2,5 min).
PY312_TESTS := tests/test_validate.py tests/test_fileio.py tests/test_exercises.py \
	tests/test_grading.py tests/test_compat.py tests/test_checks.py tests/test_optim.py \
	tests/test_data.py tests/test_course.py tests/test_folders.py tests/test_surfaces.py \
	tests/test_summary.py
# torch se instala con pip en estas versiones exactas; pyproject.toml declara rangos que las admiten.
TORCH  := torch==2.14.1 torchvision==0.29.1

.PHONY: lab profe test test-py312 test-fast notebooks nbgrader student alumnos bench clean

$(LAB_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install $(TORCH)
	$(PY) -m pip install -e ".[lab]"
	touch $@

$(STAMP): $(LAB_STAMP) pyproject.toml
	$(PY) -m pip install -e ".[lab,dev]"
	touch $@

$(PROFE_STAMP): $(LAB_STAMP) pyproject.toml
	$(PY) -m pip install -e ".[lab,profe]"
	touch $@

# ipywidgets 7.7 (lo que trae Colab) al lado del 8, solo para las pruebas de compatibilidad.
$(W7)/.instalado: $(STAMP)
	$(PY) -m pip install --quiet --target $(W7) --no-deps ipywidgets==7.7.1 ipython_genutils widgetsnbextension==3.6.1 'jupyterlab_widgets<2'
	touch $@

# El entorno de 3.12: torch para cp312 no está en el disco de la máquina y pip lo descarga
# (~800 MB; las librerías de CUDA sí están en disco). Medido en una máquina cargada: 67 s y 5,5 GB
# con torch; 445 s y 5,9 GB con todo. Solo la primera vez; --no-compile evita compilar a .pyc
# miles de archivos que estas pruebas no importan.
$(VENV312)/.instalado: pyproject.toml
	$(PY312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install --quiet --no-compile $(TORCH)
	$(VENV312)/bin/python -m pip install --quiet --no-compile -e . pytest nbformat pyyaml
	touch $@

# El curso de quien aprende: la versión sin soluciones (alumnos/).
lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab alumnos/00_guia.ipynb $(NO_NBGRADER) $(LAB_OPTS)

# Docentes: los cuadernos con soluciones y nbgrader (formgrader) en JupyterLab.
profe: $(PROFE_STAMP)
	$(VENV)/bin/jupyter lab notebooks/00_guia.ipynb $(LAB_OPTS)

test: $(STAMP) $(W7)/.instalado
	$(PY) -m pytest tests notebooks --nbval-lax --durations=15
	$(MAKE) test-py312

# Sin Python 3.12 se omite con un aviso, salvo en CI (variable CI definida), donde falla.
test-py312:
	@if [ -z "$(PY312)" ]; then \
	  echo "Aviso: no hay Python 3.12 (python3.12 o pyenv); se omiten las pruebas en 3.12." >&2; \
	  test -z "$$CI"; \
	else \
	  $(MAKE) $(VENV312)/.instalado && \
	  OMP_NUM_THREADS=1 $(VENV312)/bin/python -m pytest -q -p no:cacheprovider \
	    -m "not browser and not slow" $(PY312_TESTS); \
	fi

test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not browser and not slow"

# Vuelve a ejecutar los cuadernos con soluciones y regenera la versión del alumno a partir de ellos.
notebooks: $(STAMP)
	LABKIT_STRICT_CLAIMS=1 $(PY) -m labkit ejecutar notebooks/
	$(PY) -m labkit ejercicios --sin-soluciones notebooks/ alumnos/

# Metadatos de nbgrader de los ejercicios (idempotente; repetir tras editar un cuaderno).
nbgrader: $(STAMP)
	$(PY) -m labkit nbgrader notebooks/

# La versión del alumno (alumnos/, la que abren `make lab` y las insignias): se versiona y se
# regenera con esta orden tras cambiar notebooks/ (tests/test_alumnos.py comprueba que está al día).
alumnos student: $(LAB_STAMP)
	$(PY) -m labkit ejercicios --sin-soluciones notebooks/ alumnos/

bench: $(STAMP)
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_notebooks.py

clean:
	rm -rf $(VENV) $(VENV312) $(W7) .pytest_cache
