"""End-to-end tasks built on the zoo: data, training, evaluation, command line.

TensorFlow may be used here for data pipelines only; models come from `zoo`.

>>> from applications import tasks
>>> tasks.get_task("reconstruction").default_model
'conv_autoencoder'
"""
