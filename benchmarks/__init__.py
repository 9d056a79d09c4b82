"""Speed benchmarks for the encoder zoo (run from the repository root).

    python -m benchmarks.run --all-backends          # writes benchmarks/results/latest.{md,json}
    python -m benchmarks.run --backend jax --families classifier graph

Not part of the installed package: ``benchmarks/`` sits beside ``zoo/`` and
is imported from a checkout.
"""
