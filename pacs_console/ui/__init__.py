"""The thin Qt layer: main window, panels, workers and bridges."""
