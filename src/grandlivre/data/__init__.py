"""Reference data shipped in the package: the PCG chart and the default journals."""
