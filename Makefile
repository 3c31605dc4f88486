# Laboratorio de Transfer Learning — dos órdenes hacen toda la preparación:
#   make lab    instala el entorno (.venv) y abre el curso en JupyterLab
#   make test   instala el mismo entorno y ejecuta todas las pruebas (cuadernos incluidos)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.instalado
W7     := .ipywidgets7
# torch se instala con pip en estas versiones exactas; pyproject.toml declara rangos que las admiten.
TORCH  := torch==2.14.1 torchvision==0.29.1

.PHONY: lab test test-fast notebooks student bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install $(TORCH)
	$(PY) -m pip install -e ".[lab,dev]"
	touch $(STAMP)

# ipywidgets 7.7 (lo que trae Colab) al lado del 8, solo para las pruebas de compatibilidad.
$(W7)/.instalado: $(STAMP)
	$(PY) -m pip install --quiet --target $(W7) --no-deps ipywidgets==7.7.1 ipython_genutils widgetsnbextension==3.6.1 'jupyterlab_widgets<2'
	touch $@

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/00_guia.ipynb

test: $(STAMP) $(W7)/.instalado
	$(PY) -m pytest tests notebooks --nbval-lax --durations=15

test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not browser and not slow"

notebooks: $(STAMP)
	$(PY) -m labkit ejecutar notebooks/

student: $(STAMP)
	$(PY) -m labkit ejercicios --sin-soluciones notebooks/ alumnos/

bench: $(STAMP)
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_notebooks.py

clean:
	rm -rf $(VENV) $(W7) .pytest_cache
