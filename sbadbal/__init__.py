"""sbadbal: scalable batch acquisition for deep Bayesian active learning.

The library under the Snakemake pipeline. It never imports snakemake: scripts pass it plain arguments.
"""

__version__ = "0.1.0"
